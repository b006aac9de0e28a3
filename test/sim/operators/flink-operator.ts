// The Flink Kubernetes Operator (Deployment `flink-kubernetes-operator`), simulated for
// FlinkDeployments in application mode and FlinkStateSnapshots, in the namespaces of its
// WATCH_NAMESPACES env (all when empty), and only while its pod is Ready.
// Per FlinkDeployment, like the real observer + reconciler:
// - first sight: status CREATED; then deploy (JobManager Deployment + companions, flink-deploy.ts)
//   -> DEPLOYED, jobManagerDeploymentStatus DEPLOYING -> DEPLOYED_NOT_READY -> READY, job state
//   RECONCILING -> CREATED -> RUNNING (from the JobManager), STABLE once running;
// - a JobManager whose pods cannot be created (e.g. ServiceAccount `flink` missing) ->
//   jobManagerDeploymentStatus ERROR and status.error = DeploymentFailedException JSON;
// - spec changes: suspend (savepoint: stop-with-savepoint -> FlinkStateSnapshot
//   `<name>-savepoint-upgrade-<ms>` + upgradeSavepointPath, then delete cluster and HA data;
//   last-state: delete cluster keep HA; stateless: cancel), resume/upgrade (redeploy restoring
//   from that savepoint / HA / nothing), savepointRedeployNonce + initialSavepointPath (cancel,
//   redeploy from that path), a lost JobManager Deployment recovered from HA;
// - deletion: finalizer; the cluster goes, HA ConfigMaps stay (FACTS section 2).
import { randomBytes } from 'node:crypto';
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { isActive, isOwnedBy, stableStringify } from '../controllers/names.ts';
import { haEnabled, slotsPerTaskManager } from './flink-config.ts';
import { FLINK_GROUP, companions, effectiveConf, jobManagerDeployment } from './flink-deploy.ts';
import { deleteHaData, hasHaData } from './flink-ha.ts';
import { dropFlinkWorld, flinkWorld } from './flink-job.ts';
import type { SavepointTrigger } from './flink-runtime.ts';
import { reconcileSnapshot } from './flink-snapshots.ts';
import { errorJson, finish, lastSpec, serializeSpec, type Status } from './flink-status.ts';
import { CustomResourceCache, ensureObject, keyOf, operatorLoop, patchMeta, readyWorkload, splitKey, workloadEnv, writeStatus, type WorkloadRef } from './operator-kit.ts';

export const FLINK_WORKLOAD: WorkloadRef = { kind: 'Deployment', name: 'flink-kubernetes-operator' };
export const DEPLOYMENT_FINALIZER = 'flinkdeployments.flink.apache.org/finalizer';
const RESYNC_MS = 200;
const SHUTDOWN_TIMEOUT_MS = 15_000;
const SOURCE = { component: 'JobManagerDeployment' };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Spec fields whose change triggers an action of its own, not a redeploy. */
function deployedPart(spec: Record<string, any> | undefined): string {
  const copy = structuredClone(spec ?? {});
  if (copy.job) {
    delete copy.job.savepointTriggerNonce;
    delete copy.job.checkpointTriggerNonce;
  }
  return stableStringify(copy);
}

