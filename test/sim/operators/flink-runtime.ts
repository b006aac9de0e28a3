// One execution of the job inside a live JobManager: scheduling onto TaskManager slots, the
// rate-limited source (ONE global sequence, source parallelism 1) rebalanced round-robin over
// the logger subtasks, periodic checkpoints (aligned: a checkpoint completes only once every
// record before its barrier has been logged), savepoints, stop-with-savepoint, cancel, and
// failover: a lost TaskManager fails the job, which restarts after the restart strategy's delay
// from the last completed checkpoint (or the savepoint it started from, or scratch) with the
// task attempt number + 1, replaying what came after the checkpoint. A JobManager that dies
// takes its execution with it (`shutdown`); the next one restores from HA (flink-cluster.ts).
import { randomBytes } from 'node:crypto';
import type { SimFaults } from '../faults.ts';
import type { RestartStrategy } from './flink-config.ts';
import type { FlinkJobModel, FlinkWorld, Snapshot, TaskManagerHandle } from './flink-job.ts';
import { HELLO_LOGGER, logLine, sequenceMessage, type LogLayout } from './flink-logs.ts';

export type FlinkJobState = 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'RESTARTING' | 'SUSPENDED';

const TERMINAL: readonly FlinkJobState[] = ['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED'];
const TICK_MS = 20;

export type FlinkKnobs = NonNullable<SimFaults['flink']>;

export interface RuntimeSettings {
  jobId: string;
  jobName: string;
  /** Our hello-world job: its subtasks log one SEQ line per record. */
  hello: boolean;
  /** Records per second, total. */
  rate: number;
  parallelism: number;
  checkpointIntervalMs: number | undefined;
  checkpointsDir: string | undefined;
  savepointsDir: string | undefined;
  restart: RestartStrategy;
  layout: LogLayout;
  /** The savepoint the job was submitted with (`execution.savepoint.path`), for restarts before any checkpoint. */
  initialSavepoint: Snapshot | undefined;
  /** Where completed checkpoints are recorded for HA; undefined without HA. */
  onCheckpoint: ((s: Snapshot) => Promise<void>) | undefined;
  /** A JobManager log line. */
  log(level: 'INFO' | 'WARN' | 'ERROR', logger: string, message: string): void;
  /** The latest `flink` knobs (refreshed in the background). */
  knobs(): FlinkKnobs;
  /** Reads the knobs now (a restore must see a knob set just before the fault). */
  refreshKnobs(): Promise<void>;
  /** Task deployment and snapshot durations, ms. */
  deployMs: number;
  savepointMs: number;
}

export interface SavepointTrigger {
  id: string;
  state: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  location?: string;
  error?: string;
  done: Promise<void>;
}

/** What the JobManager's REST API answers about the job. */
export interface JobView {
  jobId: string;
  jobName: string;
  state: FlinkJobState;
  /** All tasks RUNNING (the operator reports a RUNNING job whose tasks are not as CREATED). */
  tasksRunning: boolean;
  startTime: number;
  attempt: number;
  lastCheckpoint: Snapshot | undefined;
}

const JM_LOGGER = 'org.apache.flink.runtime.executiongraph.ExecutionGraph';
const CKPT_LOGGER = 'org.apache.flink.runtime.checkpoint.CheckpointCoordinator';

export class JobRuntime {
  state: FlinkJobState = 'INITIALIZING';
  tasksRunning = false;
  attempt = 0;
  /** The source's state: the last sequence number it emitted. */
  position = 0;
  readonly startTime = Date.now();
  lastCompleted: Snapshot | undefined;
  checkpointCounter = 0;
  readonly triggers = new Map<string, SavepointTrigger>();
  private readonly model: FlinkJobModel;
  private readonly world: FlinkWorld;
  private readonly s: RuntimeSettings;
  private assignment: TaskManagerHandle[] = [];
  private rr = 0;
  private runningSince = 0;
  private emittedThisRun = 0;
  private restartsUsed = 0;
  private stopped = false;
  /** Set by stop-with-savepoint: the source emits nothing more. */
  private draining = false;
  private checkpointInFlight = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  private checkpointer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(model: FlinkJobModel, world: FlinkWorld, settings: RuntimeSettings) {
    this.model = model;
    this.world = world;
    this.s = settings;
    this.unsubscribe = model.onChange(() => this.trySchedule());
  }

