// The loops behind the wait strategies of wait.ts: one watch-driven loop for objects and one
// poll loop for everything else, both with a deadline on a monotonic clock, progress reports
// when what is seen changes, and a TimeoutError naming what was awaited and the last value seen.
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

/** The one loop behind every object wait: watch, evaluate on every change, deadline on a monotonic clock. */
export function watchUntil<T>(kube: Kube, spec: WatchSpec, evaluate: (objs: KubeObject[]) => Evaluation<T>, what: string, opts: WaitOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const objects = new Map<string, KubeObject>();
    const stop = new AbortController();
    let seen = 'nothing yet';
    let settled = false;
    let synced = false;
    let handle: { close(): void } | undefined;

    const finish = (err: unknown, value?: T): void => {
      if (settled) return;
      settled = true;
      stop.abort();
      handle?.close();
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(value as T);
    };
    const onAbort = (): void => finish(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });

    const check = (): void => {
      let r: Evaluation<T>;
      try {
        r = evaluate([...objects.values()]);
      } catch (err) {
        return finish(err);
      }
      if (r.seen !== seen) {
        seen = r.seen;
        opts.onProgress?.(`${what}: ${seen}`);
      }
      if (r.fail) finish(new SandboxError(`${what}: ${r.fail}`, { hint: 'the diagnostics bundle holds the objects, events and logs involved' }));
      else if (r.ok) finish(undefined, r.value);
    };

    void clock.sleep(Math.max(0, deadlineOf(opts, clock) - clock.now()), stop.signal).then(() => finish(timeoutError(what, opts, seen)));
    kube
      .watch(spec.apiVersion, spec.kind, { namespace: spec.namespace, name: spec.name, labelSelector: spec.labelSelector }, (type, obj) => {
        const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
        if (type === 'DELETED') objects.delete(key);
        else objects.set(key, obj);
        // Judge whole lists, not the first items of the initial one.
        if (synced) check();
      }, stop.signal)
      .then(
        (h) => {
          handle = h;
          if (settled) return h.close();
          synced = true;
          check();
        },
        (err: unknown) => finish(err),
      );
  });
}

export async function poll<T>(probe: () => Promise<{ ok: boolean; seen: string; value?: T; fail?: string }>, what: string, opts: WaitOptions & { intervalMs?: number }): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const { signal } = opts;
  const deadline = deadlineOf(opts, clock);
  const interval = opts.intervalMs ?? 1000;
  let seen = 'nothing yet';
  const note = (s: string): void => {
    if (s === seen) return;
    seen = s;
    opts.onProgress?.(`${what}: ${seen}`);
  };
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    // A probe that hangs must not outlive the deadline (a real timer: it is only a guard).
    let guard: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (guard = setTimeout(resolve, Math.max(deadline - clock.now(), 0), 'late')));
    let r: Awaited<ReturnType<typeof probe>> | 'late';
    try {
      r = await Promise.race([probe(), late]);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      r = { ok: false, seen: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(guard);
    }
    if (signal?.aborted) throw abortReason(signal);
    if (r !== 'late') {
      note(r.seen);
      if (r.fail) throw new SandboxError(`${what}: ${r.fail}`);
      if (r.ok) return r.value as T;
    }
    const left = deadline - clock.now();
    if (left <= 0) throw timeoutError(what, opts, seen);
    await clock.sleep(Math.min(interval, left), signal);
  }
}

