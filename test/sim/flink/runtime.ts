// One execution of the job inside a live JobManager: scheduling onto TaskManager slots, the
// rate-limited source (ONE global sequence, source parallelism 1) rebalanced round-robin over
// the logger subtasks, periodic checkpoints (aligned: a checkpoint completes only once every
// record before its barrier has been logged), savepoints, stop-with-savepoint, cancel, and
// failover: a lost TaskManager fails the job once the cluster learns of the loss (job.ts
// TaskManagerLoss, logged as Flink's ResourceManager and JobMaster log it), and the job restarts
// after the restart strategy's delay from the last completed checkpoint (or the savepoint it
// started from, or scratch) with the task attempt number + 1, replaying what came after the
// checkpoint. Until the loss is noticed the tasks count as running: a frozen or killed
// TaskManager emits nothing (the pipeline stands), and checkpoint triggers sent to it fail (a
// frozen one after pekko.ask.timeout, a dead one at once), each using up its id. A JobManager
// shut down (its pod deleted) suspends the job and its tasks stop (`shutdown`); one killed leaves
// its tasks running on the TaskManagers (`orphan`) until a new leader takes over. The next
// JobManager restores from HA (cluster.ts).
// Configured durations (rate, checkpoint interval, restart delay, RPC timeout) run on the
// simulation's clock (time-scale.ts). The `flink` fault knobs make it misbehave on purpose
// (faults.ts).
import { randomBytes } from 'node:crypto';
import type { SimFaults } from '../faults.ts';
import { simElapsed, simMs } from '../time-scale.ts';
import type { FlinkClocks, RestartStrategy } from './config.ts';
import { lossMessage, type FlinkJobModel, type FlinkWorld, type Snapshot, type TaskManagerHandle, type TaskManagerLoss } from './job.ts';
import { HELLO_LOGGER, logLine, sequenceMessage, type LogLayout } from './logs.ts';

export type FlinkJobState = 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'RESTARTING' | 'SUSPENDED';

const TERMINAL: readonly FlinkJobState[] = ['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED'];
const GLOBALLY_TERMINAL: readonly FlinkJobState[] = ['FAILED', 'CANCELED', 'FINISHED'];
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
  /** A trigger that failed used up its id: the HA id counter moves past it (undefined without HA). */
  onIdUsed: ((id: number) => Promise<void>) | undefined;
  /** The job reached a globally terminal state (its HA entries are cleaned up). */
  onTerminal: (() => Promise<void>) | undefined;
  /** `execution.savepoint.ignore-unclaimed-state` (the job's allowNonRestoredState). */
  allowNonRestoredState: boolean;
  /** A JobManager log line. */
  log(level: 'INFO' | 'WARN' | 'ERROR', logger: string, message: string): void;
  /** The latest `flink` knobs (refreshed in the background). */
  knobs(): FlinkKnobs;
  /** Reads the knobs now (a restore must see a knob set just before the fault). */
  refreshKnobs(): Promise<void>;
  /** Task deployment and snapshot durations, ms. */
  deployMs: number;
  savepointMs: number;
  /** Heartbeats and RPC timeouts (Flink time). */
  clocks: FlinkClocks;
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
  /** Why the job FAILED, when it did. */
  failure: string | undefined;
}

const JM_LOGGER = 'org.apache.flink.runtime.executiongraph.ExecutionGraph';
const CKPT_LOGGER = 'org.apache.flink.runtime.checkpoint.CheckpointCoordinator';
const CKPT_FAILURE_LOGGER = 'org.apache.flink.runtime.checkpoint.CheckpointFailureManager';
const SCHEDULER_LOGGER = 'org.apache.flink.runtime.scheduler.DefaultScheduler';
const JOBMASTER_LOGGER = 'org.apache.flink.runtime.jobmaster.JobMaster';
const RM_LOGGER = 'org.apache.flink.runtime.resourcemanager.active.ActiveResourceManager';
const TRIGGER_RPC = 'RemoteRpcInvocation(TaskExecutorGateway.triggerCheckpoint(ExecutionAttemptID, long, long, CheckpointOptions))';

export interface BeginOptions {
  /** The checkpoint id counter from HA (the next id is this + 1). */
  checkpointCounter?: number;
  /** The job is recovering after a fault (a failover, or a new JobManager taking over from HA). */
  recovery?: boolean;
}

