// FlinkStateSnapshot handling as the operator's FlinkStateSnapshotController does it (1.10+):
// labels snapshot.type / snapshot.trigger-type / snapshot.state / job-reference.*; an upgrade
// savepoint (`alreadyExists`) is COMPLETED at once with its path; a manual one goes
// TRIGGER_PENDING -> IN_PROGRESS (triggerId) -> COMPLETED (path, resultTimestamp), is ABANDONED
// when its job is not running, and on failure retries until `failures > backoffLimit` (default
// -1 = forever), then FAILED. Deleting a COMPLETED savepoint with disposeOnDelete (default true)
// disposes its data, which needs the job's JobManager: without one, the finalizer blocks.
import type { KubeObject, SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { FLINK_GROUP } from './flink-deploy.ts';
import type { FlinkWorld } from './flink-job.ts';
import { type CustomResourceCache, nowTime, patchMeta, writeStatus } from './operator-kit.ts';

export const SNAPSHOT_FINALIZER = 'flinkstatesnapshots.flink.apache.org/finalizer';
const SOURCE = { component: 'Snapshot' };

export interface SnapshotDeps {
  ctx: ControllerContext;
  api: SimClient;
  world: FlinkWorld;
  deployments: CustomResourceCache;
  snapshots: CustomResourceCache;
}

function jobRunning(fd: KubeObject | undefined): boolean {
  return fd?.status?.jobStatus?.state === 'RUNNING';
}

function refText(spec: Record<string, any>): string {
  return `JobReference(kind=${spec.jobReference?.kind ?? 'null'}, name=${spec.jobReference?.name ?? 'null'})`;
}

export async function reconcileSnapshot(d: SnapshotDeps, ns: string, name: string): Promise<void> {
  let snap = d.snapshots.get(ns, name);
  if (!snap) return;
  const path = `${FLINK_GROUP}/namespaces/${ns}/flinkstatesnapshots/${name}`;
  const spec = (snap.spec ?? {}) as Record<string, any>;
  const savepoint = spec.savepoint as Record<string, any> | undefined;
  const ref = spec.jobReference as { kind?: string; name?: string } | undefined;
  const fd = ref?.kind === 'FlinkDeployment' && ref.name ? d.deployments.get(ns, ref.name) : undefined;
  const runtime = fd ? d.world.model(ns, fd.metadata.name!).runtime : undefined;
  const finalizers = snap.metadata.finalizers ?? [];

  if (snap.metadata.deletionTimestamp) {
    if (!finalizers.includes(SNAPSHOT_FINALIZER)) return;
    const location = snap.status?.path as string | undefined;
    if (savepoint && snap.status?.state === 'COMPLETED' && savepoint.disposeOnDelete !== false && location) {
      if (!runtime || !jobRunning(fd)) {
        await d.ctx.events.record(snap, SOURCE, { type: 'Warning', reason: 'CleanupFailed', message: `Cannot dispose savepoint ${location}: the job of ${refText(spec)} is not running` });
        return;
      }
      d.world.storage.delete(location);
      d.world.model(ns, fd!.metadata.name!).savepoints.delete(location);
    }
    await patchMeta(d.api, d.snapshots, path, snap, { finalizers: finalizers.filter((f) => f !== SNAPSHOT_FINALIZER) });
    return;
  }
  if (!finalizers.includes(SNAPSHOT_FINALIZER)) snap = await patchMeta(d.api, d.snapshots, path, snap, { finalizers: [...finalizers, SNAPSHOT_FINALIZER] });

  const status: Record<string, any> = { ...(snap.status ?? {}) };
  status.state ??= 'TRIGGER_PENDING';
  const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : -1;
  const abandon = (message: string): void => {
    Object.assign(status, { state: 'ABANDONED', error: message, resultTimestamp: nowTime() });
    delete status.path;
    void d.ctx.events.record(snap!, SOURCE, { type: 'Warning', reason: 'SnapshotAbandoned', message });
  };
  const failed = (message: string): void => {
    status.failures = (status.failures ?? 0) + 1;
    status.error = message;
    delete status.triggerId;
    if (backoffLimit >= 0 && status.failures > backoffLimit) {
      status.state = 'FAILED';
      status.resultTimestamp = nowTime();
    } else status.state = 'TRIGGER_PENDING';
    void d.ctx.events.record(snap!, SOURCE, { type: 'Warning', reason: 'SnapshotError', message });
  };

  if (status.state === 'TRIGGER_PENDING') {
    if (savepoint?.alreadyExists) {
      Object.assign(status, { state: 'COMPLETED', path: savepoint.path, resultTimestamp: nowTime() });
      delete status.error;
    } else if (!fd) {
      await d.ctx.events.record(snap, SOURCE, { type: 'Warning', reason: 'ValidationError', message: `Secondary resource ${refText(spec)} for savepoint ${name} was not found` });
    } else if (!jobRunning(fd) || !runtime) {
      abandon(`Secondary resource ${refText(spec)} for savepoint ${name} is not running`);
    } else {
      const trigger = savepoint ? runtime.triggerSavepoint(savepoint.path) : runtime.triggerCheckpoint();
      Object.assign(status, { state: 'IN_PROGRESS', triggerId: trigger.id, triggerTimestamp: nowTime() });
    }
  } else if (status.state === 'IN_PROGRESS') {
    const trigger = status.triggerId ? runtime?.triggers.get(status.triggerId) : undefined;
    if (!jobRunning(fd)) abandon(`Secondary resource ${refText(spec)} for savepoint ${name} is not running`);
    else if (!trigger) failed(`Snapshot trigger ${status.triggerId} of ${name} is unknown to the JobManager`);
    else if (trigger.state === 'COMPLETED') {
      Object.assign(status, { state: 'COMPLETED', ...(trigger.location ? { path: trigger.location } : {}), resultTimestamp: nowTime() });
      delete status.error;
    } else if (trigger.state === 'FAILED') failed(trigger.error ?? 'snapshot failed');
  }

  snap = await writeStatus(d.api, d.snapshots, path, snap, status);
  await patchMeta(d.api, d.snapshots, path, snap, {
    labels: {
      'snapshot.type': savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      'snapshot.trigger-type': snap.metadata.labels?.['snapshot.trigger-type'] ?? 'MANUAL',
      'snapshot.state': String(status.state),
      ...(fd ? { 'job-reference.kind': 'FlinkDeployment', 'job-reference.name': fd.metadata.name! } : {}),
    },
  });
}
