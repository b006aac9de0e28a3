// The Flink Kubernetes Operator (Deployment `flink-kubernetes-operator`), simulated for
// FlinkDeployments in application mode and FlinkStateSnapshots, in the namespaces of its
// WATCH_NAMESPACES env (all when empty), and only while its pod is Ready.
// Per FlinkDeployment, like the real observer + reconciler:
// - first sight: status CREATED; then deploy (JobManager Deployment + companions, flink-deploy.ts)
//   -> DEPLOYED, jobManagerDeploymentStatus DEPLOYING -> DEPLOYED_NOT_READY -> READY, job state
//   RECONCILING -> CREATED -> RUNNING (from the JobManager), STABLE once running (flink-observe.ts);
// - a JobManager whose pods cannot be created (e.g. ServiceAccount `flink` missing) ->
//   jobManagerDeploymentStatus ERROR and status.error = DeploymentFailedException JSON;
// - spec changes: suspend (flink-suspend.ts), resume (flink-resume.ts), a change to a running
//   job (flink-rescale.ts), savepointRedeployNonce + initialSavepointPath (flink-redeploy.ts);
//   a lost JobManager Deployment recovered from HA;
// - deletion: finalizer; the cluster goes, HA ConfigMaps stay (FACTS section 2).
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { stableStringify } from '../controllers/names.ts';
import { haEnabled } from './flink-config.ts';
import { FLINK_GROUP, effectiveConf } from './flink-deploy.ts';
import { hasHaData } from './flink-ha.ts';
import { dropFlinkWorld, flinkWorld } from './flink-job.ts';
import { observe } from './flink-observe.ts';
import { fdPath, flinkOps, type FlinkOps } from './flink-ops.ts';
import { redeployFromSavepoint } from './flink-redeploy.ts';
import { upgradeRunningJob } from './flink-rescale.ts';
import { resumeJob } from './flink-resume.ts';
import { reconcileSnapshot } from './flink-snapshots.ts';
import { errorJson, finish, lastSpec, serializeSpec, type Status } from './flink-status.ts';
import { recordSuspended, suspendJob } from './flink-suspend.ts';
import { CustomResourceCache, keyOf, operatorLoop, patchMeta, readyWorkload, splitKey, workloadEnv, writeStatus, type WorkloadRef } from './operator-kit.ts';

export const FLINK_WORKLOAD: WorkloadRef = { kind: 'Deployment', name: 'flink-kubernetes-operator' };
export const DEPLOYMENT_FINALIZER = 'flinkdeployments.flink.apache.org/finalizer';
const RESYNC_MS = 200;

/** Spec fields whose change triggers an action of its own, not a redeploy. */
function deployedPart(spec: Record<string, any> | undefined): string {
  const copy = structuredClone(spec ?? {});
  if (copy.job) {
    delete copy.job.savepointTriggerNonce;
    delete copy.job.checkpointTriggerNonce;
  }
  return stableStringify(copy);
}

async function upgrade(ops: FlinkOps, fd: KubeObject, status: Status, last: Record<string, any>): Promise<void> {
  const job = (fd.spec?.job ?? {}) as Record<string, any>;
  const lastJob = (last.job ?? {}) as Record<string, any>;
  const wasRunning = !!last.job && lastJob.state !== 'suspended';
  const wantRunning = !!fd.spec?.job && job.state !== 'suspended';
  const mode = (job.upgradeMode as string | undefined) ?? 'stateless';
  const redeploy = !!job.initialSavepointPath && job.savepointRedeployNonce !== undefined && job.savepointRedeployNonce !== lastJob.savepointRedeployNonce;
  const ha = haEnabled(effectiveConf(fd, { jobId: '' }));
  const s: Status = { ...status, jobStatus: { ...(status.jobStatus ?? {}) }, reconciliationStatus: { ...(status.reconciliationStatus ?? {}), state: 'UPGRADING' } };
  await ops.event(fd, 'Normal', 'SpecChanged', `${wantRunning ? 'UPGRADE' : 'SUSPEND'} change(s) detected, starting reconciliation.`);
  fd = await ops.save(fd, s);
  if (redeploy) return redeployFromSavepoint(ops, fd, s, wasRunning, wantRunning);
  if (wasRunning && wantRunning) return upgradeRunningJob(ops, fd, s, mode, ha);
  if (wasRunning) {
    if (!(await suspendJob(ops, fd, s, mode, ha))) return;
    return recordSuspended(ops, fd, s);
  }
  if (!wantRunning) return recordSuspended(ops, fd, s);
  return resumeJob(ops, fd, s, mode, ha);
}

