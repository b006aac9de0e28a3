// Taking a running job down for a spec change (the first half of AbstractJobReconciler
// .reconcileSpecChange in 1.15.0), with the upgrade mode chosen like getJobUpgrade:
// - stateless: cancel, delete the cluster and its HA metadata;
// - savepoint with the job RUNNING: stop-with-savepoint; the JobManager Deployment STAYS (the
//   TTL cleanup removes it later, other-changes.ts), upgradeSavepointPath and an UPGRADE
//   FlinkStateSnapshot record the savepoint; not RUNNING: falls back to last-state;
// - last-state: delete the cluster, keep the HA metadata (cancel instead when there is none);
// - a job already in a terminal state whose latest snapshot is known: nothing to stop.
// The spec is then recorded with the upgrade mode to restore with (that is what a resume uses).
import { randomUUID } from 'node:crypto';
import { haEnabled } from './config.ts';
import { effectiveConf } from './deploy.ts';
import { hasHaData } from './ha.ts';
import { booleanOption } from './operator-config.ts';
import { UpgradeFailure, isCancellable, persist, type Pass, type SuspendMode } from './ops.ts';
import { editLastSpec, isTerminalJobState, recordSpec, type Spec } from './status.ts';

export interface JobUpgrade {
  suspendMode: SuspendMode;
  /** The upgrade mode the job is restored with. */
  restoreMode: 'stateless' | 'savepoint' | 'last-state';
}

/** Not possible now: wait (and whether other reconcile actions may run meanwhile). */
export interface NoUpgrade {
  unavailable: true;
  allowOtherActions: boolean;
  allowFallback: boolean;
}

const MANUAL_RESTORE = 'Manual restore required.';
const HA_MISSING = 'HA metadata is not available';
const FINISHED_OR_DELETED = 'It is possible that the job has finished or terminally failed, or the configmaps have been deleted.';

function lastSavepointKnown(p: Pass): boolean {
  const location = p.s.jobStatus.upgradeSavepointPath ?? p.s.jobStatus.savepointInfo?.lastSavepoint?.location;
  return location === undefined || location !== 'KUBERNETES_OPERATOR_LAST_STATE';
}

/** AbstractJobReconciler.getJobUpgrade with ApplicationReconciler's HA fallback. */
export async function jobUpgrade(p: Pass, spec: Spec): Promise<JobUpgrade | NoUpgrade> {
  const { s, fd } = p;
  const ns = fd.metadata.namespace!;
  const haData = (): Promise<boolean> => hasHaData(p.ops.api, ns, fd.metadata.name!);
  const state = s.jobStatus.state as string | undefined;
  const terminal = isTerminalJobState(state);
  let mode = (spec.job?.upgradeMode as string | undefined) ?? 'stateless';
  const base = async (): Promise<JobUpgrade | NoUpgrade> => {
    if (mode === 'stateless') return { suspendMode: terminal ? 'NOOP' : 'STATELESS', restoreMode: 'stateless' };
    if (terminal && (state === 'CANCELED' || !(await haData()) || s.jobManagerDeploymentStatus === 'READY')) {
      if (!lastSavepointKnown(p)) throw new UpgradeFailure(`Job is in terminal state but last checkpoint is unknown, possibly due to an unrecoverable restore error. ${MANUAL_RESTORE}`, 'UpgradeFailed');
      return { suspendMode: 'NOOP', restoreMode: 'savepoint' };
    }
    if (state === 'CANCELLING') return { unavailable: true, allowOtherActions: false, allowFallback: false };
    const running = state === 'RUNNING';
    if (mode === 'savepoint') {
      if (running) return { suspendMode: 'SAVEPOINT', restoreMode: 'savepoint' };
      if (!booleanOption(p.conf, 'kubernetes.operator.job.upgrade.last-state-fallback.enabled', true)) return { unavailable: true, allowOtherActions: true, allowFallback: false };
      mode = 'last-state';
      spec.job.upgradeMode = mode;
    }
    if (mode === 'last-state') {
      const cancellable = isCancellable(s) && (!(await haData()) || booleanOption(p.conf, 'kubernetes.operator.job.upgrade.last-state.job-cancel.enabled', false));
      if (running) return cancellable ? { suspendMode: 'CANCEL', restoreMode: 'savepoint' } : { suspendMode: 'LAST_STATE', restoreMode: 'last-state' };
      if (cancellable) return { suspendMode: 'CANCEL', restoreMode: 'savepoint' };
    }
    return { unavailable: true, allowOtherActions: true, allowFallback: true };
  };
  const found = await base();
  if (!('unavailable' in found)) return found;
  const ha = haEnabled(effectiveConf(fd, { jobId: '' }));
  if (found.allowFallback && ha && (await haData())) return { suspendMode: 'LAST_STATE', restoreMode: 'last-state' };
  const jm = s.jobManagerDeploymentStatus;
  if ((jm === 'MISSING' || jm === 'ERROR') && !(await haData())) {
    throw new UpgradeFailure(`JobManager deployment is missing and ${HA_MISSING} to make stateful upgrades. ${FINISHED_OR_DELETED}${MANUAL_RESTORE}`, 'UpgradeFailed');
  }
  return found;
}

/** setUpgradeSavepointPath: upgradeSavepointPath plus an UPGRADE FlinkStateSnapshot. */
async function recordUpgradeSavepoint(p: Pass, location: string): Promise<void> {
  await p.ops.createUpgradeSnapshot(p.fd, location);
  p.s.jobStatus.upgradeSavepointPath = location;
}

export type SuspendOutcome = 'waiting' | 'suspended' | 'stopped' | 'pending';

/**
 * Takes the running job down for `spec` (whose desired state may be running or suspended).
 * 'stopped': stopped now, resume in a later pass; 'suspended': nothing was running any more
 * (NOOP), resume right away; 'pending': cancellation goes on in the background; 'waiting': no
 * upgrade possible yet.
 */
export async function suspendForChange(p: Pass, spec: Spec, wantRunning: boolean, last: Spec): Promise<SuspendOutcome | NoUpgrade> {
  const upgrade = await jobUpgrade(p, spec);
  if ('unavailable' in upgrade) return upgrade;
  if (upgrade.suspendMode !== 'NOOP') await p.ops.event(p.fd, 'Normal', 'Suspended', 'Suspending existing deployment.');
  const result = await p.ops.cancelJob(p.fd, p.s, upgrade.suspendMode);
  if (result.savepoint) await recordUpgradeSavepoint(p, result.savepoint);
  if (result.pending) {
    p.s.reconciliationStatus.state = 'UPGRADING';
    editLastSpec(p.s, (last, meta) => {
      last.job.upgradeMode = upgrade.restoreMode;
      meta.firstDeployment = false;
    });
    return 'pending';
  }
  spec.job.upgradeMode = upgrade.restoreMode;
  const tm = p.ops.taskManagerInfo(p.fd, spec);
  if (wantRunning) recordSpec(p.fd, p.s, spec, 'suspended', true, tm);
  else recordSpec(p.fd, p.s, spec, 'suspended', false, tm);
  if (upgrade.suspendMode === 'NOOP') {
    last.job.upgradeMode = upgrade.restoreMode;
    return 'suspended';
  }
  await persist(p);
  return 'stopped';
}

/** A fresh job id (JobID.generate().toHexString()). */
export function newJobId(): string {
  return randomUUID().replaceAll('-', '');
}
