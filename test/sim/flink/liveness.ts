// How the simulated JobManager's ResourceManager learns that a TaskManager is gone when the
// TaskManager cannot say goodbye itself (a pod deleted while its process ran says it:
// TaskExecutor.onStop, cluster.ts):
// - the pod watch of Flink 1.20's KubernetesResourceManagerDriver: a TaskManager pod DELETED, or
//   one whose container terminated (its process killed), ends the worker at once
//   (ActiveResourceManager.onWorkerTerminated), with KubernetesPod's diagnostics, and the driver
//   removes a terminated pod;
// - the heartbeat monitor: a TaskManager that answers no heartbeat for heartbeat.timeout (a frozen
//   process) is given up (ResourceManager.TaskManagerHeartbeatListener), and since the
//   ResourceManager can stop workers, its pod is deleted (stopWorkerIfSupported).
// Both tell the JobMaster through FlinkJobModel.taskManagerLost, which logs Flink's lines.
import type { KubeObject } from '../api-client.ts';
import { simMs } from '../time-scale.ts';
import type { FlinkClocks } from './config.ts';
import type { FlinkJobModel } from './job.ts';

const MONITOR_MS = 20;

interface ContainerStatus {
  name: string;
  state?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
}

function terminatedContainers(pod: KubeObject | undefined): ContainerStatus[] {
  return ((pod?.status?.containerStatuses ?? []) as ContainerStatus[]).filter((c) => c.state?.terminated);
}

/** KubernetesPod.isTerminated: a container terminated, or the pod Failed. */
function isTerminated(pod: KubeObject): boolean {
  return terminatedContainers(pod).length > 0 || pod.status?.phase === 'Failed';
}

/** KubernetesPod.getTerminatedDiagnostics (Java prints a missing value as `null`). */
export function terminatedDiagnostics(pod: KubeObject | undefined): string {
  const str = (v: unknown): string => (v === undefined || v === null ? 'null' : String(v));
  const statuses = terminatedContainers(pod).map((c) => `${c.name}(exitCode=${str(c.state?.terminated?.exitCode)}, reason=${str(c.state?.terminated?.reason)}, message=${str(c.state?.terminated?.message)})`);
  const failed = pod?.status?.phase === 'Failed' ? `, pod status: Failed(reason=${str(pod.status.reason)}, message=${str(pod.status.message)})` : '';
  return `Pod terminated, container termination statuses: [${statuses.join(',')}]${failed}`;
}

export interface PodLoss {
  pod: string;
  diagnostics: string;
  /** The pod is still there (terminated): the driver deletes it. */
  present: boolean;
}

/**
 * The pod watch, one list at a time: of the TaskManagers `registered` before `pods` was listed,
 * those whose pod is gone or terminated. `lastSeen` keeps each pod as last listed (a deleted
 * pod's diagnostics come from its last state).
 */
export function lostPods(registered: readonly string[], pods: readonly KubeObject[], lastSeen: Map<string, KubeObject>): PodLoss[] {
  const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
  const lost: PodLoss[] = [];
  for (const name of registered) {
    const pod = byName.get(name);
    if (!pod) lost.push({ pod: name, diagnostics: terminatedDiagnostics(lastSeen.get(name)), present: false });
    else if (isTerminated(pod)) lost.push({ pod: name, diagnostics: terminatedDiagnostics(pod), present: true });
  }
  lastSeen.clear();
  for (const [name, pod] of byName) lastSeen.set(name, pod);
  return lost;
}

/**
 * The heartbeat monitor of the leading JobManager, until `signal` aborts: a TaskManager that has
 * not answered since heartbeat.timeout (it stopped at its last answer, cluster.ts) is lost,
 * and `stopWorker` removes it.
 */
export async function monitorHeartbeats(model: FlinkJobModel, clocks: FlinkClocks, signal: AbortSignal, stopWorker: (pod: string) => Promise<void>): Promise<void> {
  const timeout = simMs(clocks.heartbeatTimeoutMs);
  while (!signal.aborted) {
    const now = Date.now();
    for (const tm of [...model.taskManagers.values()]) {
      if (tm.state === 'running' || now - tm.lastHeartbeatMs <= timeout) continue;
      model.taskManagerLost(tm.pod, { kind: 'heartbeat-timeout' });
      await stopWorker(tm.pod);
    }
    await new Promise((r) => setTimeout(r, MONITOR_MS).unref());
  }
}