export function startFlinkOperator(ctx: ControllerContext): { stop(): Promise<void> } {
  const api: SimClient = ctx.client('flink-kubernetes-operator');
  const world = flinkWorld(ctx.url);
  const deployments = new CustomResourceCache(ctx, api, 'flinkdeployments.flink.apache.org', `${FLINK_GROUP}/flinkdeployments`);
  const snapshots = new CustomResourceCache(ctx, api, 'flinkstatesnapshots.flink.apache.org', `${FLINK_GROUP}/flinkstatesnapshots`);
  const ops = flinkOps(ctx, api, world, deployments, snapshots);

  function watched(ns: string): boolean {
    const w = readyWorkload(ctx, FLINK_WORKLOAD);
    if (!w) return false;
    const list = (workloadEnv(w, 'WATCH_NAMESPACES') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return list.length === 0 || list.includes(ns);
  }

  async function cleanup(fd: KubeObject): Promise<void> {
    const finalizers = fd.metadata.finalizers ?? [];
    if (!finalizers.includes(DEPLOYMENT_FINALIZER)) return;
    const ns = fd.metadata.namespace!;
    const name = fd.metadata.name!;
    try {
      fd = await writeStatus(api, deployments, fdPath(ns, name), fd, { ...finish(fd.status ?? {}), lifecycleState: 'DELETING' });
      await ops.teardown(ns, name, false);
      await patchMeta(api, deployments, fdPath(ns, name), fd, { finalizers: finalizers.filter((f) => f !== DEPLOYMENT_FINALIZER) });
    } catch (err) {
      // Already gone: an earlier pass finished the cleanup.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      deployments.remove(fd);
    }
  }

  async function reconcileDeployment(ns: string, name: string): Promise<void> {
    let fd = deployments.get(ns, name);
    if (!fd || !watched(ns)) return;
    if (fd.metadata.deletionTimestamp) return cleanup(fd);
    const finalizers = fd.metadata.finalizers ?? [];
    if (!finalizers.includes(DEPLOYMENT_FINALIZER)) fd = await patchMeta(api, deployments, fdPath(ns, name), fd, { finalizers: [...finalizers, DEPLOYMENT_FINALIZER] });
    const status: Status = structuredClone(fd.status ?? {});
    if (!status.reconciliationStatus) {
      await ops.save(fd, { jobStatus: {}, jobManagerDeploymentStatus: 'MISSING', reconciliationStatus: { state: 'UPGRADING' } });
      return;
    }
    const last = lastSpec(status);
    if (!last) {
      if (fd.spec?.job?.state === 'suspended') {
        await ops.save(fd, { ...status, reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, true), reconciliationTimestamp: Date.now() } });
      } else await ops.deploy(fd, status, { restorePath: fd.spec?.job?.initialSavepointPath, first: true });
      return;
    }
    const observed = await observe(ops, fd, status, last);
    if (deployedPart(fd.spec) !== deployedPart(last)) return upgrade(ops, fd, observed, last);
    if (last.job && last.job.state !== 'suspended' && observed.jobManagerDeploymentStatus === 'MISSING') {
      // kubernetes.operator.jm-deployment-recovery.enabled: bring a lost cluster back from HA.
      if (haEnabled(effectiveConf(fd, { jobId: '' })) && (await hasHaData(api, ns, name))) {
        await ops.event(fd, 'Normal', 'RecoverDeployment', 'Recovering lost deployment');
        return ops.deploy(fd, observed, { keepJobId: observed.jobStatus?.jobId, first: false });
      }
      observed.error = errorJson('RecoveryFailureException', 'HA metadata not available to restore from last state. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required.');
    }
    await ops.save(fd, observed);
  }

  const keys = (): string[] => [...deployments.list().map((o) => `fd:${keyOf(o)}`), ...snapshots.list().map((o) => `sn:${keyOf(o)}`)];
  const loop = operatorLoop(ctx, 'flink-kubernetes-operator', FLINK_WORKLOAD, keys, async (key) => {
    const [ns, name] = splitKey(key.slice(3));
    if (key.startsWith('fd:')) return reconcileDeployment(ns, name);
    if (!watched(ns)) return;
    return reconcileSnapshot({ ctx, api, world, deployments, snapshots }, ns, name);
  }, RESYNC_MS);
  deployments.on((o) => loop.queue.add(`fd:${keyOf(o)}`));
  snapshots.on((o) => loop.queue.add(`sn:${keyOf(o)}`));
  ctx.informers.deployments.on((_t, d) => {
    if (d.metadata.labels?.type === 'flink-native-kubernetes') loop.queue.add(`fd:${d.metadata.namespace}/${d.metadata.name}`);
  });
  return {
    async stop() {
      await loop.stop();
      dropFlinkWorld(ctx.url);
    },
  };
}
