// The continuity checker (Jepsen's total-queue semantics plus state-loss detection): fed one
// observation or timeline event at a time, in the order they happened, it keeps only intervals,
// replays, windows and pending liveness checks, so memory stays flat however long the run.
// finish() gives the verdict; call it once output has settled (what is still in flight at the
// end is reported as unseen, not lost).
//
// The rules (DESIGN.md section 5):
// - lost: a number between the lowest and the highest seen that never arrived -> FAIL.
// - unexpected: an impossible value (our sequence starts at 1) -> FAIL; malformed lines -> FAIL.
// - duplicates: a replay may repeat what came after the last completed snapshot before a fault,
//   up to the last number seen before the restart. With a history that has checkpoints, repeats
//   outside those windows FAIL; without one a replay cannot be told from a duplicate: reported.
// - reset: a sequence falling back to its start after higher numbers -> FAIL, unless declared,
//   or unless no snapshot existed yet (the window then reaches back to the start).
// - liveness: after each fault (or resume) the mark must pass its pre-fault value in time.
import type { HistoryEvent } from './history.ts';
import { IntervalSet } from './intervals.ts';
import { Liveness, type LivenessTarget } from './liveness.ts';
import { NumberTracks } from './number-tracks.ts';
import { ADVANCE, DUP, type Episode, FILL, LIST_LIMIT, Track } from './track.ts';
import { buildVerdict, type CheckerState, settledMark } from './verdict-builder.ts';
import type { ReplayWindow, Sample, Verdict } from './verdict.ts';

/** Which job a record line comes from. */
export const SEQ = 0; // ours: `SEQ seq=<n> subtask=<i> attempt=<a>`, one sequence from 1
export const NUMBER = 1; // the blog's: `[K> ]Number: <n>`, sequences from 0 and from each split

/** Counts while records still arrive (the menu's live view); finish() gives the verdict. */
export interface CheckerProgress {
  records: number;
  /** The highest number seen (0 before the first). */
  highest: number;
  /** Numbers missing below the settled mark; later ones may still be on their way. */
  missing: number;
  /** Numbers seen more than once, replays included. */
  duplicates: number;
  /** Malformed lines and impossible values. */
  bad: number;
}

export interface CheckerOptions {
  /** Default time after a fault (or resume) within which the mark must pass its pre-fault value. */
  livenessDeadlineMs?: number;
  /** Numbers above the mark of this long before the last observation may still be in flight. */
  settleMs?: number;
}

/** A fault's replay window before the restart shows: its snapshot can still change. */
interface PendingWindow {
  label: number;
  snapshot: string | undefined;
  pinned: boolean;
}

/** A window the restart fixed; stragglers of the old attempt arriving just after still extend it. */
interface FrozenWindow {
  label: number;
  until: number;
  /** The task attempt whose repeat showed the restart; -1 when the format has none. */
  attempt: number;
  windows: Map<Track, ReplayWindow>;
}

// How late the first number of a sequence may arrive before it counts as a restart from scratch,
// when times are unknown (otherwise the settle time decides): the rebalance interleaves subtasks.
const JITTER_NUMBERS = 100;
const SAMPLE_LIMIT = 20;
const SNAPSHOT_LIMIT = 256;

/** `file:line`, built only when a finding or a label needs it. */
function where(source: string, line: number): string {
  return line > 0 ? `${source}:${line}` : source;
}

export class Checker {
  private readonly deadlineMs: number;
  private readonly settleMs: number;
  private readonly labels: string[] = ['start'];
  private readonly labelUses = new Map<string, number>();
  private label = 0;
  private seq: Track | undefined;
  private readonly numbers = new NumberTracks();
  private records = 0;
  private malformedCount = 0;
  private unexpectedCount = 0;
  private readonly malformedSamples: Sample[] = [];
  private readonly unexpectedSamples: Sample[] = [];
  private firstMalformedLabel = -1;
  private firstUnexpectedLabel = -1;
  private maxAttempt = -1;
  /** Whether a timeline (faults, checkpoints) is known; without one, restarts are inferred from the records. */
  private timeline = false;
  private snapshotSeen = false;
  private readonly snapshots = new Map<string, Map<Track, number>>();
  private lastSnapshot: string | undefined;
  private pendingWindows: PendingWindow[] = [];
  private frozen: FrozenWindow | undefined;
  private readonly replayWindows: ReplayWindow[] = [];
  private readonly liveness = new Liveness();
  /** Declared resets: `label` is the fault they were declared for (the next one), -1 until it comes. */
  private readonly expectResets: Array<{ label: number; seen: boolean }> = [];
  private tEnd = -Infinity;
  /** The newest checkpoint completed so far, and restores from an older one. */
  private lastCheckpointId = -1;
  private readonly staleRestores: Array<{ id: number; latest: number; label: number }> = [];
  /** An expect-rewind not yet followed by its restore. */
  private rewindDeclared = false;