  get jobId(): string {
    return this.s.jobId;
  }

  view(): JobView {
    return { jobId: this.s.jobId, jobName: this.s.jobName, state: this.state, tasksRunning: this.tasksRunning, startTime: this.startTime, attempt: this.attempt, lastCheckpoint: this.lastCompleted };
  }

  /** Starts (or, after a failover, restarts) the execution from `from` (undefined = scratch). */
  begin(from: Snapshot | undefined, reason: 'jobmanager-start' | 'failover', checkpointCounter?: number): void {
    if (this.stopped) return;
    if (checkpointCounter !== undefined) this.checkpointCounter = checkpointCounter;
    const lose = from !== undefined && this.s.knobs().loseStateOnRestore === true;
    this.position = lose ? 0 : (from?.position ?? 0);
    this.model.restores.push({
      atMs: Date.now(),
      jobId: this.s.jobId,
      reason,
      source: from ? from.kind : 'scratch',
      ...(from?.path ? { path: from.path } : {}),
      snapshotPosition: from?.position ?? 0,
      restoredPosition: this.position,
      attempt: this.attempt,
    });
    if (from?.kind === 'checkpoint') this.s.log('INFO', CKPT_LOGGER, `Restoring job ${this.s.jobId} from Checkpoint ${from.checkpointId ?? 0} @ ${from.atMs} for ${this.s.jobId} located at ${from.path ?? '<checkpoint>'}.`);
    else if (from) this.s.log('INFO', CKPT_LOGGER, `Starting job ${this.s.jobId} from savepoint ${from.path} (allowNonRestoredState=false)`);
    else this.s.log('INFO', CKPT_LOGGER, 'No checkpoint found during restore.');
    const prev = this.state;
    this.state = 'RUNNING';
    this.s.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state ${prev === 'INITIALIZING' ? 'CREATED' : prev} to RUNNING.`);
    this.trySchedule();
  }

  /** The job cannot even start (e.g. its savepoint is gone): FAILED, as Flink reports it. */
  failAtStart(message: string): void {
    this.state = 'FAILED';
    this.s.log('ERROR', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state INITIALIZING to FAILED: ${message}`);
  }

  /** Deploys the tasks once enough slots are registered. */
  private trySchedule(): void {
    if (this.stopped || this.state !== 'RUNNING' || this.tasksRunning || this.assignment.length) return;
    const tms = [...this.model.taskManagers.values()];
    const slots: TaskManagerHandle[] = tms.flatMap((tm) => Array.from({ length: tm.slots }, () => tm));
    if (slots.length < this.s.parallelism) return;
    this.assignment = slots.slice(0, this.s.parallelism);
    const attempt = this.attempt;
    this.later(this.s.deployMs, () => {
      if (this.state !== 'RUNNING' || this.attempt !== attempt || this.tasksRunning) return;
      if (this.assignment.some((tm) => !this.model.taskManagers.has(tm.pod))) {
        this.assignment = [];
        return this.trySchedule();
      }
      this.assignment.forEach((tm, i) => tm.write([logLine(this.s.layout, 'INFO', 'org.apache.flink.runtime.taskmanager.Task', `${this.taskName()} (${i + 1}/${this.s.parallelism})#${attempt} switched from DEPLOYING to RUNNING.`)]));
      this.tasksRunning = true;
      this.runningSince = Date.now();
      this.emittedThisRun = 0;
      this.rr = 0;
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      this.ticker.unref();
      if (this.s.checkpointIntervalMs) {
        this.checkpointer = setInterval(() => void this.checkpoint(), this.s.checkpointIntervalMs);
        this.checkpointer.unref();
      }
    });
  }

  /** The chained task the subtasks run (HelloJob: map `log-sequence` chained with sink `discard`). */
  private taskName(): string {
    return this.s.hello ? 'log-sequence -> discard' : 'Source: Custom Source -> Sink: Unnamed';
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) f();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private stopTasks(): void {
    this.tasksRunning = false;
    this.assignment = [];
    if (this.ticker) clearInterval(this.ticker);
    if (this.checkpointer) clearInterval(this.checkpointer);
    this.ticker = undefined;
    this.checkpointer = undefined;
  }

  /** Emits the records due by now at the configured rate, round-robin over the subtasks. */
  private tick(): void {
    if (!this.tasksRunning || this.draining) return;
    const due = Math.floor(((Date.now() - this.runningSince) * this.s.rate) / 1000) - this.emittedThisRun;
    if (due <= 0) return;
    const drop = new Set(this.s.knobs().dropRecords ?? []);
    const batches = new Map<TaskManagerHandle, string[]>();
    for (let i = 0; i < Math.min(due, 5000); i++) {
      const seq = ++this.position;
      this.emittedThisRun += 1;
      this.model.highestEmitted = Math.max(this.model.highestEmitted, seq);
      const subtask = this.rr++ % this.s.parallelism;
      if (!this.s.hello) continue;
      if (drop.has(seq)) {
        if (!this.model.dropped.includes(seq)) this.model.dropped.push(seq);
        continue;
      }
      const tm = this.assignment[subtask]!;
      const thread = `${this.taskName()} (${subtask + 1}/${this.s.parallelism})#${this.attempt}`;
      let lines = batches.get(tm);
      if (!lines) batches.set(tm, (lines = []));
      lines.push(logLine(this.s.layout, 'INFO', HELLO_LOGGER, sequenceMessage(seq, subtask, this.attempt), thread));
    }
    for (const [tm, lines] of batches) tm.write(lines);
  }

  /** Waits until every record emitted so far is in the TaskManagers' logs (barrier alignment). */
  private async aligned(): Promise<void> {
    await Promise.all([...new Set(this.assignment)].map((tm) => tm.flush()));
  }

  private async checkpoint(): Promise<void> {
    if (!this.tasksRunning || this.checkpointInFlight || this.draining) return;
    this.checkpointInFlight = true;
    try {
      const id = ++this.checkpointCounter;
      const attempt = this.attempt;
      const position = this.position;
      const started = Date.now();
      await this.aligned();
      if (this.stopped || !this.tasksRunning || this.attempt !== attempt) return;
      const snapshot: Snapshot = {
        kind: 'checkpoint',
        path: this.s.checkpointsDir ? `${this.s.checkpointsDir.replace(/\/$/, '')}/${this.s.jobId}/chk-${id}` : undefined,
        position,
        jobId: this.s.jobId,
        checkpointId: id,
        atMs: Date.now(),
      };
      if (snapshot.path) this.world.storage.set(snapshot.path, snapshot);
      // With HA a checkpoint only counts once its pointer is in the HA store.
      if (this.s.onCheckpoint && snapshot.path) await this.s.onCheckpoint(snapshot);
      if (this.stopped || this.attempt !== attempt) return;
      this.lastCompleted = snapshot;
      this.model.lastCheckpoint = snapshot;
      this.s.log('INFO', CKPT_LOGGER, `Completed checkpoint ${id} for job ${this.s.jobId} (${1024 + position * 8} bytes, checkpointDuration=${Date.now() - started} ms, finalizationTime=0 ms).`);
    } catch (err) {
      this.s.log('WARN', CKPT_LOGGER, `Failed to trigger or complete checkpoint for job ${this.s.jobId}: ${String(err)}`);
    } finally {
      this.checkpointInFlight = false;
    }
  }

  /** A TaskManager went away: if it ran tasks, the job fails over. */
  taskManagerLost(pod: string): void {
    if (this.stopped || TERMINAL.includes(this.state)) return;
    if (!this.assignment.some((tm) => tm.pod === pod)) return;
    this.s.log('WARN', 'org.apache.flink.runtime.jobmaster.JobMaster', `The heartbeat of TaskManager with id ${pod} timed out.`);
    this.failover(`TaskManager ${pod} is no longer reachable`);
  }

  private failover(cause: string): void {
    if (this.state !== 'RUNNING') return;
    this.stopTasks();
    if (this.s.restart.kind === 'none' || this.restartsUsed >= this.s.restart.attempts) {
      this.state = 'FAILED';
      this.s.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to FAILING.`);
      this.s.log('ERROR', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state FAILING to FAILED: ${cause} (restart strategy: ${this.s.restart.kind === 'none' ? 'none' : 'attempts exhausted'}).`);
      return;
    }
    this.restartsUsed += 1;
    this.state = 'RESTARTING';
    this.s.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to RESTARTING.`);
    const delay = this.s.restart.delayMs;
    this.later(delay, () => {
      void this.s.refreshKnobs().finally(() => {
        if (this.stopped || this.state !== 'RESTARTING') return;
        this.attempt += 1;
        this.begin(this.lastCompleted ?? this.s.initialSavepoint, 'failover');
      });
    });
  }

  /** Triggers a savepoint; with `stop`, the source stops first and the job ends FINISHED. */
  triggerSavepoint(dir: string | undefined, stop = false): SavepointTrigger {
    return this.trigger('savepoint', dir, stop);
  }

  /** A manual checkpoint: like a periodic one, it becomes the latest to restore from. */
  triggerCheckpoint(): SavepointTrigger {
    return this.trigger('checkpoint', undefined, false);
  }

  private trigger(kind: 'savepoint' | 'checkpoint', dir: string | undefined, stop: boolean): SavepointTrigger {
    const id = randomBytes(16).toString('hex');
    const trigger: SavepointTrigger = { id, state: 'IN_PROGRESS', done: Promise.resolve() };
    this.triggers.set(id, trigger);
    const fail = (error: string): void => {
      trigger.state = 'FAILED';
      trigger.error = error;
      if (stop) this.draining = false;
      this.s.log('WARN', CKPT_LOGGER, `Failed to trigger ${kind} for job ${this.s.jobId}: ${error}`);
    };
    const target = kind === 'savepoint' ? (dir ?? this.s.savepointsDir) : this.s.checkpointsDir;
    if (kind === 'savepoint' && !target) {
      fail("No savepoint directory configured. You can either specify a directory when triggering this savepoint or configure a cluster-wide default via key 'state.savepoints.dir'.");
      return trigger;
    }
    if (!this.tasksRunning) {
      fail(`Not all required tasks are currently running (job state ${this.state}).`);
      return trigger;
    }
    const attempt = this.attempt;
    if (stop) this.draining = true;
    const position = this.position;
    trigger.done = (async () => {
      await this.aligned();
      await new Promise<void>((r) => this.later(this.s.savepointMs, r));
      if (this.stopped || this.attempt !== attempt || !this.tasksRunning) return fail('Checkpoint was declined (tasks not ready or job restarted).');
      if (kind === 'savepoint' && this.s.knobs().failSavepoints) return fail('java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: Asynchronous task checkpoint failed (simulated: failSavepoints).');
      const checkpointId = ++this.checkpointCounter;
      const base = target?.replace(/\/$/, '');
      const path = kind === 'savepoint' ? `${base}/savepoint-${this.s.jobId.slice(0, 6)}-${randomBytes(6).toString('hex')}` : base ? `${base}/${this.s.jobId}/chk-${checkpointId}` : undefined;
      const snapshot: Snapshot = { kind, path, position, jobId: this.s.jobId, checkpointId, atMs: Date.now() };
      if (path) this.world.storage.set(path, snapshot);
      if (kind === 'savepoint') this.model.savepoints.set(path!, position);
      else {
        if (this.s.onCheckpoint && path) await this.s.onCheckpoint(snapshot);
        this.lastCompleted = snapshot;
        this.model.lastCheckpoint = snapshot;
      }
      trigger.state = 'COMPLETED';
      trigger.location = path;
      this.s.log('INFO', CKPT_LOGGER, `Completed checkpoint ${checkpointId} for job ${this.s.jobId} (${kind} ${path ?? 'in memory'}).`);
      if (stop) {
        this.stopTasks();
        this.state = 'FINISHED';
        this.s.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to FINISHED.`);
      }
    })().finally(() => {
      if (stop) this.draining = false;
    });
    return trigger;
  }

  cancel(): void {
    if (TERMINAL.includes(this.state)) return;
    const prev = this.state;
    this.stopTasks();
    this.state = 'CANCELED';
    this.s.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state ${prev} to CANCELED.`);
  }

  /** The JobManager process is gone: nothing of this execution survives but what was stored. */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTasks();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsubscribe();
    for (const t of this.triggers.values()) {
      if (t.state === 'IN_PROGRESS') {
        t.state = 'FAILED';
        t.error = 'JobManager lost';
      }
    }
    if (this.model.runtime === this) this.model.runtime = undefined;
  }
}
