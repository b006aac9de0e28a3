// Waiting as named strategies (after testcontainers-node's wait strategies). Each strategy
// names what it awaits and keeps the last thing it saw, so a timeout reads
// "timed out after 30s waiting for <what>; last seen: <seen>". All of them run in the one loop
// of loop.ts. Object waits are woken by a watch (re-listing when it expires or drops, see
// kube/watch.ts), so they notice a change as soon as the API server reports it; log waits by
// each line; things with no watch are polled.
import { SandboxError, TimeoutError } from '../errors.ts';
import { isApiError } from '../kube/api-error.ts';
import { describeRef, type Kube, type KubeObject, type ObjectRef } from '../kube/kube.ts';
import { conditionCheck, jsonPathCheck, podsReadyCheck, rolloutCheck, type CheckResult } from './checks.ts';
import { httpProbe } from '../exec/http.ts';
import { poll, systemClock, waitLoop, watchUntil, type Wakeups, type WaitOptions } from './loop.ts';

export type { CheckResult } from './checks.ts';
export { formatDuration, systemClock, type Clock, type WaitOptions } from './loop.ts';

function forObject(kube: Kube, ref: ObjectRef, check: (obj: KubeObject | undefined) => CheckResult, what: string, opts: WaitOptions): Promise<KubeObject> {
  return watchUntil<KubeObject>(kube, ref, (objs) => ({ ...check(objs[0]), value: objs[0] }), what, opts);
}

function forCondition(kube: Kube, ref: ObjectRef, type: string, status?: string | WaitOptions, opts?: WaitOptions): Promise<KubeObject> {
  const want = typeof status === 'string' ? status : 'True';
  const o = (typeof status === 'object' ? status : opts) as WaitOptions;
  return forObject(kube, ref, (obj) => conditionCheck(obj, type, want), `${describeRef(ref)} condition ${type}=${want}`, o);
}

function forJsonPath(kube: Kube, ref: ObjectRef, path: string, expected: string | string[] | ((v: unknown) => boolean), opts: WaitOptions): Promise<KubeObject> {
  const shown = typeof expected === 'function' ? 'the expected value' : Array.isArray(expected) ? `one of ${expected.join('|')}` : expected;
  return forObject(kube, ref, (obj) => jsonPathCheck(obj, path, expected), `${describeRef(ref)} ${path} to be ${shown}`, opts);
}

async function forRollout(kube: Kube, ref: ObjectRef, opts: WaitOptions): Promise<void> {
  await forObject(kube, ref, rolloutCheck, `rollout of ${describeRef(ref)}`, opts);
}

function forPodsReady(kube: Kube, namespace: string, labelSelector: string, opts: WaitOptions & { min?: number }): Promise<KubeObject[]> {
  const min = opts.min ?? 1;
  return watchUntil<KubeObject[]>(
    kube,
    { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector },
    (pods) => {
      const r = podsReadyCheck(pods, min);
      return { ...r, value: r.ready };
    },
    `${min > 1 ? `${min} ready pods` : 'ready pods'} ${labelSelector} in ${namespace}`,
    opts,
  );
}

/**
 * What to do about the last refusal of a dry-run wait that timed out: a webhook that did not
 * answer is named with where its pods' logs are; an error that knows its own fix keeps it.
 */
function refusalHint(err: unknown): string | undefined {
  const text = err instanceof Error ? err.message : String(err);
  const hook = /failed calling webhook "([^"]+)".*?https:\/\/([\w-]+)\.([\w-]+)\.svc/.exec(text);
  if (hook) {
    return `the webhook ${hook[1]} (Service ${hook[3]}/${hook[2]}) did not accept the call: its pods' describe pages, events and logs are in the diagnostics bundle under ${hook[3]}/; run \`sandbox up\` again once it answers`;
  }
  return err instanceof SandboxError ? err.hint : undefined;
}

async function forDryRunAccepted(kube: Kube, objects: KubeObject[], what: string, opts: WaitOptions & { intervalMs?: number }): Promise<void> {
  let lastRefusal: unknown;
  try {
    await pollDryRun(kube, objects, what, opts, (err) => (lastRefusal = err));
  } catch (err) {
    const hint = err instanceof TimeoutError && lastRefusal !== undefined ? refusalHint(lastRefusal) : undefined;
    if (!hint || !(err instanceof TimeoutError)) throw err;
    throw new TimeoutError(err.message, { lastSeen: err.lastSeen, hint, cause: err.cause });
  }
}

