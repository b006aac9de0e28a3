// What the HTML report plots for one scenario: the sequence number against time, read from the
// scenario's history.jsonl, and the timeline events as markers. A long run can hold millions of
// records, so the file is streamed twice: once for the time range, once to keep, per time bucket,
// only the lowest and the highest number seen. Keeping both ends of each bucket means a reset or
// a rewind still shows as a drop, however many points are thrown away.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseHistoryLine, type HistoryEvent, type TimelineEvent } from '../checker/history.ts';

/** A timeline event as the plot shows it: when (ms after the first event), what, and a label. */
export interface PlotMarker {
  t: number;
  kind: TimelineEvent['kind'];
  label: string;
}

export interface PlotSeries {
  /** Epoch ms of the first event: every `t` below counts from it. */
  t0: number;
  /** The last event's time, from t0. */
  span: number;
  /** [ms from t0, sequence number], in time order. */
  points: Array<[number, number]>;
  markers: PlotMarker[];
  /** Record lines in the history, and how many of them `points` keeps. */
  records: number;
  shown: number;
  /** Markers left out past the limit (checkpoints of a very long run). */
  markersDropped: number;
}

export interface PlotLimits {
  /** At most this many points (two per time bucket). */
  maxPoints: number;
  maxMarkers: number;
}

export const DEFAULT_PLOT_LIMITS: PlotLimits = { maxPoints: 2000, maxMarkers: 1000 };

/** The number a record line carries: our job's `seq`, or the blog job's `n`. */
function numberOf(ev: HistoryEvent): number | undefined {
  if (ev.kind === 'record') return ev.seq;
  if (ev.kind === 'number') return ev.n;
  return undefined;
}

function label(ev: TimelineEvent): string {
  switch (ev.kind) {
    case 'fault':
      return ev.name;
    case 'checkpoint':
      return `checkpoint ${ev.id}`;
    case 'savepoint':
      return `savepoint ${ev.path}${ev.seq === undefined ? '' : ` (seq ${ev.seq})`}`;
    case 'suspend':
      return 'suspend';
    case 'resume':
      return 'resume';
    case 'restore':
      return `restore from ${ev.from}${ev.id === undefined ? '' : ` ${ev.id}`}${ev.path ? ` ${ev.path}` : ''}`;
    case 'expect-reset':
      return 'reset expected';
    case 'expect-rewind':
      return `rewind to ${ev.to} expected`;
  }
}

/** Each valid history event in the file; damaged lines are skipped (the checker reports them). */
async function* events(file: string): AsyncGenerator<HistoryEvent> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const ev = parseHistoryLine(line);
    if (ev && !('error' in ev)) yield ev;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The plot of one history file; an absent file (the scenario failed before it began) plots nothing. */
export async function readPlotSeries(file: string, limits: PlotLimits = DEFAULT_PLOT_LIMITS): Promise<PlotSeries> {
  const series: PlotSeries = { t0: 0, span: 0, points: [], markers: [], records: 0, shown: 0, markersDropped: 0 };
  let first = Infinity;
  let last = -Infinity;
  try {
    for await (const ev of events(file)) {
      first = Math.min(first, ev.t);
      last = Math.max(last, ev.t);
      if (numberOf(ev) !== undefined) series.records++;
    }
  } catch (err) {
    if (isMissing(err)) return series;
    throw err;
  }
  if (first === Infinity) return series;
  series.t0 = first;
  series.span = last - first;

  const everyPoint = series.records <= limits.maxPoints;
  const buckets = Math.max(1, Math.floor(limits.maxPoints / 2));
  const width = series.span / buckets || 1;
  const low = new Map<number, [number, number]>();
  const high = new Map<number, [number, number]>();
  for await (const ev of events(file)) {
    const t = ev.t - first;
    const n = numberOf(ev);
    if (n === undefined) {
      const timeline = ev as TimelineEvent;
      if (series.markers.length < limits.maxMarkers) series.markers.push({ t, kind: timeline.kind, label: label(timeline) });
      else series.markersDropped++;
    } else if (everyPoint) {
      series.points.push([t, n]);
    } else {
      const b = Math.min(buckets - 1, Math.floor(t / width));
      const lo = low.get(b);
      if (!lo || n < lo[1]) low.set(b, [t, n]);
      const hi = high.get(b);
      if (!hi || n > hi[1]) high.set(b, [t, n]);
    }
  }
  if (!everyPoint) {
    for (let b = 0; b < buckets; b++) {
      const pair = [low.get(b), high.get(b)].filter((p): p is [number, number] => p !== undefined);
      // One point when the bucket's lowest and highest are the same record.
      const unique = pair.length === 2 && pair[0]![0] === pair[1]![0] && pair[0]![1] === pair[1]![1] ? [pair[0]!] : pair;
      series.points.push(...unique.sort((a, z) => a[0] - z[0]));
    }
  }
  // The history is in the order the recorder learned of things, not strictly by time.
  series.points.sort((a, z) => a[0] - z[0]);
  series.markers.sort((a, z) => a.t - z.t);
  series.shown = series.points.length;
  return series;
}
