// Suspending a running job for a spec change, per upgrade mode: stateless cancels and deletes
// the cluster with its HA data; savepoint stops the job with a savepoint, records it
// (upgradeSavepointPath + an UPGRADE FlinkStateSnapshot) and deletes cluster and HA data;
// last-state deletes the cluster but keeps the HA data the next JobManager restores from.
import type { KubeObject } from '../api-client.ts';
import { hasHaData } from './flink-ha.ts';
import type { FlinkOps } from './flink-ops.ts';
import { errorJson, serializeSpec, type Status } from './flink-status.ts';

/** Where the next deployment continues from. */
export interface Carry {
  restorePath?: string;
  keepJobId?: string;
}

/** Stops the running job; undefined when it could not be (the error is already saved). */
export async function suspendJob(ops: FlinkOps, fd: KubeObject, s: Status, mode: string, ha: boolean): Promise<Carry | undefined> {
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  const runtime = ops.world.model(ns, name).runtime;
  const carry: Carry = {};
  if (mode === 'stateless') {
    runtime?.cancel();
    await ops.teardown(ns, name, true);
  } else if (mode === 'savepoint' && runtime?.view().tasksRunning) {
    const trigger = await ops.waitTrigger(runtime.triggerSavepoint(undefined, true));
    if (trigger.state !== 'COMPLETED') {
      Object.assign(s, { error: errorJson('UpgradeFailureException', `Savepoint failed: ${trigger.error ?? 'timeout'}`), reconciliationStatus: { ...s.reconciliationStatus, state: 'DEPLOYED' } });
      await ops.event(fd, 'Warning', 'SavepointError', `Savepoint failed for upgrade: ${trigger.error ?? 'timeout'}`);
      await ops.save(fd, s);
      return undefined;
    }
    carry.restorePath = trigger.location;
    s.jobStatus.upgradeSavepointPath = carry.restorePath;
    await ops.createUpgradeSnapshot(fd, carry.restorePath!);
    await ops.teardown(ns, name, true);
  } else if (ha && (await hasHaData(ops.api, ns, name))) {
    // last-state, or the savepoint mode's fallback when the job is not running
    carry.keepJobId = s.jobStatus.jobId;
    await ops.teardown(ns, name, false);
  } else {
    Object.assign(s, { error: errorJson('UpgradeFailureException', 'Job is not running and HA metadata is not available or usable for executing the upgrade'), reconciliationStatus: { ...s.reconciliationStatus, state: 'DEPLOYED' } });
    await ops.save(fd, s);
    return undefined;
  }
  s.jobStatus.state = 'FINISHED';
  s.jobManagerDeploymentStatus = 'MISSING';
  return carry;
}

/** Records the suspended spec as reconciled. */
export async function recordSuspended(ops: FlinkOps, fd: KubeObject, s: Status): Promise<void> {
  const rs = s.reconciliationStatus;
  s.reconciliationStatus = { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, false), ...(rs.lastStableSpec ? { lastStableSpec: rs.lastStableSpec } : {}), reconciliationTimestamp: Date.now() };
  s.jobManagerDeploymentStatus = 'MISSING';
  await ops.event(fd, 'Normal', 'Suspended', 'Job suspended');
  await ops.save(fd, s);
}
