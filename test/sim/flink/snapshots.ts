// FlinkStateSnapshot handling as the operator's FlinkStateSnapshotController does it in 1.15.0:
// - labels snapshot.type / snapshot.trigger-type / snapshot.state / job-reference.*;
// - validation: a manual snapshot whose target does not exist stays TRIGGER_PENDING with a
//   ValidationError event ("Target for snapshot <ns>/<name> was not found");
// - an upgrade savepoint (`alreadyExists`) is COMPLETED at once, triggerTimestamp = resultTimestamp;
// - a manual one goes TRIGGER_PENDING -> IN_PROGRESS (triggerId) -> COMPLETED (path,
//   resultTimestamp), is ABANDONED when its job is not RUNNING;
// - a failure (updateErrorStatus): FAILED, failures + 1, the error as the JSON of a
//   ReconciliationException, a Warning SavepointError / CheckpointError carrying that JSON; it is
//   retried (TRIGGER_PENDING after 10 s * 2^(failures-1)) only while failures <= backoffLimit, so
//   the default -1 means FAILED for good on the first failure;
// - deletion: an IN_PROGRESS savepoint keeps its finalizer, and since cleanup never observes the
//   trigger again it stays blocked until someone removes the finalizer; a COMPLETED one with
//   disposeOnDelete (default true) is disposed, which needs its job RUNNING (else CleanupFailed).
import type { KubeObject } from '../api-client.ts';
import { simMs } from '../time-scale.ts';
import { wallDuration } from './operator-config.ts';
import { FLINK_GROUP } from './deploy.ts';
import type { FlinkOps } from './ops.ts';
import { errorJson } from './status.ts';
import { patchMeta, writeStatus } from '../controllers/operator-kit.ts';

export const SNAPSHOT_FINALIZER = 'flinkstatesnapshots.flink.apache.org/finalizer';

/** The time format of the snapshot status (DateTimeUtils.kubernetes). */
function kubeTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function jobRunning(fd: KubeObject | undefined): boolean {
  return fd?.status?.jobStatus?.state === 'RUNNING';
}

function refText(spec: Record<string, any>): string {
  return `JobReference(kind=${spec.jobReference?.kind ?? 'null'}, name=${spec.jobReference?.name ?? 'null'})`;
}

/** A snapshot failure on its way to updateErrorStatus. */
class SnapshotFailure extends Error {}

/** FlinkStateSnapshotController.cleanup; true when the finalizer may go. */
async function cleanupAllowed(ops: FlinkOps, snap: KubeObject, fd: KubeObject | undefined): Promise<boolean> {
  const spec = (snap.spec ?? {}) as Record<string, any>;
  const savepoint = spec.savepoint as Record<string, any> | undefined;
  if (!savepoint || savepoint.disposeOnDelete === false || !spec.jobReference?.name) return true;
  const state = snap.status?.state as string | undefined;
  if (state === 'IN_PROGRESS') return false;
  if (state !== 'COMPLETED') return true;
  const problem = !fd ? 'Cannot dispose of snapshot because referenced Flink job cannot be found!' : !jobRunning(fd) ? 'Cannot dispose of snapshot because referenced Flink job is not running!' : undefined;
  if (problem) {
    await ops.event(snap, 'Warning', 'CleanupFailed', problem, 'Snapshot');
    return false;
  }
  const location = snap.status?.path as string | undefined;
  if (location) {
    ops.world.storage.delete(location);
    ops.world.model(snap.metadata.namespace!, fd!.metadata.name!).savepoints.delete(location);
  }
  return true;
}

