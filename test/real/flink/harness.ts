// The real tier's harness: real Flink processes configured from the sandbox's manifests, on a real
// MinIO and a real HA backend (kubernetes HA on a local kube-apiserver, or ZooKeeper when no
// control plane is available: kube-ha.ts decides), the job submitted over REST, the processes' logs followed by the
// file recorder into the product's history file, and the product's checker judging it.
// `RealSandbox` (built tools, MinIO, the HA backend) is shared by the runs of a test file; each `Run`
// is one fresh Flink cluster with its own HA cluster id, work dir and history.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TimelineEvent } from '../../../scenarios/checker/history.ts';
import type { Verdict } from '../../../scenarios/checker/verdict.ts';
import { HistoryLog } from '../../../scenarios/history-log.ts';
import { judgeHistoryFile } from '../../../scenarios/judge.ts';
import type { WithoutTime } from '../../../scenarios/scenario.ts';
import { type FlinkProcess, type LocalFlink, startLocalFlink } from './cluster.ts';
import { assembleFlink, buildJobJar, type FlinkDist, jobVersions } from './dist.ts';
import { type FileRecorder, startFileRecorder } from './file-recorder.ts';
import { ensureMinio, type LocalMinio, runMc, startMinio } from './minio.ts';
import { freePort } from './ports.ts';
import { cancelJob, jobState, stopWithSavepoint, submitJar, triggerSavepoint, waitForJobState } from './rest.ts';
import { type HelloManifest, type LocalHa, manifestAccess, type SandboxFlink, sandboxFlink, taskManagersFor } from './sandbox-config.ts';
import { chooseHa, type KubeHaSite, startKubeHa } from './kube-ha.ts';
import { assembleZooKeeper, startZooKeeper } from './zookeeper.ts';

/** The Secret the manifests' env refers to. */
const SECRET = 'minio-credentials';

/** What the runs share: the built tools and the storage services. Plain data, so vitest can hand it to test files. */
export interface RealSandbox {
  dist: FlinkDist;
  jar: string;
  minio: Pick<LocalMinio, 'endpoint' | 'accessKey' | 'secretKey' | 'bucket' | 'mcHome'> & { mcBinary: string; release: string };
  /** The HA service every run uses, and why that one. */
  ha: RealHa;
  /** The runs' folders go here. */
  root: string;
}

/** The HA backend the runs share: kubernetes HA on a local API server, or a local ZooKeeper. */
export type RealHa = ({ type: 'kubernetes' } & KubeHaSite & { why: string }) | { type: 'zookeeper'; quorum: string; version: string; lib: string; why: string };

/** One line for the log: which HA ran, on what, and why. */
export function describeHa(ha: RealHa): string {
  return ha.type === 'kubernetes'
    ? `HA: kubernetes (ConfigMaps in namespace ${ha.namespace} on kube-apiserver ${ha.version} at ${ha.server}, as service account ${ha.serviceAccount}; ${ha.why})`
    : `HA: ZooKeeper ${ha.version} at ${ha.quorum} (${ha.why})`;
}

export interface StartedSandbox {
  sandbox: RealSandbox;
  stop(): Promise<void>;
}

/** Builds (or takes from the cache) Flink, the job, MinIO and the HA backend, and starts MinIO and the HA backend. */
export async function startRealSandbox(onProgress: (line: string) => void = () => {}): Promise<StartedSandbox> {
  const versions = await jobVersions();
  onProgress(`building the job jar and assembling Flink ${versions.flink} (cached after the first run)`);
  const jar = await buildJobJar();
  const dist = await assembleFlink(versions);
  const bins = await ensureMinio(onProgress);
  const choice = await chooseHa();
  const root = await mkdtemp(join(tmpdir(), 'flink-sandbox-real-'));
  const minio = await startMinio(bins, join(root, 'minio'));
  const started = await startHa(choice, dist, versions.log4j, root, onProgress).catch(async (err: unknown) => {
    await minio.stop();
    throw err;
  });
  const stop = async (): Promise<void> => {
    await started.stop();
    await minio.stop();
    if (!process.env.FLINK_KEEP) await rm(root, { recursive: true, force: true });
  };
  const sandbox: RealSandbox = {
    dist,
    jar,
    minio: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey, bucket: minio.bucket, mcHome: minio.mcHome, mcBinary: bins.mc, release: bins.releases.server },
    ha: started.ha,
    root,
  };
  return { sandbox, stop };
}

async function startHa(
  choice: Awaited<ReturnType<typeof chooseHa>>,
  dist: FlinkDist,
  log4jVersion: string,
  root: string,
  onProgress: (line: string) => void,
): Promise<{ ha: RealHa; stop(): Promise<void> }> {
  if (choice.type === 'kubernetes') {
    const kube = await startKubeHa(await manifestAccess(), onProgress);
    return { ha: { type: 'kubernetes', ...kube.site, why: choice.why }, stop: kube.stop };
  }
  const zk = await assembleZooKeeper(dist, log4jVersion);
  const zooKeeper = await startZooKeeper(zk.lib, join(root, 'zookeeper'));
  return { ha: { type: 'zookeeper', quorum: zooKeeper.quorum, version: zk.version, lib: zk.lib, why: choice.why }, stop: zooKeeper.stop };
}