export class JobRuntime {
  state: FlinkJobState = 'INITIALIZING';
  tasksRunning = false;
  attempt = 0;
  /** The source's state: the last sequence number it emitted. */
  position = 0;
  readonly startTime = Date.now();
  lastCompleted: Snapshot | undefined;
  /** Why the job FAILED, when it did. */
  failure: string | undefined;
  /** The last savepoint this execution took. */
  lastSavepoint: Snapshot | undefined;
  checkpointCounter = 0;
  readonly triggers = new Map<string, SavepointTrigger>();
  private readonly model: FlinkJobModel;
  private readonly world: FlinkWorld;
  private readonly s: RuntimeSettings;
  private assignment: TaskManagerHandle[] = [];
  private rr = 0;
  private runningSince = 0;
  private lastTickMs = 0;
  /** When the last snapshot barrier went out. */
  private lastBarrierMs = 0;
  private emittedThisRun = 0;
  private restartsUsed = 0;
  private stopped = false;
  /** Set by stop-with-savepoint: the source emits nothing more. */
  private draining = false;
  private checkpointInFlight = false;
  /** A periodic trigger came while one was in flight (CheckpointRequestDecider queues it). */
  private checkpointQueued = false;
  /** The JobManager was killed: its tasks may run on (`orphan`), but it logs and coordinates nothing. */
  private orphaned = false;
  /** RPCs sent to TaskManagers so far (their temporary sender actors are numbered). */
  private rpcs = 0;
  /** Set when the job recovers with the `neverRecover` knob on: its tasks never get slots again. */
  private stuck = false;
  /** Records logged since the last garbage line (the `garbageLines` knob). */
  private sinceGarbage = 0;
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

  /** A JobManager log line; a killed JobManager writes none. */
  private log(level: 'INFO' | 'WARN' | 'ERROR', logger: string, message: string): void {
    if (!this.orphaned) this.s.log(level, logger, message);
  }

  view(): JobView {
    return { jobId: this.s.jobId, jobName: this.s.jobName, state: this.state, tasksRunning: this.tasksRunning, startTime: this.startTime, attempt: this.attempt, lastCheckpoint: this.lastCompleted, failure: this.failure };
  }

