// What the simulated Flink operator's observer and reconciler steps share: its caches and client,
// status writes (lifecycle and conditions derived on the way out), events, and the cluster
// operations of the operator's FlinkService: submit a cluster, delete it (with or without HA
// metadata), record an upgrade savepoint as a FlinkStateSnapshot.
import { randomBytes } from 'node:crypto';
import type { KubeObject, SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { isActive, isOwnedBy } from '../controllers/names.ts';
import { FLINK_GROUP, companions, jobManagerDeployment } from './flink-deploy.ts';
import { deleteHaData } from './flink-ha.ts';
import type { FlinkWorld } from './flink-job.ts';
import type { SavepointTrigger } from './flink-runtime.ts';
import { finish, serializeSpec, type Status } from './flink-status.ts';
import { type CustomResourceCache, ensureObject, writeStatus } from './operator-kit.ts';

const SHUTDOWN_TIMEOUT_MS = 15_000;
const SOURCE = { component: 'JobManagerDeployment' };

export interface FlinkOps {
  readonly ctx: ControllerContext;
  readonly api: SimClient;
  readonly world: FlinkWorld;
  readonly deployments: CustomResourceCache;
  readonly snapshots: CustomResourceCache;
  /** Writes the status (lifecycleState and conditions follow from it); returns the updated object. */
  save(fd: KubeObject, status: Status): Promise<KubeObject>;
  event(fd: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** Deletes the cluster (JobManager Deployment; TaskManagers and companions go with it) and waits until it is gone. */
  teardown(ns: string, name: string, deleteHa: boolean): Promise<void>;
  /** Submits the application cluster and records the attempt in the status. */
  deploy(fd: KubeObject, status: Status, opts: DeployOptions): Promise<void>;
  createUpgradeSnapshot(fd: KubeObject, path: string): Promise<void>;
  /** Waits for a savepoint trigger to finish (or a minute to pass). */
  waitTrigger(t: SavepointTrigger): Promise<SavepointTrigger>;
  /** Why the JobManager's pods cannot be created, from the ReplicaSet's FailedCreate (DeploymentFailedException). */
  failedCreate(jm: KubeObject): Promise<string | undefined>;
}

export interface DeployOptions {
  restorePath?: string;
  keepJobId?: string;
  first: boolean;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function fdPath(ns: string, name: string): string {
  return `${FLINK_GROUP}/namespaces/${ns}/flinkdeployments/${name}`;
}

export function flinkOps(ctx: ControllerContext, api: SimClient, world: FlinkWorld, deployments: CustomResourceCache, snapshots: CustomResourceCache): FlinkOps {
  const ops: FlinkOps = {
    ctx,
    api,
    world,
    deployments,
    snapshots,
    save: (fd, status) => writeStatus(api, deployments, fdPath(fd.metadata.namespace!, fd.metadata.name!), fd, finish(status)),
    event: (fd, type, reason, message) => ctx.events.record(fd, SOURCE, { type, reason, message }),

    async teardown(ns, name, deleteHa) {
      await api.delete(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const pods = ctx.informers.pods.list(ns).filter((p) => p.metadata.labels?.app === name && ['jobmanager', 'taskmanager'].includes(p.metadata.labels?.component ?? ''));
        const config = await api.get(`/api/v1/namespaces/${ns}/configmaps/flink-config-${name}`);
        if (pods.length === 0 && !config && !ctx.informers.deployments.get(ns, name)) break;
        await sleep(50);
      }
      if (deleteHa) await deleteHaData(api, ns, name);
    },

    async deploy(fd, status, opts) {
      const jobId = opts.keepJobId ?? randomBytes(16).toString('hex');
      const plan = { jobId, savepointPath: opts.restorePath };
      const jm = await ensureObject(api, jobManagerDeployment(fd));
      ctx.informers.deployments.upsert(jm);
      for (const o of companions(fd, jm, plan)) {
        const path = await api.objectPath(o);
        const existing = await api.get<KubeObject>(path);
        // A leftover of an earlier cluster would be garbage-collected under the new one.
        if (existing && existing.metadata.ownerReferences?.[0]?.uid !== jm.metadata.uid) await api.delete(path);
        await ensureObject(api, o, o.kind === 'ConfigMap' ? ['data'] : ['spec']);
      }
      await ops.event(fd, 'Normal', 'Submit', 'Starting deployment');
      const rs = status.reconciliationStatus ?? {};
      const { upgradeSavepointPath } = status.jobStatus ?? {};
      const next: Status = {
        ...status,
        jobStatus: { state: 'RECONCILING', jobId, ...(status.jobStatus?.jobName ? { jobName: status.jobStatus.jobName } : {}), ...(upgradeSavepointPath ? { upgradeSavepointPath } : {}) },
        jobManagerDeploymentStatus: 'DEPLOYING',
        reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: serializeSpec(fd, opts.first), ...(rs.lastStableSpec ? { lastStableSpec: rs.lastStableSpec } : {}), reconciliationTimestamp: Date.now() },
        observedGeneration: fd.metadata.generation ?? 1,
      };
      delete next.error;
      await ops.save(fd, next);
    },

    async createUpgradeSnapshot(fd, path) {
      if (!ctx.informers.crds.get(undefined, 'flinkstatesnapshots.flink.apache.org')) return;
      await api.create(`${FLINK_GROUP}/namespaces/${fd.metadata.namespace}/flinkstatesnapshots`, {
        apiVersion: 'flink.apache.org/v1beta1',
        kind: 'FlinkStateSnapshot',
        metadata: { name: `${fd.metadata.name}-savepoint-upgrade-${Date.now()}`, namespace: fd.metadata.namespace, labels: { 'snapshot.trigger-type': 'UPGRADE' } },
        spec: { backoffLimit: -1, jobReference: { kind: 'FlinkDeployment', name: fd.metadata.name }, savepoint: { path, formatType: 'CANONICAL', disposeOnDelete: false, alreadyExists: true } },
      });
    },

    async waitTrigger(t) {
      const deadline = Date.now() + 60_000;
      while (t.state === 'IN_PROGRESS' && Date.now() < deadline) await sleep(25);
      return t;
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
  };
  return ops;
}