export function startFlinkOperator(ctx: ControllerContext): { stop(): Promise<void> } {
  const api: SimClient = ctx.client('flink-kubernetes-operator');
  const world = flinkWorld(ctx.url);
  const deployments = new CustomResourceCache(ctx, api, 'flinkdeployments.flink.apache.org', `${FLINK_GROUP}/flinkdeployments`);
  const snapshots = new CustomResourceCache(ctx, api, 'flinkstatesnapshots.flink.apache.org', `${FLINK_GROUP}/flinkstatesnapshots`);
  const fdPath = (ns: string, name: string): string => `${FLINK_GROUP}/namespaces/${ns}/flinkdeployments/${name}`;

  function watched(ns: string): boolean {
    const w = readyWorkload(ctx, FLINK_WORKLOAD);
    if (!w) return false;
    const list = (workloadEnv(w, 'WATCH_NAMESPACES') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return list.length === 0 || list.includes(ns);
  }

  const save = (fd: KubeObject, status: Status): Promise<KubeObject> => writeStatus(api, deployments, fdPath(fd.metadata.namespace!, fd.metadata.name!), fd, finish(status));
  const event = (fd: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> => ctx.events.record(fd, SOURCE, { type, reason, message });

  /** Why the JobManager's pods cannot be created, from the ReplicaSet's FailedCreate (DeploymentFailedException). */
  async function failedCreate(jm: KubeObject): Promise<string | undefined> {
    const cond = ((jm.status?.conditions ?? []) as { type: string; reason?: string; message?: string }[]).find((c) => c.type === 'ReplicaFailure' && c.reason === 'FailedCreate');
    if (cond) return cond.message;
    const ns = jm.metadata.namespace!;
    for (const rs of ctx.informers.replicasets.list(ns).filter((r) => isOwnedBy(r, jm))) {
      const pods = ctx.informers.pods.list(ns).filter((p) => isOwnedBy(p, rs) && isActive(p)).length;
      if (pods >= ((rs.spec?.replicas as number | undefined) ?? 1)) continue;
      const events = await api.list(`/api/v1/namespaces/${ns}/events`, { fieldSelector: `involvedObject.name=${rs.metadata.name},reason=FailedCreate` });
      const latest = events.items.sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp))).pop();
      if (latest) return String(latest.message).replace(/^Error creating: /, '');
    }
    return undefined;
  }

  /** Deletes the cluster (JobManager Deployment; TaskManagers and companions go with it) and waits until it is gone. */
  async function teardown(ns: string, name: string, deleteHa: boolean): Promise<void> {
    await api.delete(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const pods = ctx.informers.pods.list(ns).filter((p) => p.metadata.labels?.app === name && ['jobmanager', 'taskmanager'].includes(p.metadata.labels?.component ?? ''));
      const config = await api.get(`/api/v1/namespaces/${ns}/configmaps/flink-config-${name}`);
      if (pods.length === 0 && !config && !ctx.informers.deployments.get(ns, name)) break;
      await sleep(50);
    }
    if (deleteHa) await deleteHaData(api, ns, name);
  }

  async function waitTrigger(t: SavepointTrigger): Promise<SavepointTrigger> {
    const deadline = Date.now() + 60_000;
    while (t.state === 'IN_PROGRESS' && Date.now() < deadline) await sleep(25);
    return t;
  }

  async function deploy(fd: KubeObject, status: Status, opts: { restorePath?: string; keepJobId?: string; first: boolean }): Promise<void> {
    const jobId = opts.keepJobId ?? randomBytes(16).toString('hex');
    const plan = { jobId, savepointPath: opts.restorePath };
    const jm = await ensureObject(api, jobManagerDeployment(fd));
    ctx.informers.deployments.upsert(jm);
    for (const o of companions(fd, jm, plan)) {
      const path = await api.objectPath(o);
      const existing = await api.get<KubeObject>(path);
      // A leftover of an earlier cluster would be garbage-collected under the new one.
      if (existing && existing.metadata.ownerReferences?.[0]?.uid !== jm.metadata.uid) await api.delete(path);
      await ensureObject(api, o, o.kind === 'ConfigMap' ? ['data'] : ['spec']);
    }
    await event(fd, 'Normal', 'Submit', 'Starting deployment');
    const rs = status.reconciliationStatus ?? {};
    const { upgradeSavepointPath } = status.jobStatus ?? {};
    const next: Status = {
      ...status,
      jobStatus: { state: 'RECONCILING', jobId, ...(status.jobStatus?.jobName ? { jobName: status.jobStatus.jobName } : {}), ...(upgradeSavepointPath ? { upgradeSavepointPath } : {}) },
      jobManagerDeploymentStatus: 'DEPLOYING',
      reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, opts.first), ...(rs.lastStableSpec ? { lastStableSpec: rs.lastStableSpec } : {}), reconciliationTimestamp: Date.now() },
      observedGeneration: fd.metadata.generation ?? 1,
    };
    delete next.error;
    await save(fd, next);
  }

  async function observe(fd: KubeObject, status: Status, last: Record<string, any>): Promise<Status> {
    const ns = fd.metadata.namespace!;
    const name = fd.metadata.name!;
    const s: Status = { ...status, jobStatus: { ...(status.jobStatus ?? {}) } };
    if (last.job?.state === 'suspended') return s;
    const jm = ctx.informers.deployments.get(ns, name);
    if (!jm || jm.metadata.deletionTimestamp) {
      s.jobManagerDeploymentStatus = 'MISSING';
      return s;
    }
    const failure = await failedCreate(jm);
    if (failure) {
      if (s.jobManagerDeploymentStatus !== 'ERROR') await event(fd, 'Warning', 'FailedCreate', failure);
      s.jobManagerDeploymentStatus = 'ERROR';
      if (last.job) s.jobStatus.state = 'RECONCILING';
      s.error = errorJson('DeploymentFailedException', failure, { reason: 'FailedCreate' });
      return s;
    }
    const available = ((jm.status?.availableReplicas as number | undefined) ?? 0) >= ((jm.spec?.replicas as number | undefined) ?? 1);
    const runtime = world.model(ns, name).runtime;
    s.jobManagerDeploymentStatus = !available ? 'DEPLOYING' : runtime ? 'READY' : 'DEPLOYED_NOT_READY';
    if (s.jobManagerDeploymentStatus !== 'READY') {
      if (last.job) s.jobStatus.state = 'RECONCILING';
      return s;
    }
    delete s.error;
    const conf = effectiveConf(fd, { jobId: '' });
    s.taskManager = { labelSelector: `component=taskmanager,app=${name}`, replicas: Math.ceil((Number(last.job?.parallelism ?? 1) || 1) / slotsPerTaskManager(conf)) };
    s.clusterInfo = { 'flink-version': /:(\d+\.\d+\.\d+)/.exec(String(fd.spec?.image ?? ''))?.[1] ?? String(fd.spec?.flinkVersion ?? 'v1_20').replace(/^v/, '').replace('_', '.'), 'flink-revision': 'simulated', 'total-cpu': String(fd.spec?.taskManager?.resource?.cpu ?? 1), 'total-memory': String(fd.spec?.taskManager?.resource?.memory ?? '') };
    if (!last.job) return s;
    const view = runtime!.view();
    const state = view.state === 'RUNNING' && !view.tasksRunning ? 'CREATED' : view.state;
    if (s.jobStatus.state !== state) {
      await ctx.events.record(fd, { component: 'Job' }, { type: 'Normal', reason: 'JobStatusChanged', message: `Job status changed from ${s.jobStatus.state ?? 'RECONCILING'} to ${state}` });
      s.jobStatus.updateTime = String(Date.now());
    }
    Object.assign(s.jobStatus, { jobId: view.jobId, jobName: view.jobName, state, startTime: String(view.startTime) });
    if (state === 'RUNNING' && s.reconciliationStatus?.state === 'DEPLOYED') s.reconciliationStatus = { ...s.reconciliationStatus, lastStableSpec: s.reconciliationStatus.lastReconciledSpec };
    return s;
  }

  async function createUpgradeSnapshot(fd: KubeObject, path: string): Promise<void> {
    if (!ctx.informers.crds.get(undefined, 'flinkstatesnapshots.flink.apache.org')) return;
    await api.create(`${FLINK_GROUP}/namespaces/${fd.metadata.namespace}/flinkstatesnapshots`, {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkStateSnapshot',
      metadata: { name: `${fd.metadata.name}-savepoint-upgrade-${Date.now()}`, namespace: fd.metadata.namespace, labels: { 'snapshot.trigger-type': 'UPGRADE' } },
      spec: { backoffLimit: -1, jobReference: { kind: 'FlinkDeployment', name: fd.metadata.name }, savepoint: { path, formatType: 'CANONICAL', disposeOnDelete: false, alreadyExists: true } },
    });
  }

  async function upgrade(fd: KubeObject, status: Status, last: Record<string, any>): Promise<void> {
    const ns = fd.metadata.namespace!;
    const name = fd.metadata.name!;
    const job = (fd.spec?.job ?? {}) as Record<string, any>;
    const lastJob = (last.job ?? {}) as Record<string, any>;
    const wasRunning = !!last.job && lastJob.state !== 'suspended';
    const wantRunning = !!fd.spec?.job && job.state !== 'suspended';
    const mode = (job.upgradeMode as string | undefined) ?? 'stateless';
    const redeploy = !!job.initialSavepointPath && job.savepointRedeployNonce !== undefined && job.savepointRedeployNonce !== lastJob.savepointRedeployNonce;
    const ha = haEnabled(effectiveConf(fd, { jobId: '' }));
    let s: Status = { ...status, jobStatus: { ...(status.jobStatus ?? {}) }, reconciliationStatus: { ...(status.reconciliationStatus ?? {}), state: 'UPGRADING' } };
    await event(fd, 'Normal', 'SpecChanged', `${wantRunning ? 'UPGRADE' : 'SUSPEND'} change(s) detected, starting reconciliation.`);
    fd = await save(fd, s);
    let restorePath: string | undefined;
    let keepJobId: string | undefined;
    if (wasRunning) {
      const runtime = world.model(ns, name).runtime;
      if (redeploy || mode === 'stateless') {
        runtime?.cancel();
        await teardown(ns, name, true);
      } else if (mode === 'savepoint' && runtime?.view().tasksRunning) {
        const trigger = await waitTrigger(runtime.triggerSavepoint(undefined, true));
        if (trigger.state !== 'COMPLETED') {
          s = { ...s, error: errorJson('UpgradeFailureException', `Savepoint failed: ${trigger.error ?? 'timeout'}`), reconciliationStatus: { ...s.reconciliationStatus, state: 'DEPLOYED' } };
          await event(fd, 'Warning', 'SavepointError', `Savepoint failed for upgrade: ${trigger.error ?? 'timeout'}`);
          await save(fd, s);
          return;
        }
        restorePath = trigger.location;
        s.jobStatus.upgradeSavepointPath = restorePath;
        await createUpgradeSnapshot(fd, restorePath!);
        await teardown(ns, name, true);
      } else if (ha && (await hasHaData(api, ns, name))) {
        // last-state, or the savepoint mode's fallback when the job is not running
        keepJobId = s.jobStatus.jobId;
        await teardown(ns, name, false);
      } else {
        s = { ...s, error: errorJson('UpgradeFailureException', 'Job is not running and HA metadata is not available or usable for executing the upgrade'), reconciliationStatus: { ...s.reconciliationStatus, state: 'DEPLOYED' } };
        await save(fd, s);
        return;
      }
      s.jobStatus.state = 'FINISHED';
      s.jobManagerDeploymentStatus = 'MISSING';
    }
    if (!wantRunning) {
      const rs = s.reconciliationStatus;
      s.reconciliationStatus = { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, false), ...(rs.lastStableSpec ? { lastStableSpec: rs.lastStableSpec } : {}), reconciliationTimestamp: Date.now() };
      s.jobManagerDeploymentStatus = 'MISSING';
      await event(fd, 'Normal', 'Suspended', 'Job suspended');
      await save(fd, s);
      return;
    }
    if (redeploy) restorePath = job.initialSavepointPath;
    else if (!wasRunning && mode === 'savepoint') restorePath = s.jobStatus.upgradeSavepointPath;
    else if (!wasRunning && mode === 'last-state') {
      keepJobId = s.jobStatus.jobId;
      if (!(ha && (await hasHaData(api, ns, name)))) restorePath = s.jobStatus.upgradeSavepointPath;
    }
    await deploy(fd, s, { restorePath, keepJobId, first: false });
  }

  async function cleanup(fd: KubeObject): Promise<void> {
    const finalizers = fd.metadata.finalizers ?? [];
    if (!finalizers.includes(DEPLOYMENT_FINALIZER)) return;
    const ns = fd.metadata.namespace!;
    const name = fd.metadata.name!;
    try {
      fd = await writeStatus(api, deployments, fdPath(ns, name), fd, { ...finish(fd.status ?? {}), lifecycleState: 'DELETING' });
      await teardown(ns, name, false);
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
      await save(fd, { jobStatus: {}, jobManagerDeploymentStatus: 'MISSING', reconciliationStatus: { state: 'UPGRADING' } });
      return;
    }
    const last = lastSpec(status);
    if (!last) {
      if (fd.spec?.job?.state === 'suspended') {
        await save(fd, { ...status, reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, true), reconciliationTimestamp: Date.now() } });
      } else await deploy(fd, status, { restorePath: fd.spec?.job?.initialSavepointPath, first: true });
      return;
    }
    const observed = await observe(fd, status, last);
    if (deployedPart(fd.spec) !== deployedPart(last)) return upgrade(fd, observed, last);
    if (last.job && last.job.state !== 'suspended' && observed.jobManagerDeploymentStatus === 'MISSING') {
      // kubernetes.operator.jm-deployment-recovery.enabled: bring a lost cluster back from HA.
      if (haEnabled(effectiveConf(fd, { jobId: '' })) && (await hasHaData(api, ns, name))) {
        await event(fd, 'Normal', 'RecoverDeployment', 'Recovering lost deployment');
        return deploy(fd, observed, { keepJobId: observed.jobStatus?.jobId, first: false });
      }
      observed.error = errorJson('RecoveryFailureException', 'HA metadata not available to restore from last state. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required.');
    }
    await save(fd, observed);
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
