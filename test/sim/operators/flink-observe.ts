// The simulated operator's observer: what the JobManager Deployment and the job look like now
// (JobManager status, job state from the JobManager's REST view, cluster info), before any
// reconcile step acts on the spec.
import type { KubeObject } from '../api-client.ts';
import { slotsPerTaskManager } from './flink-config.ts';
import { effectiveConf } from './flink-deploy.ts';
import type { FlinkOps } from './flink-ops.ts';
import { errorJson, type Status } from './flink-status.ts';

export async function observe(ops: FlinkOps, fd: KubeObject, status: Status, last: Record<string, any>): Promise<Status> {
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  const s: Status = { ...status, jobStatus: { ...(status.jobStatus ?? {}) } };
  if (last.job?.state === 'suspended') return s;
  const jm = ops.ctx.informers.deployments.get(ns, name);
  if (!jm || jm.metadata.deletionTimestamp) {
    s.jobManagerDeploymentStatus = 'MISSING';
    return s;
  }
  const failure = await ops.failedCreate(jm);
  if (failure) {
    if (s.jobManagerDeploymentStatus !== 'ERROR') await ops.event(fd, 'Warning', 'FailedCreate', failure);
    s.jobManagerDeploymentStatus = 'ERROR';
    if (last.job) s.jobStatus.state = 'RECONCILING';
    s.error = errorJson('DeploymentFailedException', failure, { reason: 'FailedCreate' });
    return s;
  }
  const available = ((jm.status?.availableReplicas as number | undefined) ?? 0) >= ((jm.spec?.replicas as number | undefined) ?? 1);
  const runtime = ops.world.model(ns, name).runtime;
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
    await ops.ctx.events.record(fd, { component: 'Job' }, { type: 'Normal', reason: 'JobStatusChanged', message: `Job status changed from ${s.jobStatus.state ?? 'RECONCILING'} to ${state}` });
    s.jobStatus.updateTime = String(Date.now());
  }
  Object.assign(s.jobStatus, { jobId: view.jobId, jobName: view.jobName, state, startTime: String(view.startTime) });
  if (state === 'RUNNING' && s.reconciliationStatus?.state === 'DEPLOYED') s.reconciliationStatus = { ...s.reconciliationStatus, lastStableSpec: s.reconciliationStatus.lastReconciledSpec };
  return s;
}