  constructor(options: CheckerOptions = {}) {
    this.deadlineMs = options.livenessDeadlineMs ?? 120_000;
    this.settleMs = options.settleMs ?? 5_000;
  }

  /** One history line's event. */
  event(ev: HistoryEvent): void {
    switch (ev.kind) {
      case 'record':
        return this.record(SEQ, ev.seq, ev.t, ev.attempt, -1, ev.source);
      case 'number':
        return this.record(NUMBER, ev.n, ev.t, -1, ev.prefix ?? -1, ev.source);
      case 'malformed':
        return this.malformed(ev.line, ev.source, ev.t);
    }
    this.timeline = true;
    if (ev.t > this.tEnd) this.tEnd = ev.t;
    switch (ev.kind) {
      case 'fault':
        this.label = this.newLabel(ev.name);
        for (const e of this.expectResets) if (e.label < 0) e.label = this.label;
        this.openWindow();
        this.startLiveness(ev.t, ev.deadline);
        return;
      case 'suspend':
        this.label = this.newLabel('suspend');
        this.openWindow();
        this.startLiveness(Number.NaN, undefined);
        return;
      case 'resume':
        this.label = this.newLabel('resume');
        this.liveness.resume(this.label, ev.t, ev.deadline ?? this.deadlineMs);
        return;
      case 'checkpoint':
        if (ev.id > this.lastCheckpointId) this.lastCheckpointId = ev.id;
        return this.snapshot(`checkpoint ${ev.id}`, ev.triggered ?? ev.t);
      case 'savepoint':
        return this.snapshot(`savepoint ${ev.path}`, ev.triggered ?? ev.t, ev.seq);
      case 'restore': {
        // Recovery must use the latest completed checkpoint: an older one replays more than it
        // should (and, with exactly-once sinks, would rewrite committed output).
        // A declared rewind (a redeploy from an older snapshot) is the one restore that may go back.
        if (ev.from === 'checkpoint' && ev.id !== undefined && ev.id < this.lastCheckpointId && !this.rewindDeclared) {
          this.staleRestores.push({ id: ev.id, latest: this.lastCheckpointId, label: this.label });
        }
        this.rewindDeclared = false;
        const key = ev.from === 'checkpoint' ? `checkpoint ${ev.id ?? '?'}` : `savepoint ${ev.path ?? '?'}`;
        for (const w of this.pendingWindows) Object.assign(w, { snapshot: key, pinned: true });
        return;
      }
      case 'expect-reset':
        this.expectResets.push({ label: -1, seen: false });
        return;
      case 'expect-rewind': {
        this.rewindDeclared = true;
        const track = this.seq ?? this.numbers.find(ev.to);
        if (track && ev.to <= track.hw) this.allow(track, ev.to, track.hw, this.newLabel(`expected rewind to ${ev.to}`));
        return;
      }
    }
  }

  /**
   * One record line: the hot path, so plain arguments and no allocation. `t` is NaN when the line
   * carried no time; `attempt` and `prefix` are -1 when the format has none.
   */
  record(format: number, n: number, t: number, attempt: number, prefix: number, source: string, line = 0): void {
    this.records++;
    if (t > this.tEnd) this.tEnd = t;
    if (!Number.isSafeInteger(n) || n < (format === SEQ ? 1 : 0)) {
      this.unexpected(`${format === SEQ ? 'SEQ seq=' : 'Number: '}${n}: ${format === SEQ ? 'our sequence starts at 1' : 'not a sequence number'}`, where(source, line));
      return;
    }
    let track: Track;
    if (format === SEQ) {
      track = this.seq ??= new Track('SEQ', 1);
      if (attempt > this.maxAttempt) {
        if (this.maxAttempt >= 0 && !this.timeline) this.label = this.newLabel(`restart to attempt ${attempt} (${where(source, line)})`);
        this.maxAttempt = attempt;
      }
    } else {
      track = this.numbers.assign(n, this.label);
      track.notePrefix(prefix);
    }
    const outcome = track.observe(n, t, this.label);
    if (outcome === ADVANCE) {
      if (this.liveness.waiting) this.liveness.advance(format, n, t);
      if (this.frozen !== undefined) this.straggler(track, n, t, attempt);
    } else if (outcome === FILL) {
      if (n === track.origin && this.lateStart(track, n, t)) this.rewind(track, n, t, attempt, source, line, false);
    } else if (outcome === DUP) {
      this.rewind(track, n, t, attempt, source, line, true);
    }
  }

