// Bringing a job (back) up: ApplicationReconciler.deploy and AbstractJobReconciler.restoreJob of
// 1.15.0. A suspended job resumes with the upgrade mode recorded in lastReconciledSpec (unless
// the new spec asks for stateless): savepoint -> from jobStatus.upgradeSavepointPath; last-state
// -> from the HA metadata (same job id, upgradeSavepointPath set to the operator's marker
// KUBERNETES_OPERATOR_LAST_STATE when HA holds a checkpoint); stateless -> from nothing.
// A JobManager Deployment still there (a savepoint suspend within its TTL) is deleted first.
import { hasHaCheckpoint, hasHaData } from './ha.ts';
import { UpgradeFailure, persist, type Pass } from './ops.ts';
import { recordSpec, type Spec } from './status.ts';
import { newJobId } from './suspend.ts';

export const LAST_STATE_MARKER = 'KUBERNETES_OPERATOR_LAST_STATE';

/** ApplicationReconciler.deploy: the cluster for `spec`, from `savepoint` or (requireHa) the HA metadata. */
export async function deploy(p: Pass, spec: Spec, savepoint: string | undefined, requireHa: boolean): Promise<void> {
  const { ops, fd, s } = p;
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  let path = savepoint;
  if (!path && requireHa && (await hasHaCheckpoint(ops.api, ns, name))) {
    // A marker no file system has: restoring from it fails loudly if the HA metadata is gone.
    path = LAST_STATE_MARKER;
    s.jobStatus.upgradeSavepointPath = LAST_STATE_MARKER;
  }
  if (s.jobManagerDeploymentStatus !== 'MISSING') {
    await ops.deleteCluster(fd, s, !requireHa);
    await persist(p);
  }
  const fixed = (spec.flinkConfiguration as Record<string, unknown> | undefined)?.['$internal.pipeline.job-id'];
  if (typeof fixed === 'string') s.jobStatus.jobId = fixed;
  else if (!s.jobStatus.jobId || !requireHa) s.jobStatus.jobId = newJobId();
  await persist(p);
  await ops.event(fd, 'Normal', 'Submit', 'Starting deployment');
  if (requireHa && !(await hasHaData(ops.api, ns, name))) {
    throw new UpgradeFailure('HA metadata is not available to restore from last state.It is possible that the job has finished or terminally failed, or the configmaps have been deleted.', 'RestoreFailed');
  }
  await ops.submit(fd, s, spec, path);
}

/** AbstractJobReconciler.restoreJob: savepoint mode restores from the recorded upgrade savepoint. */
export async function restoreJob(p: Pass, spec: Spec, requireHa: boolean): Promise<void> {
  const js = p.s.jobStatus;
  const savepoint = spec.job?.upgradeMode === 'savepoint' ? ((js.upgradeSavepointPath as string | undefined) ?? js.savepointInfo?.lastSavepoint?.location) : undefined;
  await deploy(p, spec, savepoint, requireHa);
}

/** A suspended job whose spec says running: deploy it with the mode its suspend recorded. */
export async function resumeSuspended(p: Pass, spec: Spec, last: Spec): Promise<void> {
  if (spec.job.upgradeMode !== 'stateless') spec.job.upgradeMode = last.job?.upgradeMode ?? 'stateless';
  const tm = p.ops.taskManagerInfo(p.fd, spec);
  recordSpec(p.fd, p.s, spec, 'suspended', true, tm);
  await persist(p);
  await restoreJob(p, spec, last.job?.upgradeMode === 'last-state');
  recordSpec(p.fd, p.s, spec, 'running', false, tm);
}
