// What the simulated Flink operator's observer and reconciler steps share for one operator
// process: its caches, a client that stops working the moment the process is gone (so a killed
// operator dies mid-reconcile, its work in flight stopping with it), status writes (lifecycle
// and conditions derived on the way out), events, and the cluster operations of the operator's
// FlinkService (AbstractFlinkService / NativeFlinkService in 1.15.0): submit an application
// cluster, delete it with or without HA metadata, cancel a job per SuspendMode, record an
// upgrade savepoint as a FlinkStateSnapshot.
import type { KubeObject } from '../api-client.ts';
import { SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { isActive, isOwnedBy } from '../controllers/names.ts';
import { simMs } from '../time-scale.ts';
import { parseDurationMs, slotsPerTaskManager } from './config.ts';
import { FLINK_GROUP, companions, effectiveConf, jobManagerDeployment } from './deploy.ts';
import { deleteHaData, deleteJobGraphs } from './ha.ts';
import type { FlinkWorld } from './job.ts';
import { booleanOption, observeConf, type OperatorConfig } from './operator-config.ts';
import type { JobRuntime } from './runtime.ts';
import { finish, type Spec, type Status } from './status.ts';
import { type CustomResourceCache, ensureObject, writeStatus } from '../controllers/operator-kit.ts';

const SHUTDOWN_TIMEOUT_MS = 15_000;
const POLL_MS = 25;

/** Thrown by everything an operator process does once that process is gone. */
export class OperatorGone extends Error {
  constructor() {
    super('the operator process is gone');
  }
}

/** A client whose requests fail once its operator process has died (no request leaves a dead pod). */
class ProcessClient extends SimClient {
  private readonly signal: AbortSignal;

  constructor(url: string, actor: string, signal: AbortSignal) {
    super(url, actor);
    this.signal = signal;
  }

  override request<T = KubeObject>(...args: Parameters<SimClient['request']>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(new OperatorGone());
    return super.request<T>(...args);
  }
}

export type SuspendMode = 'NOOP' | 'STATELESS' | 'SAVEPOINT' | 'CANCEL' | 'LAST_STATE';

export interface CancelResult {
  /** The savepoint the job stopped with. */
  savepoint?: string;
  /** The cancellation goes on in the background (CANCEL): wait for the job to be CANCELED. */
  pending?: boolean;
}

export interface FlinkOps {
  readonly ctx: ControllerContext;
  readonly api: SimClient;
  readonly world: FlinkWorld;
  readonly deployments: CustomResourceCache;
  readonly snapshots: CustomResourceCache;
  readonly config: OperatorConfig;
  /** Throws OperatorGone when this operator process has died. */
  alive(): void;
  sleep(ms: number): Promise<void>;
  /** Writes the status (lifecycleState and conditions follow from it); returns the updated object. */
  save(fd: KubeObject, status: Status): Promise<KubeObject>;
  event(fd: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component?: string): Promise<void>;
  /** The job of the deployment's JobManager, as its REST API shows it (undefined: no answer). */
  rest(fd: KubeObject): JobRuntime | undefined;
  /** deleteClusterDeployment: JobManager Deployment gone (and HA metadata when asked); JM MISSING. */
  deleteCluster(fd: KubeObject, status: Status, deleteHa: boolean): Promise<void>;
  /** FlinkService.submitApplicationCluster: the application cluster for `spec`, starting from `savepoint`. */
  submit(fd: KubeObject, status: Status, spec: Spec, savepoint: string | undefined): Promise<void>;
  /** AbstractFlinkService.cancelJob: stops the job the way `mode` says. */
  cancelJob(fd: KubeObject, status: Status, mode: SuspendMode): Promise<CancelResult>;
  createUpgradeSnapshot(fd: KubeObject, path: string): Promise<void>;
  /** Why the JobManager's pods cannot be created, from the ReplicaSet's FailedCreate (DeploymentFailedException). */
  failedCreate(jm: KubeObject): Promise<string | undefined>;
  /** The TaskManager info of status.taskManager for a spec (ReconciliationUtils.getTaskManagerInfo). */
  taskManagerInfo(fd: KubeObject, spec: Spec): (running: boolean) => Record<string, unknown>;
}

/** An operator failure the reconciler records in status.error (and as a Warning event with `reason`). */
export class UpgradeFailure extends Error {
  readonly reason: string;
  readonly type: string;

  /** The Flink-side error under it (status.error's throwableList). */
  readonly causeMessage: string | undefined;

  constructor(message: string, reason: string, type = 'UpgradeFailureException', causeMessage?: string) {
    super(message);
    this.reason = reason;
    this.type = type;
    this.causeMessage = causeMessage;
  }
}

/** One reconcile pass over one FlinkDeployment: the object, the status being built, the options in force. */
export interface Pass {
  readonly ops: FlinkOps;
  fd: KubeObject;
  /** The working copy of the status (written by persist()). */
  readonly s: Status;
  /** The operator's configuration with the deployment's own kubernetes.operator.* keys. */
  readonly conf: Record<string, string>;
}

/** statusRecorder.patchAndCacheStatus: writes the working status now. */
export async function persist(p: Pass): Promise<void> {
  p.fd = await p.ops.save(p.fd, p.s);
}

export function fdPath(ns: string, name: string): string {
  return `${FLINK_GROUP}/namespaces/${ns}/flinkdeployments/${name}`;
}

export interface ProcessDeps {
  ctx: ControllerContext;
  world: FlinkWorld;
  deployments: CustomResourceCache;
  snapshots: CustomResourceCache;
  config: OperatorConfig;
  /** Aborted when this operator process dies. */
  signal: AbortSignal;
}

export function flinkOps(d: ProcessDeps): FlinkOps {
  const { ctx, world, deployments, signal } = d;
  const api = new ProcessClient(ctx.url, 'flink-kubernetes-operator', signal);
  const alive = (): void => {
    if (signal.aborted) throw new OperatorGone();
  };
  const sleep = async (ms: number): Promise<void> => {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });
    alive();
  };

  const ops: FlinkOps = {
    ctx,
    api,
    world,
    deployments,
    snapshots: d.snapshots,
    config: d.config,
    alive,
    sleep,
    save: (fd, status) => writeStatus(api, deployments, fdPath(fd.metadata.namespace!, fd.metadata.name!), fd, finish(status)),
    async event(fd, type, reason, message, component = 'JobManagerDeployment') {
      alive();
      await ctx.events.record(fd, { component }, { type, reason, message });
    },
    rest(fd) {
      alive();
      return world.model(fd.metadata.namespace!, fd.metadata.name!).runtime;
    },

    async deleteCluster(fd, status, deleteHa) {
      const ns = fd.metadata.namespace!;
      const name = fd.metadata.name!;
      await api.delete(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const pods = ctx.informers.pods.list(ns).filter((p) => p.metadata.labels?.app === name && ['jobmanager', 'taskmanager'].includes(p.metadata.labels?.component ?? ''));
        const config = await api.get(`/api/v1/namespaces/${ns}/configmaps/flink-config-${name}`);
        if (pods.length === 0 && !config && !ctx.informers.deployments.get(ns, name)) break;
        await sleep(POLL_MS);
      }
      if (deleteHa) await deleteHaData(api, ns, name);
      status.jobManagerDeploymentStatus = 'MISSING';
      const state = status.jobStatus.state as string | undefined;
      if (!['FINISHED', 'CANCELED', 'FAILED'].includes(state ?? '')) status.jobStatus.state = 'FINISHED';
    },

    async submit(fd, status, spec, savepoint) {
      const ns = fd.metadata.namespace!;
      const name = fd.metadata.name!;
      // A new job graph must not be shadowed by the old one in the HA store.
      await deleteJobGraphs(api, ns, name);
      const target: KubeObject = { ...fd, spec };
      const jm = await ensureObject(api, jobManagerDeployment(target, fd.metadata.generation ?? 1));
      ctx.informers.deployments.upsert(jm);
      const plan = { jobId: status.jobStatus.jobId as string, savepointPath: savepoint };
      for (const o of companions(target, jm, plan)) {
        const path = await api.objectPath(o);
        const existing = await api.get<KubeObject>(path);
        // A leftover of an earlier cluster would be garbage-collected under the new one.
        if (existing && existing.metadata.ownerReferences?.[0]?.uid !== jm.metadata.uid) await api.delete(path);
        await ensureObject(api, o, o.kind === 'ConfigMap' ? ['data'] : ['spec']);
      }
      status.jobStatus.state = 'RECONCILING';
      status.jobManagerDeploymentStatus = 'DEPLOYING';
    },

    async cancelJob(fd, status, mode) {
      const runtime = ops.rest(fd);
      let savepoint: string | undefined;
      if (mode === 'SAVEPOINT') {
        if (status.jobStatus.state === 'RUNNING' && runtime) {
          // stop-with-savepoint (drain=false), waited for up to execution.checkpointing.timeout
          const trigger = runtime.triggerSavepoint(undefined, true);
          const deadline = Date.now() + simMs(parseDurationMs(effectiveConf(fd, { jobId: '' })['execution.checkpointing.timeout']) ?? 600_000);
          while (trigger.state === 'IN_PROGRESS' && Date.now() < deadline) await sleep(POLL_MS);
          if (trigger.state === 'IN_PROGRESS') throw new UpgradeFailure(`Timed out stopping the job ${status.jobStatus.jobId} with savepoint, please configure a larger timeout via 'execution.checkpointing.timeout'`, 'SavepointError');
          if (trigger.state !== 'COMPLETED') throw new UpgradeFailure('Savepoint Error', 'SavepointError', 'UpgradeFailureException', trigger.error);
          savepoint = trigger.location;
        }
      } else if (mode === 'STATELESS') {
        if (isCancellable(status)) runtime?.cancel();
      } else if (mode === 'CANCEL') {
        if (status.jobStatus.state !== 'CANCELLING') {
          runtime?.cancel();
          status.jobStatus.state = 'CANCELLING';
        }
        return { pending: true };
      }
      if (mode === 'STATELESS' || mode === 'LAST_STATE') await ops.deleteCluster(fd, status, mode !== 'LAST_STATE');
      status.jobStatus.state = 'FINISHED';
      return savepoint ? { savepoint } : {};
    },

    async createUpgradeSnapshot(fd, path) {
      alive();
      if (!ctx.informers.crds.get(undefined, 'flinkstatesnapshots.flink.apache.org')) return;
      const conf = observeConf(d.config, fd);
      await api.create(`${FLINK_GROUP}/namespaces/${fd.metadata.namespace}/flinkstatesnapshots`, {
        apiVersion: 'flink.apache.org/v1beta1',
        kind: 'FlinkStateSnapshot',
        metadata: { name: `${fd.metadata.name}-savepoint-upgrade-${Date.now()}`, namespace: fd.metadata.namespace, labels: { 'snapshot.trigger-type': 'UPGRADE' } },
        spec: {
          backoffLimit: -1,
          jobReference: { kind: 'FlinkDeployment', name: fd.metadata.name },
          savepoint: { path, formatType: conf['kubernetes.operator.savepoint.format.type'] ?? 'CANONICAL', disposeOnDelete: booleanOption(conf, 'kubernetes.operator.savepoint.dispose-on-delete', false), alreadyExists: true },
        },
      });
    },

    async failedCreate(jm) {
      const cond = ((jm.status?.conditions ?? []) as { type: string; reason?: string; message?: string }[]).find((c) => c.type === 'ReplicaFailure' && c.reason === 'FailedCreate');
      if (cond) return cond.message;
      const ns = jm.metadata.namespace!;
      for (const rs of ctx.informers.replicasets.list(ns).filter((r) => isOwnedBy(r, jm))) {
        const pods = ctx.informers.pods.list(ns).filter((p) => isOwnedBy(p, rs) && isActive(p)).length;
        if (pods >= ((rs.spec?.replicas as number | undefined) ?? 1)) continue;
        const events = await api.list(`/api/v1/namespaces/${ns}/events`, { fieldSelector: `involvedObject.name=${rs.metadata.name},reason=FailedCreate` });
        const latest = events.items.sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp))).pop();
        if (latest) return String(latest.message).replace(/^Error creating: /, '');
      }
      return undefined;
    },

    taskManagerInfo(fd, spec) {
      const name = fd.metadata.name!;
      const slots = slotsPerTaskManager(effectiveConf({ ...fd, spec }, { jobId: '' }));
      return (running) => (running ? { labelSelector: `component=taskmanager,app=${name}`, replicas: Math.ceil((Number(spec.job?.parallelism ?? 1) || 1) / slots) } : { labelSelector: '', replicas: 0 });
    },
  };
  return ops;
}

/** CommonStatus.isJobCancellable (for a FlinkDeployment: also the REST API must answer). */
export function isCancellable(status: Status): boolean {
  const state = status.jobStatus?.state as string | undefined;
  return !!state && state !== 'RECONCILING' && !['FINISHED', 'CANCELED', 'FAILED'].includes(state) && status.jobManagerDeploymentStatus === 'READY';
}