/** One pass; answers when to look again (wall-clock ms), undefined for never. */
export async function reconcileSnapshot(ops: FlinkOps, snap: KubeObject): Promise<number | undefined> {
  const ns = snap.metadata.namespace!;
  const name = snap.metadata.name!;
  const path = `${FLINK_GROUP}/namespaces/${ns}/flinkstatesnapshots/${name}`;
  const spec = (snap.spec ?? {}) as Record<string, any>;
  const savepoint = spec.savepoint as Record<string, any> | undefined;
  const ref = spec.jobReference as { kind?: string; name?: string } | undefined;
  const fd = ref?.kind === 'FlinkDeployment' && ref.name ? ops.deployments.get(ns, ref.name) : undefined;
  const finalizers = snap.metadata.finalizers ?? [];
  const interval = wallDuration(ops.config.conf, 'kubernetes.operator.reconcile.interval');

  if (snap.metadata.deletionTimestamp) {
    if (!finalizers.includes(SNAPSHOT_FINALIZER)) return undefined;
    if (!(await cleanupAllowed(ops, snap, fd))) return interval;
    await patchMeta(ops.api, ops.snapshots, path, snap, { finalizers: finalizers.filter((f) => f !== SNAPSHOT_FINALIZER) });
    return undefined;
  }
  if (!finalizers.includes(SNAPSHOT_FINALIZER)) snap = await patchMeta(ops.api, ops.snapshots, path, snap, { finalizers: [...finalizers, SNAPSHOT_FINALIZER] });

  const status: Record<string, any> = { state: 'TRIGGER_PENDING', failures: 0, ...(snap.status ?? {}) };
  const runtime = fd ? ops.rest(fd) : undefined;
  const abandonIfNotRunning = async (): Promise<boolean> => {
    const message = !fd ? `Secondary resource ${refText(spec)} for savepoint ${name} was not found` : !jobRunning(fd) ? `Secondary resource ${refText(spec)} for savepoint ${name} is not running` : undefined;
    if (!message) return false;
    await ops.event(snap, 'Warning', 'SnapshotAbandoned', message, 'Snapshot');
    Object.assign(status, { state: 'ABANDONED', error: message, resultTimestamp: kubeTime() });
    delete status.path;
    return true;
  };
  let retryAfter: number | undefined;
  try {
    // StateSnapshotObserver
    if (status.state === 'IN_PROGRESS' && status.triggerId && !(await abandonIfNotRunning())) {
      const trigger = runtime?.triggers.get(status.triggerId);
      if (!trigger) throw new SnapshotFailure(`Savepoint trigger ${status.triggerId} is unknown to the JobManager of ${refText(spec)}`);
      if (trigger.state === 'FAILED') throw new SnapshotFailure(trigger.error ?? 'snapshot failed');
      if (trigger.state === 'COMPLETED') {
        Object.assign(status, { state: 'COMPLETED', path: trigger.location ?? '', resultTimestamp: kubeTime() });
        delete status.error;
      }
    }
    // validation, then StateSnapshotReconciler
    const alreadyExists = savepoint?.alreadyExists === true;
    if (!alreadyExists && !fd && status.state === 'TRIGGER_PENDING') {
      await ops.event(snap, 'Warning', 'ValidationError', `Target for snapshot ${ns}/${ref?.name ?? 'null'} was not found`, 'Operator');
    } else if (status.state === 'TRIGGER_PENDING') {
      if (alreadyExists) {
        const now = kubeTime();
        Object.assign(status, { state: 'COMPLETED', path: savepoint.path, resultTimestamp: now, triggerTimestamp: now });
        delete status.error;
      } else if (!(await abandonIfNotRunning())) {
        const trigger = savepoint ? runtime?.triggerSavepoint(savepoint.path) : runtime?.triggerCheckpoint();
        if (!trigger) throw new SnapshotFailure(`The JobManager of ${refText(spec)} does not answer`);
        Object.assign(status, { state: 'IN_PROGRESS', triggerId: trigger.id, triggerTimestamp: kubeTime() });
      }
    }
  } catch (err) {
    if (!(err instanceof SnapshotFailure)) throw err;
    // FlinkStateSnapshotController.updateErrorStatus
    status.failures = (status.failures ?? 0) + 1;
    Object.assign(status, { state: 'FAILED', resultTimestamp: kubeTime(), error: errorJson('ReconciliationException', err.message) });
    await ops.event(snap, 'Warning', savepoint ? 'SavepointError' : 'CheckpointError', status.error, 'Snapshot');
    const limit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : -1;
    if (status.failures <= limit) {
      status.state = 'TRIGGER_PENDING';
      retryAfter = simMs(10_000 * 2 ** (status.failures - 1));
    }
  }

  snap = await writeStatus(ops.api, ops.snapshots, path, snap, status);
  await patchMeta(ops.api, ops.snapshots, path, snap, {
    labels: {
      'snapshot.type': savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      'snapshot.trigger-type': snap.metadata.labels?.['snapshot.trigger-type'] ?? 'MANUAL',
      'snapshot.state': String(status.state),
      ...(fd ? { 'job-reference.kind': 'FlinkDeployment', 'job-reference.name': fd.metadata.name! } : {}),
    },
  });
  if (retryAfter !== undefined) return retryAfter;
  if (status.state === 'COMPLETED' || status.state === 'ABANDONED' || status.state === 'FAILED') return undefined;
  return interval;
}
