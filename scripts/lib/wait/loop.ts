// The one loop behind the wait strategies of wait.ts (waitLoop): judge, sleep until something
// may have changed (a watch event, a log line, the next poll interval) or the deadline on a
// monotonic clock, judge again; progress reports when what is seen changes, and a TimeoutError
// naming what was awaited and the last value seen.
import { SandboxError, TimeoutError } from '../errors.ts';
import type { Kube, KubeObject } from '../kube/kube.ts';
import type { CheckResult } from './checks.ts';

/** Time as the waits see it; tests pass a fake one. `sleep` resolves early when the signal aborts. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  // performance.now is monotonic: a wall-clock jump must not end or stretch a wait.
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface WaitOptions {
  /** The time allowed; a timeout says "timed out after <timeoutMs>". */
  timeoutMs: number;
  /**
   * When the time is up, on the clock's scale: set when several waits share one budget (a
   * step's gate), so each gets what the ones before it left. Default: now + timeoutMs.
   */
  deadline?: number;
  signal?: AbortSignal;
  /** Called with "<what>: <seen>" whenever what is seen changes. */
  onProgress?: (msg: string) => void;
  clock?: Clock;
  /** Replaces the default hint of the timeout error. */
  hint?: string;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

/** The moment a wait gives up, on its clock. */
export function deadlineOf(opts: WaitOptions, clock: Clock = opts.clock ?? systemClock): number {
  return opts.deadline ?? clock.now() + opts.timeoutMs;
}

export function timeoutError(what: string, opts: WaitOptions, seen: string): TimeoutError {
  return new TimeoutError(`timed out after ${formatDuration(opts.timeoutMs)} waiting for ${what}; last seen: ${seen}`, {
    lastSeen: seen,
    hint: opts.hint ?? 'the diagnostics bundle holds the objects, events and logs involved; a slow machine may need longer timeouts (--config)',
  });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

export interface WatchSpec {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

export type Evaluation<T> = CheckResult & { value?: T };

/** One judgement: is the wait over, what was seen, and (optional) why waiting cannot help. */
export type Judge<T> = () => Evaluation<T> | Promise<Evaluation<T>>;

/**
 * What makes the loop judge again: started once, it calls `wake` whenever something may have
 * changed (a watch event, a log line) and resolves when there is something to judge at all
 * (a watch's initial list). Without one, the loop judges every `intervalMs`.
 */
export type Wakeups = (wake: () => void, stop: AbortSignal) => Promise<void>;

/** A judge that outlives the deadline is not waited for (a real timer: it is only a guard). */
async function judgeBefore<T>(judge: Judge<T>, deadline: number, clock: Clock): Promise<Evaluation<T> | 'late'> {
  let guard: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (guard = setTimeout(resolve, Math.max(deadline - clock.now(), 0), 'late')));
  try {
    return await Promise.race([judge(), late]);
  } finally {
    clearTimeout(guard);
  }
}

/**
 * THE wait loop, behind every strategy: judge, then sleep until woken (by the wakeups), the next
 * interval, or the deadline on a monotonic clock, and judge again; progress is reported when what
 * is seen changes, and a timeout names what was awaited and the last thing seen.
 */
export async function waitLoop<T>(what: string, opts: WaitOptions & { intervalMs?: number }, judge: Judge<T>, wakeups?: Wakeups): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const deadline = deadlineOf(opts, clock);
  const stop = new AbortController();
  const outer = opts.signal;
  let woken = new AbortController();
  let seen = 'nothing yet';
  let failure: { error: unknown } | undefined;
  try {
    if (outer?.aborted) throw abortReason(outer);
    if (wakeups) {
      const ready = wakeups(() => woken.abort(), outer ? AbortSignal.any([stop.signal, outer]) : stop.signal).then(
        () => 'ready' as const,
        (error: unknown) => (failure = { error }),
      );
      const left = Math.max(0, deadline - clock.now());
      const halt = outer ? AbortSignal.any([stop.signal, outer]) : stop.signal;
      const first = await Promise.race([ready, clock.sleep(left, halt).then(() => 'late' as const)]);
      if (outer?.aborted) throw abortReason(outer);
      if (failure) throw failure.error;
      if (first === 'late') throw timeoutError(what, opts, seen);
    }
    for (;;) {
      // Replaced before judging: a wake-up during the judgement makes the next sleep return at once.
      woken = new AbortController();
      const r = await judgeBefore(judge, deadline, clock);
      if (outer?.aborted) throw abortReason(outer);
      if (r !== 'late') {
        if (r.seen !== seen) {
          seen = r.seen;
          opts.onProgress?.(`${what}: ${seen}`);
        }
        if (r.fail) throw new SandboxError(`${what}: ${r.fail}`, { hint: 'the diagnostics bundle holds the objects, events and logs involved' });
        if (r.ok) return r.value as T;
      }
      const left = deadline - clock.now();
      if (left <= 0) throw timeoutError(what, opts, seen);
      const wake = outer ? AbortSignal.any([woken.signal, outer]) : woken.signal;
      await clock.sleep(Math.min(opts.intervalMs ?? left, left), wake);
      if (outer?.aborted) throw abortReason(outer);
    }
  } finally {
    stop.abort();
  }
}

/** Every object wait: a watch wakes the loop on each change; the judgement sees the whole list. */
export function watchUntil<T>(kube: Kube, spec: WatchSpec, evaluate: (objs: KubeObject[]) => Evaluation<T>, what: string, opts: WaitOptions): Promise<T> {
  const objects = new Map<string, KubeObject>();
  const wakeups: Wakeups = async (wake, stop) => {
    const handle = await kube.watch(
      spec.apiVersion,
      spec.kind,
      { namespace: spec.namespace, name: spec.name, labelSelector: spec.labelSelector },
      (type, obj) => {
        const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
        if (type === 'DELETED') objects.delete(key);
        else objects.set(key, obj);
        wake();
      },
      stop,
    );
    stop.addEventListener('abort', () => handle.close(), { once: true });
    if (stop.aborted) handle.close();
  };
  // Judged only once the initial list is in (wakeups resolved): whole lists, not their first items.
  return waitLoop(what, opts, () => evaluate([...objects.values()]), wakeups);
}

/** Everything with no watch: one probe per interval (default 1 s); a probe that throws is "not yet". */
export function poll<T>(probe: () => Promise<{ ok: boolean; seen: string; value?: T; fail?: string }>, what: string, opts: WaitOptions & { intervalMs?: number }): Promise<T> {
  const judge: Judge<T> = () =>
    probe().catch((err: unknown) => {
      if (opts.signal?.aborted) throw abortReason(opts.signal);
      return { ok: false, seen: err instanceof Error ? err.message : String(err) };
    });
  return waitLoop(what, { ...opts, intervalMs: opts.intervalMs ?? 1000 }, judge);
}