function pollDryRun(kube: Kube, objects: KubeObject[], what: string, opts: WaitOptions & { intervalMs?: number }, refused: (err: unknown) => void): Promise<true> {
  return poll<true>(
    async () => {
      // Each object's admission is its own question: all are asked at once, the first refusal
      // (in the objects' order) is the one reported.
      const answers = await Promise.allSettled(objects.map((obj) => kube.createDryRun(obj)));
      for (const answer of answers) {
        if (answer.status === 'rejected') {
          const err: unknown = answer.reason;
          // AlreadyExists comes after admission: the webhooks did accept it.
          if (isApiError(err, 409)) continue;
          refused(err);
          const seen = err instanceof Error ? err.message : String(err);
          // A webhook that is not answering yet is a 500; a refusal by the API server itself
          // (forbidden, invalid, bad request) will not change by waiting.
          const permanent = [400, 403, 404, 422].some((code) => isApiError(err, code)) && !/webhook/i.test(seen);
          return { ok: false, seen, fail: permanent ? `refused by the API server: ${seen}` : undefined };
        }
      }
      return { ok: true, seen: 'accepted', value: true };
    },
    what,
    opts,
  );
}

function forLog(kube: Kube, namespace: string, pod: string, container: string, pattern: RegExp, opts: WaitOptions): Promise<string> {
  const clock = opts.clock ?? systemClock;
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const what = `a log line matching /${pattern.source}/ from ${namespace}/${pod} ${container}`;
  let found: string | undefined;
  let seen = 'no line yet (pod or container not running)';
  let lines = 0;
  // Follows the log in the background for as long as the wait lasts, waking it on every line.
  const wakeups: Wakeups = async (wake, stop) => {
    void (async () => {
      while (!stop.aborted && found === undefined) {
        await kube
          .followLogs(namespace, pod, container, (line) => {
            lines++;
            seen = `"${line}" (line ${lines})`;
            if (found === undefined && re.test(line)) found = line;
            wake();
          }, { signal: stop })
          .catch((err: unknown) => (seen = err instanceof Error ? err.message : String(err)));
        wake();
        // followLogs returns when the pod is gone or not there yet: look again shortly.
        if (!stop.aborted && found === undefined) await clock.sleep(500, stop);
      }
    })();
  };
  // No progress reports: what is seen changes with every line, and the lines are the job's own.
  return waitLoop(what, { ...opts, onProgress: undefined }, () => ({ ok: found !== undefined, seen, value: found }), wakeups);
}

async function forHttp(url: string, opts: WaitOptions & { expectStatus?: number; insecure?: boolean; intervalMs?: number }): Promise<void> {
  await poll<true>(
    async () => {
      const r = await httpProbe(url, { insecure: opts.insecure, timeoutMs: 5000, signal: opts.signal });
      const ok = 'status' in r && (opts.expectStatus !== undefined ? r.status === opts.expectStatus : r.status < 400);
      return { ok, seen: 'status' in r ? `HTTP ${r.status}` : r.error, value: true };
    },
    `${url} to answer${opts.expectStatus ? ` ${opts.expectStatus}` : ''}`,
    opts,
  );
}

async function all(strategies: Array<() => Promise<unknown>>): Promise<void> {
  await Promise.all(strategies.map((s) => s()));
}

export const Wait = {
  /** Waits until `check` accepts the object (or its absence: then resolves with undefined). */
  forObject,
  /** `status` defaults to 'True'; it may be left out: forCondition(kube, ref, 'Ready', opts). */
  forCondition,
  forJsonPath,
  /** Deployment, StatefulSet or DaemonSet: observedGeneration current, all replicas updated and available. */
  forRollout,
  /** At least `min` (default 1) pods match, and every live one is Ready; resolves with the ready pods. */
  forPodsReady,
  /** Repeats a server-side dry-run create until admission (webhooks) accepts every object. */
  forDryRunAccepted,
  /** Follows the container's log (across restarts) until a line matches; resolves with that line. */
  forLog,
  /** Until the URL answers with `expectStatus` (default: any status below 400). */
  forHttp,
  /** All at once; fails as soon as one fails. */
  all,
  /** For things with no watch: probe every intervalMs (default 1 s) until ok. */
  poll,
};