/** `mc` against the sandbox's MinIO (alias `sandbox`, set by the bucket script); its stdout. */
export async function mc(sandbox: RealSandbox, args: string[]): Promise<string> {
  return runMc(sandbox.minio.mcBinary, sandbox.minio.mcHome, args);
}

export interface RunOptions {
  /** Names the run's folder and HA cluster id. */
  name: string;
  manifest?: HelloManifest;
  /** Per-job configuration on top of the cluster's (JarRunRequestBody's flinkConfiguration). */
  jobConfig?: Record<string, string>;
  /**
   * A test's own change to the cluster configuration, beyond the manifest and its local
   * changes (e.g. more retained checkpoints for a restore from an older one).
   */
  clusterConfig?: Record<string, string>;
}

function localHa(ha: RealHa): LocalHa {
  return ha.type === 'kubernetes' ? { type: 'kubernetes', kubeconfig: ha.flinkKubeconfig } : { type: 'zookeeper', quorum: ha.quorum };
}

/** One job run on a fresh cluster. */
export class Run {
  readonly workDir: string;
  readonly cluster: LocalFlink;
  readonly history: HistoryLog;
  readonly flink: SandboxFlink;
  private readonly sandbox: RealSandbox;
  private readonly recorder: FileRecorder;
  private readonly options: RunOptions;
  private readonly abort = new AbortController();
  /** The job submitted last. */
  jobId = '';

  /** This run's HA cluster id: its ConfigMaps are named <clusterId>-..., its ZooKeeper nodes live under /flink/<clusterId>. */
  readonly clusterId: string;

  private constructor(sandbox: RealSandbox, options: RunOptions, init: { workDir: string; cluster: LocalFlink; history: HistoryLog; flink: SandboxFlink; recorder: FileRecorder; clusterId: string }) {
    this.clusterId = init.clusterId;
    this.sandbox = sandbox;
    this.options = options;
    this.workDir = init.workDir;
    this.cluster = init.cluster;
    this.history = init.history;
    this.flink = init.flink;
    this.recorder = init.recorder;
  }

  /** Starts the cluster the operator would start for the manifest (TaskManagers for its parallelism). */
  static async start(sandbox: RealSandbox, options: RunOptions): Promise<Run> {
    const workDir = join(sandbox.root, options.name);
    const site = {
      workDir,
      rpcPort: await freePort(),
      restPort: await freePort(),
      s3Endpoint: sandbox.minio.endpoint,
      ha: localHa(sandbox.ha),
      clusterId: `${options.name}-${randomBytes(3).toString('hex')}`,
    };
    const flink = await sandboxFlink(options.manifest ?? 'hello-ha.yaml', site, { [SECRET]: { accessKey: sandbox.minio.accessKey, secretKey: sandbox.minio.secretKey } });
    const history = await HistoryLog.open(join(workDir, 'history.jsonl'));
    const recorder = startFileRecorder((entry) => history.add(entry));
    const follow = (p: FlinkProcess): void => recorder.follow({ file: p.outFile, role: p.role });
    const cluster = await startLocalFlink(sandbox.dist, {
      workDir,
      config: { ...flink.config, ...options.clusterConfig },
      logConfiguration: flink.logConfiguration,
      env: flink.env,
      taskManagers: taskManagersFor(flink.job.parallelism, flink.slotsPerTaskManager),
      onStart: follow,
    }).catch(async (err: unknown) => {
      await recorder.stop().catch(() => undefined);
      await history.close().catch(() => undefined);
      throw err;
    });
    return new Run(sandbox, options, { workDir, cluster, history, flink, recorder, clusterId: site.clusterId });
  }

  /** Adds a timeline event, stamped now, after handing on every line logged before it. */
  async note(event: WithoutTime<TimelineEvent>): Promise<number> {
    await this.recorder.drain();
    const t = Date.now();
    this.history.add({ ...event, t } as TimelineEvent);
    return t;
  }

  /** Submits the job as the manifest describes it (optionally from a snapshot, at another parallelism); waits for RUNNING. */
  async submit(opts: { savepointPath?: string; parallelism?: number } = {}): Promise<string> {
    const { job } = this.flink;
    this.jobId = await submitJar(this.cluster.restUrl, this.sandbox.jar, {
      entryClass: job.entryClass,
      programArgsList: job.args,
      parallelism: opts.parallelism ?? job.parallelism,
      ...(opts.savepointPath ? { savepointPath: opts.savepointPath } : {}),
      ...(this.options.jobConfig ? { flinkConfiguration: this.options.jobConfig } : {}),
    });
    await waitForJobState(this.cluster.restUrl, this.jobId, 'RUNNING');
    return this.jobId;
  }

  highWater(): number {
    return this.history.highWater();
  }

  /** Resolves once a number above `above` was logged. */
  waitForSequence(above: number, what: string, timeoutMs = 120_000): Promise<void> {
    return this.history.until(() => this.history.highWater() > above, what, timeoutMs, this.abort.signal);
  }