  /** A line that carries a record marker but is not a valid record. */
  malformed(line: string, source: string, t = Number.NaN): void {
    if (t > this.tEnd) this.tEnd = t;
    this.malformedCount++;
    if (this.firstMalformedLabel < 0) this.firstMalformedLabel = this.label;
    if (this.malformedSamples.length < SAMPLE_LIMIT) this.malformedSamples.push({ source, text: line.length > 300 ? `${line.slice(0, 300)}…` : line });
  }

  /** The verdict over everything fed so far. Call once, at the end. */
  finish(): Verdict {
    this.freezeWindows(Number.NaN, -1);
    const state: CheckerState = {
      labels: this.labels,
      tracks: [...(this.seq ? [this.seq] : []), ...this.numbers.settle()],
      records: this.records,
      malformed: this.malformedCount,
      unexpected: this.unexpectedCount,
      malformedSamples: this.malformedSamples,
      unexpectedSamples: this.unexpectedSamples,
      firstMalformedLabel: this.firstMalformedLabel,
      firstUnexpectedLabel: this.firstUnexpectedLabel,
      history: this.timeline,
      strictDuplicates: this.snapshotSeen,
      replayWindows: this.replayWindows,
      liveness: this.liveness.all(),
      expectResets: this.expectResets,
      staleRestores: this.staleRestores,
      tEnd: this.tEnd,
      settleMs: this.settleMs,
    };
    return buildVerdict(state);
  }

  /**
   * The counts so far, without ending the run: unlike finish() it changes nothing, so it can be
   * asked again and again while events keep coming. Sequences of the blog's job that a later
   * number might still join count separately, so a gap between them shows only in the verdict.
   */
  progress(): CheckerProgress {
    let highest = 0;
    let missing = 0;
    let duplicates = 0;
    for (const track of this.tracks()) {
      if (track.hw > highest) highest = track.hw;
      duplicates += track.duplicates;
      const frontier = settledMark(track, this.tEnd, this.settleMs);
      for (const gap of track.seen.gaps()) if (gap.from <= frontier) missing += Math.min(gap.to, frontier) - gap.from + 1;
    }
    return { records: this.records, highest, missing, duplicates, bad: this.malformedCount + this.unexpectedCount };
  }

  /** How many intervals, replays and windows the checker holds: its memory, flat in the number of records. */
  footprint(): number {
    let total = this.replayWindows.length + this.liveness.size + this.snapshots.size;
    for (const track of [...(this.seq ? [this.seq] : []), ...this.numbers.tracks]) {
      total += track.seen.size + track.dups.size + track.allowed.size + track.episodes.length;
    }
    return total;
  }

  private tracks(): Track[] {
    return this.seq ? [this.seq, ...this.numbers.tracks] : this.numbers.tracks;
  }

  private newLabel(name: string): number {
    const uses = (this.labelUses.get(name) ?? 0) + 1;
    this.labelUses.set(name, uses);
    this.labels.push(uses > 1 ? `${name} #${uses}` : name);
    return this.labels.length - 1;
  }

  private unexpected(text: string, source: string): void {
    this.unexpectedCount++;
    if (this.firstUnexpectedLabel < 0) this.firstUnexpectedLabel = this.label;
    if (this.unexpectedSamples.length < SAMPLE_LIMIT) this.unexpectedSamples.push({ source, text });
  }

  /** The origin arriving for the first time long after higher numbers: a restart from scratch, not jitter. */
  private lateStart(track: Track, n: number, t: number): boolean {
    if (t - track.firstT > this.settleMs) return true;
    return !(t === t && track.firstT === track.firstT) && track.hw - n > JITTER_NUMBERS;
  }

  /** A number at or below the mark again: part of a replay, which may be a reset. */
  private rewind(track: Track, n: number, t: number, attempt: number, source: string, line: number, duplicate: boolean): void {
    if (this.pendingWindows.length > 0) this.freezeWindows(t, attempt);
    if (track.episode === undefined && !this.timeline && (this.label === 0 || this.label === track.lastEpisodeLabel) && !this.straggles(track, n)) {
      this.label = this.newLabel(`restart (rewind to ${n} at ${where(source, line)})`);
    }
    const ep = track.replayFor(n, this.label);
    if (n < ep.from) ep.from = n;
    if (duplicate) {
      ep.duplicates++;
      if (!ep.reset && !track.allowed.has(n)) {
        ep.outside++;
        if (ep.outsideSet.size < LIST_LIMIT) ep.outsideSet.add(n);
      }
    }
    if (n === track.origin) this.resetCheck(track, ep, t);
  }

