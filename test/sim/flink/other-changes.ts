// What the operator does when the spec did not change (ApplicationReconciler
// .reconcileOtherChanges, 1.15.0):
// - a JobManager Deployment gone while the job should run is redeployed when
//   kubernetes.operator.jm-deployment-recovery.enabled (default true) and the job is stateless or
//   has HA: a Warning `RecoverDeployment`, then a resubmit from the HA metadata;
// - the JobManager of a job in a globally terminal state (e.g. FINISHED after a savepoint suspend)
//   is deleted once kubernetes.operator.jm-deployment.shutdown-ttl has passed since
//   jobStatus.updateTime (the HA metadata stays).
import { haEnabled } from './config.ts';
import { effectiveConf } from './deploy.ts';
import { booleanOption, wallDuration } from './operator-config.ts';
import type { Pass } from './ops.ts';
import { restoreJob } from './resume.ts';
import { isTerminalJobState, lastSpec } from './status.ts';

function jmMissingForRunningJob(p: Pass): boolean {
  const deployed = lastSpec(p.s)?.job;
  const running = !deployed || (deployed.state === 'running' && !isTerminalJobState(p.s.jobStatus.state));
  return running && p.s.jobManagerDeploymentStatus === 'MISSING';
}

/** AbstractJobReconciler.resubmitJob: the deployed spec again, from HA or the last known savepoint. */
async function resubmitJob(p: Pass, requireHa: boolean): Promise<void> {
  const spec = structuredClone(lastSpec(p.s) ?? {});
  const js = p.s.jobStatus;
  const savepointKnown = js.upgradeSavepointPath !== undefined || js.savepointInfo?.lastSavepoint !== undefined;
  if (requireHa) spec.job.upgradeMode = 'last-state';
  else if (p.fd.spec?.job?.upgradeMode !== 'stateless' && savepointKnown) spec.job.upgradeMode = 'savepoint';
  await restoreJob(p, spec, requireHa);
}

async function cleanupTerminalJmAfterTtl(p: Pass): Promise<boolean> {
  const { s } = p;
  if (!isTerminalJobState(s.jobStatus.state) || s.jobManagerDeploymentStatus === 'MISSING') return false;
  const since = Number(s.jobStatus.updateTime ?? 0);
  if (Date.now() <= since + wallDuration(p.conf, 'kubernetes.operator.jm-deployment.shutdown-ttl')) return false;
  await p.ops.deleteCluster(p.fd, s, false);
  return true;
}

/** True when it acted. */
export async function reconcileOtherChanges(p: Pass): Promise<boolean> {
  const ha = haEnabled(effectiveConf(p.fd, { jobId: '' }));
  const stateless = p.fd.spec?.job?.upgradeMode === 'stateless' || !p.fd.spec?.job?.upgradeMode;
  if (booleanOption(p.conf, 'kubernetes.operator.jm-deployment-recovery.enabled', true) && jmMissingForRunningJob(p) && (stateless || ha)) {
    await p.ops.event(p.fd, 'Warning', 'RecoverDeployment', 'Recovering lost deployment', 'Job');
    await resubmitJob(p, ha);
    return true;
  }
  return cleanupTerminalJmAfterTtl(p);
}