  /** Resolves once the job restarted since `mark` (a new process or task attempt, a logged restore) and passed `above`. */
  waitForRecovery(mark: string, above: number, what: string, timeoutMs = 180_000): Promise<void> {
    return this.history.until(() => this.history.restartMark() !== mark && this.history.highWater() > above, what, timeoutMs, this.abort.signal);
  }

  /** Resolves with the id of the next checkpoint that completes. */
  async waitForCheckpoint(timeoutMs = 60_000): Promise<number> {
    const seen = this.history.checkpoints().length;
    await this.history.until(() => this.history.checkpoints().length > seen, 'a checkpoint to complete', timeoutMs, this.abort.signal);
    return this.history.checkpoints()[seen]!;
  }

  /** The savepoint folder of the manifest (state.savepoints.dir). */
  savepointDir(): string {
    const dir = this.flink.config['state.savepoints.dir'] ?? this.flink.config['execution.checkpointing.savepoint-dir'];
    if (!dir) throw new Error(`${this.options.manifest ?? 'hello-ha.yaml'} sets no savepoint directory`);
    return dir;
  }

  /** A savepoint while the job runs on; noted as the manual savepoint scenario notes it. */
  async savepoint(): Promise<{ path: string; covers: number; tookMs: number }> {
    const covers = this.highWater();
    const started = Date.now();
    const path = await triggerSavepoint(this.cluster.restUrl, this.jobId, this.savepointDir());
    await this.note({ kind: 'savepoint', path, triggered: started });
    return { path, covers, tookMs: Date.now() - started };
  }

  /** Stop-with-savepoint, as a suspend does: noted as suspend, then the savepoint. */
  async suspend(): Promise<{ path: string; tookMs: number }> {
    await this.note({ kind: 'suspend' });
    return this.stopWithSavepoint();
  }

  /** Stop-with-savepoint without drain; the savepoint is noted once the job has FINISHED. */
  async stopWithSavepoint(): Promise<{ path: string; tookMs: number }> {
    const started = Date.now();
    const path = await stopWithSavepoint(this.cluster.restUrl, this.jobId, this.savepointDir());
    const tookMs = Date.now() - started;
    await waitForJobState(this.cluster.restUrl, this.jobId, 'FINISHED');
    await this.note({ kind: 'savepoint', path, triggered: started });
    return { path, tookMs };
  }

  /** SIGKILLs a process, noting the fault first (the kill is what the timeline marks). */
  async kill(p: FlinkProcess, fault: string): Promise<number> {
    const t = await this.note({ kind: 'fault', name: fault });
    await this.cluster.signal(p, 'SIGKILL');
    return t;
  }

  async jobState(): Promise<string> {
    return jobState(this.cluster.restUrl, this.jobId);
  }

  /**
   * Lets output settle (`records` more after the current mark, and a checkpoint of the recovered
   * job when it checkpoints), stops everything and judges the history.
   */
  async finish(records = 10): Promise<Verdict> {
    const mark = this.highWater();
    await this.waitForSequence(mark + records, `the sequence to pass ${mark + records} after the act`);
    if (this.flink.config['execution.checkpointing.interval']) await this.waitForCheckpoint();
    return this.judge();
  }

  /** The setup of the scenarios that need a snapshot to recover from: records and `count` checkpoints. */
  async running(count = 2): Promise<void> {
    await this.waitForSequence(0, 'the first record');
    for (let i = 0; i < count; i++) await this.waitForCheckpoint();
  }

  /** Stops the processes, reads what is left of their logs and judges the history. */
  async judge(): Promise<Verdict> {
    await this.stop();
    return judgeHistoryFile(this.history.file);
  }

  /**
   * When a process first logged a message matching `pattern` (its line's @timestamp, ms since the
   * epoch); undefined if it has not. E.g. a JobManager's dispatcher granted leadership.
   */
  async loggedAt(p: FlinkProcess, pattern: RegExp): Promise<number | undefined> {
    for (const line of (await readFile(p.outFile, 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { '@timestamp'?: string; message?: string };
      if (entry['@timestamp'] && pattern.test(entry.message ?? '')) return Date.parse(entry['@timestamp']);
    }
    return undefined;
  }

  /** The JobManagers' console lines matching `pattern` (e.g. restore lines), messages only. */
  async jobManagerLines(pattern: RegExp): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.cluster.processes.filter((q) => q.role === 'jobmanager')) {
      for (const line of (await readFile(p.outFile, 'utf8')).split('\n')) {
        const message = line.startsWith('{') ? ((JSON.parse(line) as { message?: string }).message ?? '') : line;
        if (pattern.test(message)) out.push(message);
      }
    }
    return out;
  }

  private stopped = false;

  /** Stops every process by pid and closes the history; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new Error('the run stopped'));
    // The job goes first, so its logs end with a cancel rather than with a restart because the
    // TaskManagers went away before the JobManager.
    if (this.jobId && (await this.jobState().catch(() => '')) === 'RUNNING') await cancelJob(this.cluster.restUrl, this.jobId).catch(() => undefined);
    await this.cluster.stop();
    await this.recorder.stop();
    await this.history.close();
  }
}
