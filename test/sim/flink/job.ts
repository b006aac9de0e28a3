// The simulated job's state, explicit and inspectable, so that tests can prove what the
// sequence checker should conclude. Per simulated cluster (keyed by API URL) there is:
// - `storage`: what S3 (MinIO) would hold: every durable checkpoint and savepoint by path, each
//   with the SEQUENCE POSITION it captured (the last number the source had emitted, so a job
//   restored from it continues with position + 1);
// - one `FlinkJobModel` per FlinkDeployment (namespace/name), which outlives JobManagers: the last
//   completed checkpoint, the savepoints taken, every restore (from where, to which position),
//   the highest number emitted, the numbers dropped by the `dropRecords` knob, the registered
//   TaskManagers (with their process state: running, frozen, gone), the job currently run by a
//   live JobManager (`runtime`, see runtime.ts), tasks a killed JobManager left running
//   (`orphans`), and the HA leader lock (`lease`). Flink's own recovery rules decide restores
//   (cluster.ts): HA with a checkpoint -> that checkpoint; a savepoint to start from ->
//   that savepoint; else from scratch (sequence starts at 1 again, a reset).
import type { JobRuntime } from './runtime.ts';

export interface Snapshot {
  kind: 'checkpoint' | 'savepoint';
  /** Durable location; undefined for checkpoints kept only in JobManager memory. */
  path: string | undefined;
  /** Last sequence number emitted before the snapshot's barrier. */
  position: number;
  jobId: string;
  checkpointId?: number;
  atMs: number;
}

export interface RestoreRecord {
  atMs: number;
  jobId: string;
  /** Why the job (re)started: first start of a JobManager, or a restart after a task failure. */
  reason: 'jobmanager-start' | 'failover';
  source: 'checkpoint' | 'savepoint' | 'scratch';
  path?: string;
  /** The restored checkpoint's or savepoint's id. */
  checkpointId?: number;
  /** The position the snapshot holds (0 for scratch). */
  snapshotPosition: number;
  /** The position the job actually continued from (differs when a knob loses state). */
  restoredPosition: number;
  /** Task attempt number of the new execution. */
  attempt: number;
}

/**
 * What the TaskManager process is doing: running; frozen (SIGSTOP: it answers nothing, its
 * tasks stand still); gone (SIGKILL: its RPC endpoint refuses, nothing it ran goes on).
 */
export type ProcessState = 'running' | 'frozen' | 'gone';

/** A TaskManager process that registered with the cluster, and how its lines reach its log. */
export interface TaskManagerHandle {
  pod: string;
  slots: number;
  /** Its RPC address (`pekko.tcp://flink@<pod IP>:6122/user/rpc/taskmanager_0`), as RPC errors name it. */
  address: string;
  state: ProcessState;
  /** Wall-clock ms of the last heartbeat it answered (one every heartbeat.interval while it runs). */
  lastHeartbeatMs: number;
  /** Queues lines for the container's log (in order). */
  write(lines: string[]): void;
  /** Resolves when every queued line has been written. */
  flush(): Promise<void>;
}

/**
 * How the cluster learns that a TaskManager is gone, each the way Flink 1.20 learns it:
 * - `shutdown`: the pod got SIGTERM (deleted, with or without a grace period: the kubelet always
 *   signals first) and TaskExecutor.onStop disconnected from the ResourceManager and the JobMaster;
 * - `terminated`: KubernetesResourceManagerDriver saw the pod DELETED or its container terminated
 *   (a process killed inside it) and the ResourceManager closed the connection (onWorkerTerminated);
 * - `heartbeat-timeout`: no heartbeat answered for heartbeat.timeout (a frozen process).
 */
export type TaskManagerLoss = { kind: 'shutdown' } | { kind: 'terminated'; diagnostics: string } | { kind: 'heartbeat-timeout' };

/** The cause Flink passes along with a loss (the text after `because:` in its log lines). */
export function lossMessage(pod: string, loss: TaskManagerLoss): string {
  if (loss.kind === 'shutdown') return 'The TaskExecutor is shutting down.';
  if (loss.kind === 'terminated') return loss.diagnostics;
  return `The heartbeat of TaskManager with id ${pod} timed out.`;
}

/** The Kubernetes HA leader lock (the ConfigMap lock's holder and its last renewal). */
export interface LeaderLease {
  holder: string;
  /** Wall-clock ms of the last renewal. */
  renewedMs: number;
}

export class FlinkJobModel {
  readonly namespace: string;
  readonly name: string;
  readonly taskManagers = new Map<string, TaskManagerHandle>();
  /** The job of the live leading JobManager, while there is one. */
  runtime: JobRuntime | undefined;
  /**
   * Tasks whose JobManager was killed: they keep running on their TaskManagers until those hear
   * of a new leader or stop hearing from the old one (runtime.ts `orphan`).
   */
  readonly orphans = new Set<JobRuntime>();
  /** The JobManager process that leads (others wait as standbys). */
  leader: string | undefined;
  /** With Kubernetes HA: the leader lock, which outlives a JobManager that did not release it. */
  lease: LeaderLease | undefined;
  lastCheckpoint: Snapshot | undefined;
  /** Every completed checkpoint, oldest first (what a restore could fall back to). */
  readonly completedCheckpoints: Snapshot[] = [];
  /** Savepoint path -> position. */
  readonly savepoints = new Map<string, number>();
  readonly restores: RestoreRecord[] = [];
  highestEmitted = 0;
  readonly dropped: number[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(namespace: string, name: string) {
    this.namespace = namespace;
    this.name = name;
  }

  registerTaskManager(tm: TaskManagerHandle): void {
    this.taskManagers.set(tm.pod, tm);
    this.changed();
  }

  /** The cluster learnt that a TaskManager is gone (once: later news of the same loss is ignored). */
  taskManagerLost(pod: string, loss: TaskManagerLoss): void {
    if (!this.taskManagers.delete(pod)) return;
    this.runtime?.taskManagerLost(pod, loss);
    for (const o of [...this.orphans]) o.taskManagerLost(pod, loss);
    this.changed();
  }

  /** A new leader took the job over: the TaskManagers cancel what the dead JobManager left running. */
  newLeader(): void {
    for (const o of [...this.orphans]) o.shutdown();
  }

  /** Called on any change of TaskManagers (the runtime schedules on it). */
  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  changed(): void {
    for (const f of [...this.listeners]) f();
  }
}

export class FlinkWorld {
  /** Durable snapshots by path (the `flink-data` bucket). */
  readonly storage = new Map<string, Snapshot>();
  readonly models = new Map<string, FlinkJobModel>();

  model(namespace: string, name: string): FlinkJobModel {
    const key = `${namespace}/${name}`;
    let m = this.models.get(key);
    if (!m) this.models.set(key, (m = new FlinkJobModel(namespace, name)));
    return m;
  }

  /** Stops every running job (the simulation is shutting down). */
  close(): void {
    for (const m of this.models.values()) {
      m.runtime?.shutdown();
      m.newLeader();
    }
  }
}

const worlds = new Map<string, FlinkWorld>();

/** The Flink state of the simulated cluster behind `apiUrl` (one per fake API server). */
export function flinkWorld(apiUrl: string): FlinkWorld {
  const key = apiUrl.replace(/\/$/, '');
  let w = worlds.get(key);
  if (!w) worlds.set(key, (w = new FlinkWorld()));
  return w;
}

/** Forgets a cluster's Flink state (after its API server closed). */
export function dropFlinkWorld(apiUrl: string): void {
  const key = apiUrl.replace(/\/$/, '');
  worlds.get(key)?.close();
  worlds.delete(key);
}