  /** Starts (or, after a failover, restarts) the execution from `from` (undefined = scratch). */
  begin(from: Snapshot | undefined, reason: 'jobmanager-start' | 'failover', opts: BeginOptions = {}): void {
    if (this.stopped) return;
    const knobs = this.s.knobs();
    if (opts.checkpointCounter !== undefined) this.checkpointCounter = opts.checkpointCounter;
    if (from?.kind === 'checkpoint' && knobs.restoreOlderCheckpoint) from = this.olderCheckpoint(from) ?? from;
    const lose = from !== undefined && (knobs.loseStateOnRestore === true || (knobs.loseStateOnResume === true && reason === 'jobmanager-start'));
    this.position = lose ? 0 : (from?.position ?? 0);
    this.stuck = opts.recovery === true && knobs.neverRecover === true;
    this.model.restores.push({
      atMs: Date.now(),
      jobId: this.s.jobId,
      reason,
      source: from ? from.kind : 'scratch',
      ...(from?.path ? { path: from.path } : {}),
      ...(from?.checkpointId !== undefined ? { checkpointId: from.checkpointId } : {}),
      snapshotPosition: from?.position ?? 0,
      restoredPosition: this.position,
      attempt: this.attempt,
    });
    if (from?.kind === 'savepoint' && reason === 'jobmanager-start') {
      // CheckpointCoordinator.restoreSavepoint: ids continue after the savepoint's own.
      this.log('INFO', CKPT_LOGGER, `Starting job ${this.s.jobId} from savepoint ${from.path} (${this.s.allowNonRestoredState ? 'allowing non restored state' : ''})`);
      this.checkpointCounter = Math.max(this.checkpointCounter, from.checkpointId ?? 0);
      this.log('INFO', CKPT_LOGGER, `Reset the checkpoint ID of job ${this.s.jobId} to ${this.checkpointCounter + 1}.`);
    }
    // Real Flink 1.20 (test/real/flink/CALIBRATION.md): a savepoint restore names the new job and
    // `@ 0` (the savepoint's metadata has no trigger time); a checkpoint restore its trigger time.
    if (from?.kind === 'savepoint') this.log('INFO', CKPT_LOGGER, `Restoring job ${this.s.jobId} from Savepoint ${from.checkpointId ?? 0} @ 0 for ${this.s.jobId} located at ${from.path}.`);
    else if (from) this.log('INFO', CKPT_LOGGER, `Restoring job ${this.s.jobId} from Checkpoint ${from.checkpointId ?? 0} @ ${from.atMs} for ${from.jobId} located at ${from.path ?? '<checkpoint>'}.`);
    else this.log('INFO', CKPT_LOGGER, 'No checkpoint found during restore.');
    const prev = this.state;
    this.state = 'RUNNING';
    this.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state ${prev === 'INITIALIZING' ? 'CREATED' : prev} to RUNNING.`);
    this.trySchedule();
  }

  /** The completed checkpoint of this job just before `latest` (the `restoreOlderCheckpoint` knob). */
  private olderCheckpoint(latest: Snapshot): Snapshot | undefined {
    return this.model.completedCheckpoints.filter((c) => c.jobId === latest.jobId && (c.checkpointId ?? 0) < (latest.checkpointId ?? 0) && c.path && this.world.storage.has(c.path)).at(-1);
  }

  /** The job cannot even start (e.g. its savepoint is gone): FAILED, as Flink reports it. */
  failAtStart(message: string): void {
    this.state = 'FAILED';
    this.failure = message;
    this.log('ERROR', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state INITIALIZING to FAILED: ${message}`);
    this.terminated();
  }

  /** Deploys the tasks once enough slots are registered. */
  private trySchedule(): void {
    if (this.stopped || this.stuck || this.state !== 'RUNNING' || this.tasksRunning || this.assignment.length) return;
    // A frozen or dead TaskManager offers nothing; one still running a killed JobManager's tasks
    // has no free slot until it cancels them.
    const busy = new Set([...this.model.orphans].flatMap((o) => o.assignment.map((tm) => tm.pod)));
    const tms = [...this.model.taskManagers.values()].filter((tm) => tm.state === 'running' && !busy.has(tm.pod));
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
      this.lastTickMs = this.runningSince;
      this.emittedThisRun = 0;
      this.rr = 0;
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      this.ticker.unref();
      if (this.s.checkpointIntervalMs) {
        this.checkpointer = setInterval(() => void this.checkpoint(), simMs(this.s.checkpointIntervalMs));
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

  /**
   * A snapshot's barrier goes out now, after the records emitted so far: those are in the
   * snapshot, and the next ones are logged a millisecond later at least, so that the trigger time
   * Flink logs tells the two apart (a record logged in the trigger's millisecond counts as covered).
   */
  private barrier(): { position: number; started: number } {
    this.lastBarrierMs = Date.now();
    return { position: this.position, started: this.lastBarrierMs };
  }

  /** Emits the records due by now at the configured rate, round-robin over the subtasks. */
  private tick(): void {
    if (!this.tasksRunning || this.draining) return;
    const now = Date.now();
    if (now <= this.lastBarrierMs) return;
    if (this.assignment.some((tm) => tm.state !== 'running')) {
      // A subtask's process is stopped or dead: the rebalance blocks and the source with it. The
      // rate limiter does not catch up afterwards, so the time standing still is not owed.
      this.runningSince += now - this.lastTickMs;
      this.lastTickMs = now;
      return;
    }
    this.lastTickMs = now;
    const due = Math.floor((simElapsed(now - this.runningSince) * this.s.rate) / 1000) - this.emittedThisRun;
    if (due <= 0) return;
    const knobs = this.s.knobs();
    const drop = new Set(knobs.dropRecords ?? []);
    const garbageEvery = knobs.garbageLines && knobs.garbageLines > 0 ? knobs.garbageLines : 0;
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
      const line = logLine(this.s.layout, 'INFO', HELLO_LOGGER, sequenceMessage(seq, subtask, this.attempt), thread);
      lines.push(line);
      if (garbageEvery && ++this.sinceGarbage >= garbageEvery) {
        this.sinceGarbage = 0;
        lines.push(truncatedCopy(line));
      }
    }
    for (const [tm, lines] of batches) tm.write(lines);
  }

  /** Waits until every record emitted so far is in the TaskManagers' logs (barrier alignment). */
  private async aligned(): Promise<void> {
    await Promise.all([...new Set(this.assignment)].map((tm) => tm.flush()));
  }

  private async checkpoint(): Promise<void> {
    if (!this.tasksRunning || this.draining || this.orphaned) return;
    if (this.checkpointInFlight) {
      this.checkpointQueued = true;
      return;
    }
    this.checkpointInFlight = true;
    try {
      const id = ++this.checkpointCounter;
      const attempt = this.attempt;
      const { position, started } = this.barrier();
      // CheckpointCoordinator logs the trigger (with its timestamp) before the barriers go out.
      this.log('INFO', CKPT_LOGGER, `Triggering checkpoint ${id} (type=CheckpointType{name='Checkpoint', sharingFilesStrategy=FORWARD_BACKWARD}) @ ${started} for job ${this.s.jobId}.`);
      const unresponsive = this.assignment.find((tm) => tm.state !== 'running');
      if (unresponsive) {
        await this.triggerRpcFails(id, unresponsive, attempt);
        return;
      }
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
      this.completed(snapshot, started);
    } catch (err) {
      this.log('WARN', CKPT_LOGGER, `Failed to trigger or complete checkpoint for job ${this.s.jobId}: ${String(err)}`);
    } finally {
      this.checkpointInFlight = false;
      if (this.checkpointQueued) {
        this.checkpointQueued = false;
        void this.checkpoint();
      }
    }
  }

  /**
   * A trigger RPC to a TaskManager that cannot answer: a dead one's endpoint is unreachable at
   * once, a frozen one's call times out after pekko.ask.timeout. The checkpoint id is used up
   * either way (Flink 1.20: `Triggering Checkpoint N ... failed due to ...`, then the failure
   * manager's line, which these failures do not count as consecutive failures).
   */
  private async triggerRpcFails(id: number, tm: TaskManagerHandle, attempt: number): Promise<void> {
    const error = await this.unanswered(tm);
    if (this.stopped) return;
    this.log('INFO', CKPT_LOGGER, `Triggering Checkpoint ${id} for job ${this.s.jobId} failed due to ${error}`);
    if (this.attempt === attempt && this.state === 'RUNNING') this.log('WARN', CKPT_FAILURE_LOGGER, `Failed to trigger or complete checkpoint ${id} for job ${this.s.jobId}. (0 consecutive failed attempts so far)`);
    await this.s.onIdUsed?.(id).catch(() => undefined);
  }

  /** Waits as an RPC to `tm` would, and gives the exception it ends with. */
  private async unanswered(tm: TaskManagerHandle): Promise<string> {
    const sender = this.rpcs++;
    if (tm.state === 'gone') {
      await new Promise<void>((r) => this.later(5, r));
      return `org.apache.flink.runtime.rpc.exceptions.RecipientUnreachableException: Could not send message [${TRIGGER_RPC}] from sender [Actor[pekko://flink/temp/taskmanager_0$${sender}]] to recipient [Actor[${tm.address}#${actorUid(tm.pod)}]], because the recipient is unreachable. This can either mean that the recipient has been terminated or that the remote RpcService is currently not reachable.`;
    }
    await new Promise<void>((r) => this.later(simMs(this.s.clocks.askTimeoutMs), r));
    return `java.util.concurrent.TimeoutException: Invocation of [${TRIGGER_RPC}] at recipient [${tm.address}] timed out. This is usually caused by: 1) Pekko failed sending the message silently, due to problems like oversized payload or serialization failures. In that case, you should find detailed error information in the logs. 2) The recipient needs more time for responding, due to problems like slow machines or network jitters. In that case, you can try to increase pekko.ask.timeout.`;
  }

  /** A completed checkpoint becomes the one to restore from; CheckpointCoordinator logs it. */
  private completed(snapshot: Snapshot, startedMs: number): void {
    this.lastCompleted = snapshot;
    this.model.lastCheckpoint = snapshot;
    this.model.completedCheckpoints.push(snapshot);
    this.logCompleted(snapshot, startedMs);
  }

  /** CheckpointCoordinator's line for every completed checkpoint and savepoint. */
  private logCompleted(snapshot: Snapshot, startedMs: number): void {
    const duration = Math.round(simElapsed(Date.now() - startedMs));
    this.log('INFO', CKPT_LOGGER, `Completed checkpoint ${snapshot.checkpointId} for job ${this.s.jobId} (${checkpointBytes(snapshot.position)} bytes, checkpointDuration=${duration} ms, finalizationTime=0 ms).`);
  }

  /**
   * The cluster learnt that a TaskManager is gone. The ResourceManager (in the JobManager's
   * process) closes its connection and tells the JobMaster, which fails the tasks it ran there:
   * the job fails over. Orphaned tasks on it just end.
   */
  taskManagerLost(pod: string, loss: TaskManagerLoss): void {
    if (this.stopped) return;
    const ran = this.assignment.some((tm) => tm.pod === pod);
    if (this.orphaned) {
      if (ran) this.shutdown();
      return;
    }
    const message = lossMessage(pod, loss);
    if (loss.kind === 'terminated') this.log('INFO', RM_LOGGER, `Worker ${pod} is terminated. Diagnostics: ${loss.diagnostics}`);
    if (loss.kind === 'heartbeat-timeout') this.log('INFO', RM_LOGGER, message);
    this.log('INFO', RM_LOGGER, `Closing TaskExecutor connection ${pod} because: ${message}`);
    if (!ran || TERMINAL.includes(this.state)) return;
    this.log('INFO', JOBMASTER_LOGGER, `Disconnect TaskExecutor ${pod} because: ${message}`);
    this.failover(message);
  }

  private failover(cause: string): void {
    if (this.state !== 'RUNNING') return;
    this.stopTasks();
    if (this.s.restart.kind === 'none' || this.restartsUsed >= this.s.restart.attempts) {
      this.state = 'FAILED';
      this.failure = `org.apache.flink.runtime.JobException: Recovery is suppressed by ${this.s.restart.kind === 'none' ? 'NoRestartBackoffTimeStrategy' : 'the restart strategy'}: ${cause}`;
      this.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to FAILING.`);
      this.log('ERROR', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state FAILING to FAILED: ${cause} (restart strategy: ${this.s.restart.kind === 'none' ? 'none' : 'attempts exhausted'}).`);
      this.terminated();
      return;
    }
    this.restartsUsed += 1;
    this.state = 'RESTARTING';
    this.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to RESTARTING.`);
    this.later(simMs(this.s.restart.delayMs), () => {
      void this.s.refreshKnobs().finally(() => {
        if (this.stopped || this.state !== 'RESTARTING') return;
        this.attempt += 1;
        this.begin(this.lastCompleted ?? this.s.initialSavepoint, 'failover', { recovery: true });
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
      this.log('WARN', CKPT_LOGGER, `Failed to trigger ${kind} for job ${this.s.jobId}: ${error}`);
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
    const { position, started } = this.barrier();
    if (kind === 'savepoint') this.log('INFO', SCHEDULER_LOGGER, `Triggering ${stop ? 'stop-with-' : ''}savepoint for job ${this.s.jobId}.`);
    // As in Flink, the id is taken (and the trigger logged, with its time) when the barrier goes
    // out; a snapshot that then fails has used its id up.
    const checkpointId = ++this.checkpointCounter;
    const type =
      kind === 'savepoint'
        ? `SavepointType{name='${stop ? 'Suspend Savepoint' : 'Savepoint'}', postCheckpointAction=${stop ? 'SUSPEND' : 'NONE'}, formatType=CANONICAL}`
        : "CheckpointType{name='Checkpoint', sharingFilesStrategy=FORWARD_BACKWARD}";
    this.log('INFO', CKPT_LOGGER, `Triggering checkpoint ${checkpointId} (type=${type}) @ ${started} for job ${this.s.jobId}.`);
    trigger.done = (async () => {
      const unresponsive = this.assignment.find((tm) => tm.state !== 'running');
      if (unresponsive) {
        const error = await this.unanswered(unresponsive);
        this.log('INFO', CKPT_LOGGER, `Triggering Checkpoint ${checkpointId} for job ${this.s.jobId} failed due to ${error}`);
        return fail(`java.util.concurrent.CompletionException: ${error}`);
      }
      await this.aligned();
      const extra = kind === 'savepoint' ? (this.s.knobs().savepointDelayMs ?? 0) : 0;
      await new Promise<void>((r) => this.later(this.s.savepointMs + extra, r));
      if (this.stopped || this.attempt !== attempt || !this.tasksRunning) return fail('Checkpoint was declined (tasks not ready or job restarted).');
      if (kind === 'savepoint' && this.s.knobs().failSavepoints) return fail('java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: Asynchronous task checkpoint failed (simulated: failSavepoints).');
      const base = target?.replace(/\/$/, '');
      const path = kind === 'savepoint' ? `${base}/savepoint-${this.s.jobId.slice(0, 6)}-${randomBytes(6).toString('hex')}` : base ? `${base}/${this.s.jobId}/chk-${checkpointId}` : undefined;
      const snapshot: Snapshot = { kind, path, position, jobId: this.s.jobId, checkpointId, atMs: Date.now() };
      if (path) this.world.storage.set(path, snapshot);
      if (kind === 'savepoint') {
        this.model.savepoints.set(path!, position);
        this.lastSavepoint = snapshot;
        this.logCompleted(snapshot, started);
      } else {
        if (this.s.onCheckpoint && path) await this.s.onCheckpoint(snapshot);
        this.completed(snapshot, started);
      }
      trigger.state = 'COMPLETED';
      trigger.location = path;
      if (stop) {
        this.stopTasks();
        this.state = 'FINISHED';
        this.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state RUNNING to FINISHED.`);
        this.terminated();
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
    this.log('INFO', JM_LOGGER, `Job ${this.s.jobName} (${this.s.jobId}) switched from state ${prev} to CANCELED.`);
    this.terminated();
  }

  /** Flink's Dispatcher cleans up a globally terminated job's HA entries. */
  private terminated(): void {
    if (GLOBALLY_TERMINAL.includes(this.state)) void this.s.onTerminal?.().catch(() => undefined);
  }

  /** The latest completed checkpoint or savepoint (what the REST API's checkpoint statistics report). */
  latestSnapshot(): Snapshot | undefined {
    const a = this.lastCompleted;
    const b = this.lastSavepoint;
    if (!a || !b) return a ?? b;
    return (b.checkpointId ?? 0) > (a.checkpointId ?? 0) ? b : a;
  }

  /**
   * The JobManager process shut down (its pod deleted: Flink suspends the job and disconnects its
   * TaskManagers, whose tasks stop), or orphaned tasks were cancelled: nothing of this execution
   * survives but what was stored.
   */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTasks();
    this.forgetJobManager();
    if (this.model.orphans.delete(this)) this.model.changed();
  }

  /**
   * The JobManager process was killed (SIGKILL): nothing of it survives, but the tasks it deployed
   * run on, their records still coming with the same attempt, until their TaskManagers hear of a
   * new leader (FlinkJobModel.newLeader) or, after heartbeat.timeout, give the silent one up.
   */
  orphan(): void {
    if (this.stopped || this.orphaned) return;
    this.orphaned = true;
    this.forgetJobManager();
    if (this.checkpointer) clearInterval(this.checkpointer);
    this.checkpointer = undefined;
    if (!this.tasksRunning) {
      this.shutdown();
      return;
    }
    this.model.orphans.add(this);
    const t = setTimeout(() => this.shutdown(), simMs(this.s.clocks.heartbeatTimeoutMs));
    t.unref();
    this.timers.add(t);
  }

  /** What the JobManager process held goes with it: timers, subscriptions, triggers, the REST view. */
  private forgetJobManager(): void {
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

/** The uid pekko appends to an actor path (stable per TaskManager here). */
function actorUid(pod: string): number {
  let h = 0;
  for (const c of pod) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}

/** The size a checkpoint of the source at `position` reports (its log line, the REST statistics). */
export function checkpointBytes(position: number): number {
  return 1024 + position * 8;
}

/** A record line cut off mid-way (the `garbageLines` knob): ours by its marker, but broken. */
function truncatedCopy(line: string): string {
  const cut = line.indexOf('subtask=');
  return cut > 0 ? line.slice(0, cut + 'subtask='.length) : line.slice(0, Math.ceil(line.length / 2));
}
