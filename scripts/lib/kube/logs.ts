// Following a container's log across restarts. The log endpoint serves one container
// instance at a time (the current one, or with previous=true the last terminated one), so we
// stream the current attempt, and when it ends we look at the pod: a higher restartCount means
// the next attempt, whose lines we stream next. Lines are read with the kubelet's timestamps,
// and a reconnect (a dropped stream, or the attempt's complete log read once it ended) resumes
// with `sinceTime` and drops what it already handed on by comparing timestamps, not by
// counting lines: kubelet log rotation can drop the head of a log, so counts drift.
import type { Transport } from './client.ts';
import type { FollowLogsOptions, Kube, KubeObject } from './kube.ts';

interface Target {
  namespace: string;
  pod: string;
  container: string;
}

interface ContainerView {
  restartCount: number;
  running: boolean;
  terminated: boolean;
  /** The pod will not run this container again. */
  final: boolean;
}

function view(pod: KubeObject, container: string): ContainerView | undefined {
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const cs = statuses.find((s) => s?.name === container);
  if (!cs) return undefined;
  const phase = pod.status?.phase;
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const terminated = cs.state?.terminated !== undefined;
  return {
    restartCount: cs.restartCount ?? 0,
    running: cs.state?.running !== undefined,
    terminated,
    final:
      phase === 'Succeeded' ||
      phase === 'Failed' ||
      (terminated && (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && cs.state.terminated.exitCode === 0))),
  };
}

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Resolves with the pod once `pred` holds, or undefined when the pod is gone or the signal aborts. */
async function untilPod(kube: Kube, t: Target, pred: (pod: KubeObject) => boolean, signal?: AbortSignal): Promise<KubeObject | undefined> {
  return new Promise((resolve, reject) => {
    let handle: { close(): void } | undefined;
    let settled = false;
    const finish = (pod: KubeObject | undefined): void => {
      if (settled) return;
      settled = true;
      handle?.close();
      signal?.removeEventListener('abort', onAbort);
      resolve(pod);
    };
    const onAbort = (): void => finish(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    let present = false;
    kube
      .watch('v1', 'Pod', { namespace: t.namespace, name: t.pod }, (type, pod) => {
        if (type === 'DELETED') return finish(undefined);
        present = true;
        if (pred(pod)) finish(pod);
      }, signal)
      .then((h) => {
        handle = h;
        if (settled) h.close();
        else if (!present) finish(undefined);
      }, (err: unknown) => (settled ? undefined : ((settled = true), reject(err))));
  });
}

export async function followLogs(
  kube: Kube,
  transport: Transport,
  t: Target,
  onLine: (line: string, attempt: number, time: string) => void,
  opts: FollowLogsOptions = {},
): Promise<void> {
  const { signal } = opts;
  const started = (p: KubeObject): boolean => {
    const v = view(p, t.container);
    return v !== undefined && (v.running || v.terminated);
  };
  let pod = await untilPod(kube, t, started, signal);
  if (!pod) return;
  // A pod made again under the same name is another pod: its log is not this one's to follow.
  const uid = pod.metadata.uid as string | undefined;
  const same = (p: KubeObject | undefined): p is KubeObject => p !== undefined && (uid === undefined || p.metadata.uid === uid);
  let attempt = view(pod, t.container)!.restartCount;
  /** Where `attempt`'s lines handed to onLine (or, without sinceStart, skipped) end. */
  let seen = new Position();

  if (opts.previous && attempt > 0) {
    for (const l of await readLog(transport, t, { previous: true }, new Position(), signal).catch(() => [])) onLine(l.text, attempt - 1, l.time);
  }
  if (opts.sinceStart === false) {
    // Reading the newest line moves `seen` past everything written so far.
    await readLog(transport, t, { tailLines: 1 }, seen, signal).catch(() => []);
  }

  let stream = true;
  while (!signal?.aborted) {
    let ended: 'clean' | 'broken' | 'skipped' = 'skipped';
    if (stream) {
      ended = await streamAttempt(transport, t, seen, signal, (line) => onLine(line.text, attempt, line.time)).then(
        () => 'clean' as const,
        () => 'broken' as const,
      );
    }
    stream = true;
    if (signal?.aborted) return;

    const current = await kube.get({ apiVersion: 'v1', kind: 'Pod', name: t.pod, namespace: t.namespace });
    if (!same(current)) return;
    pod = current;
    const v = view(pod, t.container);
    if (!v) return;
    if (v.restartCount === attempt && !v.final) {
      if (v.running && ended !== 'clean') {
        // The stream broke (or was ended long ago) while the container runs on: pick it up where we were.
        if (ended === 'broken') await sleep(200, signal);
        continue;
      }
      // The server ends a follow when the attempt ends, usually before the kubelet reports
      // the restart: wait for that report, a bounded while, then look again.
      const bounded = AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]);
      const next = await untilPod(kube, t, (p) => { const w = view(p, t.container); return w !== undefined && (w.restartCount > attempt || w.final); }, bounded);
      if (signal?.aborted) return;
      if (!next) {
        stream = false;
        continue;
      }
      if (!same(next)) return;
      pod = next;
    }
    const now = view(pod, t.container)!;
    // The attempt is over. Whatever the stream had not delivered (a drop, a restart noticed
    // late, a last line without its newline) is in its now complete log.
    if (now.restartCount <= attempt + 1) {
      const rest = await readLog(transport, t, { previous: now.restartCount > attempt }, seen, signal).catch(() => []);
      for (const l of rest) onLine(l.text, attempt, l.time);
    }
    if (now.restartCount <= attempt) return; // final: nothing more will be written
    attempt = now.restartCount;
    seen = new Position();
    pod = await untilPod(kube, t, (p) => !same(p) || (started(p) && view(p, t.container)!.restartCount >= attempt), signal);
    if (!same(pod)) return;
    attempt = view(pod, t.container)!.restartCount;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A log line as read with timestamps=true: the kubelet's RFC 3339 time and the text. */
export interface StampedLine {
  time: string;
  text: string;
}

/** Splits `<RFC3339Nano> <text>`; a line without a parsable stamp keeps its whole text. */
export function splitStamp(raw: string): StampedLine {
  const sp = raw.indexOf(' ');
  const time = sp > 0 ? raw.slice(0, sp) : '';
  if (!STAMP.test(time)) return { time: '', text: raw };
  return { time, text: raw.slice(sp + 1) };
}

const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch (the kubelet trims trailing zeros, so strings do not compare). */
function nanos(time: string): bigint {
  const m = /^(.*?:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return -1n;
  return BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/**
 * How far a reader got in one attempt's log: the newest timestamp handed on and how many lines
 * carried exactly that timestamp (lines can share one). A re-read from `sinceTime()` offers
 * every line again; `take` keeps only those after this position.
 */
export class Position {
  private last = -1n;
  private atLast = 0;
  private lastText = '';
  /** Counts lines seen at the current newest timestamp during one re-read. */
  private replayAtLast = 0;

  /** The `sinceTime` to re-read from: the last second seen (the API server keeps whole seconds). */
  sinceTime(): string | undefined {
    if (this.last < 0n) return undefined;
    return new Date(Number(this.last / 1_000_000_000n) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  }

  /** Starts a re-read: lines at the newest timestamp are counted afresh. */
  rewind(): void {
    this.replayAtLast = 0;
  }

  /** Whether a re-read line is new (and, if so, records it). Lines without a stamp always are. */
  take(time: string): boolean {
    if (!time) return true;
    const n = nanos(time);
    if (n < this.last) return false;
    if (n === this.last) {
      this.replayAtLast++;
      if (this.replayAtLast <= this.atLast) return false;
      this.atLast++;
      return true;
    }
    this.pass(time);
    this.replayAtLast = 1;
    return true;
  }

  /** Records a line as handed on (or skipped on purpose) without a re-read. */
  pass(time: string): void {
    const n = nanos(time);
    if (n > this.last) {
      this.last = n;
      this.atLast = 1;
      this.lastText = time;
    } else if (n === this.last) this.atLast++;
  }

  toString(): string {
    return this.lastText ? `${this.lastText} (x${this.atLast})` : 'start';
  }
}

function logPath(t: Target): string {
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/log`;
}

/** One read of a (current or previous) attempt's log: the lines after `pos`, which it advances. */
async function readLog(transport: Transport, t: Target, opts: { previous?: boolean; tailLines?: number }, pos: Position, signal?: AbortSignal): Promise<StampedLine[]> {
  const text = await transport.text('GET', logPath(t), {
    query: { container: t.container, timestamps: true, previous: opts.previous ? true : undefined, tailLines: opts.tailLines, sinceTime: pos.sinceTime() },
    signal,
    what: `${opts.previous ? 'previous ' : ''}logs of ${t.namespace}/${t.pod} ${t.container}`,
  });
  pos.rewind();
  const out: StampedLine[] = [];
  for (const raw of splitLines(text)) {
    const line = splitStamp(raw);
    if (pos.take(line.time)) out.push(line);
  }
  return out;
}

/**
 * Streams the current container's log with follow=true and timestamps, from `pos` on.
 * Resolves when the server ends the stream; an unterminated last line is left to the caller.
 */
async function streamAttempt(transport: Transport, t: Target, pos: Position, signal: AbortSignal | undefined, emit: (line: StampedLine) => void): Promise<void> {
  const body = await transport.stream('GET', logPath(t), {
    query: { container: t.container, follow: true, timestamps: true, sinceTime: pos.sinceTime() },
    signal,
    retry: 'network',
    what: `follow logs of ${t.namespace}/${t.pod} ${t.container}`,
  });
  pos.rewind();
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = splitStamp(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
      if (pos.take(line.time)) emit(line);
    }
  }
}