  /** A late repeat of the replay that just ended (another subtask's stream lagging), not a new restart. */
  private straggles(track: Track, n: number): boolean {
    const last = track.episodes[track.episodes.length - 1];
    return last !== undefined && last.after === this.label && n >= last.from && n <= last.to;
  }

  private resetCheck(track: Track, ep: Episode, t: number): void {
    if (ep.reset) return;
    // A track that may still turn out to be the far side of a gap (its parent never moved on, or
    // a replay filled the gap) has no start of its own.
    const parent = track.parent;
    if (parent && (parent.advances === track.parentAdvancesAtBirth || parent.hw + 1 >= track.origin)) return;
    ep.reset = true;
    ep.resetExpected = this.expectResets.length > 0;
    // A replay window reaching back to the start: no snapshot had completed before the fault, so
    // starting over was the recovery. Still a reset (the state is gone), but not Flink's failure.
    ep.resetExcused = track.allowed.has(track.origin);
    for (const e of this.expectResets) e.seen = true;
    // The repeats so far were this reset's first steps back, not separate failures.
    ep.outside = 0;
    if (ep.outsideSet.size) ep.outsideSet = new IntervalSet();
    this.liveness.restarted(track, t);
  }

  private openWindow(): void {
    this.pendingWindows.push({ label: this.label, snapshot: this.lastSnapshot, pinned: false });
  }

  /** The restart shows (a repeat): each pending window spans its snapshot to the marks now. */
  private freezeWindows(t: number, attempt: number): void {
    if (this.pendingWindows.length === 0) return;
    const windows = new Map<Track, ReplayWindow>();
    let label = 0;
    for (const w of this.pendingWindows) {
      label = w.label;
      const positions = w.snapshot === undefined ? undefined : this.snapshots.get(w.snapshot);
      for (const track of this.tracks()) {
        const pos = positions?.get(track) ?? -Infinity;
        const from = pos === -Infinity ? track.origin : Math.max(track.origin, pos + 1);
        if (from > track.hw) continue;
        windows.set(track, this.allow(track, from, track.hw, w.label));
      }
    }
    this.pendingWindows = [];
    this.frozen = t === t ? { label, until: t + this.settleMs, attempt, windows } : undefined;
  }

  private allow(track: Track, from: number, to: number, label: number): ReplayWindow {
    track.allowed.addRange(from, to);
    const window: ReplayWindow = { sequence: track.id, from, to, after: this.labels[label]! };
    if (this.replayWindows.length < LIST_LIMIT) this.replayWindows.push(window);
    return window;
  }

  /**
   * A new number just after a restart showed may be a late line of the old attempt (its stream
   * lagged), which the replay will repeat: the window takes it in. With attempt numbers that is
   * exact (an older attempt); without, anything within the settle time counts.
   */
  private straggler(track: Track, n: number, t: number, attempt: number): void {
    const frozen = this.frozen!;
    if (!(t <= frozen.until)) {
      this.frozen = undefined;
      return;
    }
    if (frozen.attempt >= 0 && attempt >= 0 && attempt >= frozen.attempt) return;
    const window = frozen.windows.get(track);
    if (!window) return;
    track.allowed.add(n);
    window.to = Math.max(window.to, n);
  }

  private snapshot(key: string, at: number, seq?: number): void {
    this.snapshotSeen = true;
    const positions = new Map<Track, number>();
    for (const track of this.tracks()) positions.set(track, track.markAt(at));
    if (seq !== undefined) {
      const track = this.seq ?? this.numbers.find(seq);
      if (track) positions.set(track, seq);
    }
    this.snapshots.delete(key);
    this.snapshots.set(key, positions);
    if (this.snapshots.size > SNAPSHOT_LIMIT) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.lastSnapshot = key;
    for (const w of this.pendingWindows) if (!w.pinned) w.snapshot = key;
  }

  private startLiveness(startT: number, deadline: number | undefined): void {
    const tracks = this.tracks();
    // Per sequence: a number above its pre-fault mark and below the next sequence's start.
    const targets: LivenessTarget[] = tracks.map((track, i) => ({
      track,
      format: track === this.seq ? SEQ : NUMBER,
      above: track.hw,
      below: track === this.seq ? Infinity : (tracks[i + 1]?.origin ?? Infinity),
      passedAt: Number.NaN,
    }));
    if (targets.length === 0) targets.push({ track: undefined, format: -1, above: -Infinity, below: Infinity, passedAt: Number.NaN });
    this.liveness.start(this.label, startT, deadline ?? this.deadlineMs, targets);
  }
}
