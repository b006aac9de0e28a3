// How the simulated Flink operator schedules its work, like the Java Operator SDK does for the
// real one: a resource is reconciled when it changes (a new generation, deletion; its own status
// writes do not count), when a secondary resource changes (the JobManager Deployment, a
// FlinkStateSnapshot of it), and otherwise when the last pass asked to be called again
// (UpdateControl.rescheduleAfter). Everything runs inside one operator process: the Ready pod
// of the operator's Deployment. When that pod goes, the process dies with whatever it was doing
// (its signal aborts, its client refuses further requests, its timers are dropped); the next pod
// starts over from the resources and the status they recorded.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { WorkQueue, keyOf } from '../controllers/informer.ts';
import { isActive, isPodReady, selectorMatches } from '../controllers/names.ts';
import type { CustomResourceCache, WorkloadRef } from '../controllers/operator-kit.ts';
import { readyWorkload } from '../controllers/operator-kit.ts';

export interface OperatorProcess {
  /** The operator pod's uid. */
  readonly uid: string;
  readonly workload: KubeObject;
  /** Aborted when the process dies. */
  readonly signal: AbortSignal;
}

export interface FlinkLoop {
  /** Reconcile `key` now. */
  trigger(key: string): void;
  stop(): Promise<void>;
}

/** The Ready, running pod of the workload: the process that holds the leadership. */
function leaderPod(ctx: ControllerContext, ref: WorkloadRef): { pod: KubeObject; workload: KubeObject } | undefined {
  const workload = readyWorkload(ctx, ref);
  if (!workload) return undefined;
  const pod = ctx.informers.pods
    .list(workload.metadata.namespace)
    .filter((p) => isActive(p) && isPodReady(p) && selectorMatches(workload.spec?.selector, p.metadata.labels))
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))[0];
  return pod ? { pod, workload } : undefined;
}

/**
 * Runs `work(key, process)` per key; its answer is the delay (wall-clock ms) before the key is
 * reconciled again, undefined for "only on a change".
 */
export function flinkLoop(ctx: ControllerContext, ref: WorkloadRef, keys: () => string[], work: (key: string, process: OperatorProcess) => Promise<number | undefined>): FlinkLoop {
  let process: (OperatorProcess & { abort: AbortController }) | undefined;
  const timers = new Map<string, NodeJS.Timeout>();
  const dropTimers = (): void => {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  };
  const queue = new WorkQueue('flink-kubernetes-operator', async (key) => {
    const current = process;
    if (!current) return;
    const delay = await work(key, current);
    if (delay === undefined || current !== process || current.signal.aborted) return;
    clearTimeout(timers.get(key));
    const t = setTimeout(() => {
      timers.delete(key);
      queue.add(key);
    }, delay);
    t.unref();
    timers.set(key, t);
  });
  const check = (): void => {
    const leader = leaderPod(ctx, ref);
    const uid = leader?.pod.metadata.uid;
    if (uid === process?.uid) return;
    process?.abort.abort();
    dropTimers();
    process = undefined;
    if (!leader || !uid) return;
    const abort = new AbortController();
    process = { uid, workload: leader.workload, signal: abort.signal, abort };
    for (const k of keys()) queue.add(k);
  };
  ctx.informers.pods.on(check);
  ctx.informers.deployments.on(check);
  ctx.signal.addEventListener('abort', () => {
    process?.abort.abort();
    dropTimers();
  }, { once: true });
  check();
  return {
    trigger(key) {
      if (process) queue.add(key);
    },
    async stop() {
      process?.abort.abort();
      dropTimers();
      await queue.stop();
    },
  };
}

/** A handler that triggers on what the Java Operator SDK treats as a change of a primary resource. */
export function onSpecOrDeletion(cache: CustomResourceCache, trigger: (key: string) => void): void {
  const seen = new Map<string, string>();
  cache.on((o) => {
    const key = keyOf(o);
    const mark = `${o.metadata.uid}/${o.metadata.generation}/${o.metadata.deletionTimestamp ?? ''}`;
    if (seen.get(key) === mark) return;
    seen.set(key, mark);
    trigger(key);
  });
}
