// The Flink Kubernetes Operator 1.15.0 (Deployment `flink-kubernetes-operator`), simulated for
// FlinkDeployments in application mode and FlinkStateSnapshots, in the namespaces of its
// WATCH_NAMESPACES env (all when empty), and only while its pod is Ready. Its behaviour follows
// the operator's source at tag release-1.15.0 (classes named in each file):
// - scheduling and the operator process (loop.ts), its configuration from the mounted
//   ConfigMap (operator-config.ts) on the simulation's clock (../time-scale.ts);
// - per FlinkDeployment pass: observe (observe.ts), validate, reconcile (reconcile.ts):
//   first deployment, spec changes (rescale.ts: suspend, resume, savepoint redeploy),
//   other changes (other-changes.ts: lost JobManager recovery, JobManager TTL cleanup);
// - FlinkStateSnapshots (snapshots.ts); deletion (cleanup in reconcile.ts).
import type { ControllerContext } from '../controllers/context.ts';
import { FLINK_GROUP } from './deploy.ts';
import { dropFlinkWorld, flinkWorld } from './job.ts';
import { flinkLoop, onSpecOrDeletion, type OperatorProcess } from './loop.ts';
import { readOperatorConfig } from './operator-config.ts';
import { OperatorGone, flinkOps, type FlinkOps } from './ops.ts';
import { cleanupDeployment, reconcileDeployment } from './reconcile.ts';
import { reconcileSnapshot } from './snapshots.ts';
import { CustomResourceCache, keyOf, splitKey, workloadEnv, type WorkloadRef } from '../controllers/operator-kit.ts';

export { DEPLOYMENT_FINALIZER } from './reconcile.ts';

export const FLINK_WORKLOAD: WorkloadRef = { kind: 'Deployment', name: 'flink-kubernetes-operator' };

export function startFlinkOperator(ctx: ControllerContext): { stop(): Promise<void> } {
  const api = ctx.client('flink-kubernetes-operator');
  const world = flinkWorld(ctx.url);
  const deployments = new CustomResourceCache(ctx, api, 'flinkdeployments.flink.apache.org', `${FLINK_GROUP}/flinkdeployments`);
  const snapshots = new CustomResourceCache(ctx, api, 'flinkstatesnapshots.flink.apache.org', `${FLINK_GROUP}/flinkstatesnapshots`);
  // What one operator process keeps in memory: its configuration and the generations whose
  // SpecChanged event it already sent (EventRecorder.triggerEventOnce).
  let current: { uid: string; ops: Promise<FlinkOps>; announced: Set<string> } | undefined;

  function processOps(proc: OperatorProcess): { ops: Promise<FlinkOps>; announced: Set<string> } {
    if (current?.uid !== proc.uid) {
      const ops = readOperatorConfig(api, proc.workload).then((config) => flinkOps({ ctx, world, deployments, snapshots, config, signal: proc.signal }));
      current = { uid: proc.uid, ops, announced: new Set() };
    }
    return current;
  }

  function watched(proc: OperatorProcess, ns: string): boolean {
    const list = (workloadEnv(proc.workload, 'WATCH_NAMESPACES') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return list.length === 0 || list.includes(ns);
  }

  const keys = (): string[] => [...deployments.list().map((o) => `fd:${keyOf(o)}`), ...snapshots.list().map((o) => `sn:${keyOf(o)}`)];
  const loop = flinkLoop(ctx, FLINK_WORKLOAD, keys, async (key, proc) => {
    const [ns, name] = splitKey(key.slice(3));
    if (!watched(proc, ns)) return undefined;
    const { ops: pending, announced } = processOps(proc);
    try {
      const ops = await pending;
      if (key.startsWith('fd:')) {
        const fd = deployments.get(ns, name);
        if (!fd) return undefined;
        if (fd.metadata.deletionTimestamp) return void (await cleanupDeployment(ops, fd));
        return await reconcileDeployment(ops, fd, announced);
      }
      const snap = snapshots.get(ns, name);
      return snap ? await reconcileSnapshot(ops, snap) : undefined;
    } catch (err) {
      // The process died mid-pass: nothing more happens in it.
      if (err instanceof OperatorGone || proc.signal.aborted) return undefined;
      throw err;
    }
  });
  onSpecOrDeletion(deployments, (k) => loop.trigger(`fd:${k}`));
  onSpecOrDeletion(snapshots, (k) => loop.trigger(`sn:${k}`));
  snapshots.on((s) => {
    const ref = s.spec?.jobReference as { kind?: string; name?: string } | undefined;
    if (ref?.kind === 'FlinkDeployment' && ref.name) loop.trigger(`fd:${s.metadata.namespace}/${ref.name}`);
  });
  ctx.informers.deployments.on((_t, d) => {
    if (d.metadata.labels?.type === 'flink-native-kubernetes') loop.trigger(`fd:${d.metadata.namespace}/${d.metadata.name}`);
  });
  return {
    async stop() {
      await loop.stop();
      dropFlinkWorld(ctx.url);
    },
  };
}
