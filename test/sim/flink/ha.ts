// Kubernetes HA metadata as Flink 1.15+ keeps it, through the API: ConfigMap
// `<cluster-id>-cluster-config-map` (leader records, `jobGraph-<jobId>`) and
// `<cluster-id>-<jobId>-config-map` (`checkpointID-<19 digits>` -> completed checkpoint,
// `counter`; created empty when the job starts), both labelled app=<cluster-id>,
// configmap-type=high-availability and without owner, so they outlive the JobManager Deployment
// (the operator deletes them itself: FlinkUtils).
// When the job reaches a globally terminal state (FINISHED, CANCELED, FAILED) the JobManager
// cleans up its job's entries, as Flink's Dispatcher does.
// A pointer here names the checkpoint's durable path; its position lives in FlinkWorld.storage.
import type { KubeObject, SimClient } from '../api-client.ts';
import { ensureObject } from '../controllers/operator-kit.ts';

export interface HaRecovery {
  jobId: string;
  /** The job graph was in the store: a JobManager taking over a running job, not a new submission. */
  graph: boolean;
  checkpoint?: { id: number; path: string };
  /** The last checkpoint id handed out (the next one is this + 1). */
  lastId: number;
}

export function haLabels(clusterId: string): Record<string, string> {
  return { app: clusterId, 'configmap-type': 'high-availability', type: 'flink-native-kubernetes' };
}

const CHECKPOINT_KEY = /^checkpointID-(\d{19})$/;

export class HaStore {
  private readonly api: SimClient;
  private readonly namespace: string;
  private readonly clusterId: string;
  // Writes are chained: a later checkpoint must never be overwritten by an earlier one.
  private chain: Promise<unknown> = Promise.resolve();

  constructor(api: SimClient, namespace: string, clusterId: string) {
    this.api = api;
    this.namespace = namespace;
    this.clusterId = clusterId;
  }

  private path(name: string): string {
    return `/api/v1/namespaces/${this.namespace}/configmaps/${name}`;
  }

  /**
   * The job the HA store knows (a recovered job graph, else the fixed job id the JobManager was
   * given) and that job's latest checkpoint, if any.
   */
  async read(fixedJobId?: string): Promise<HaRecovery | undefined> {
    const cluster = await this.api.get<KubeObject>(this.path(`${this.clusterId}-cluster-config-map`));
    const jobKey = Object.keys((cluster?.data as Record<string, string> | undefined) ?? {}).find((k) => k.startsWith('jobGraph-'));
    const jobId = jobKey ? jobKey.slice('jobGraph-'.length) : fixedJobId;
    if (!jobId) return undefined;
    const job = await this.api.get<KubeObject>(this.path(`${this.clusterId}-${jobId}-config-map`));
    if (!jobKey && !job) return undefined;
    const data = (job?.data as Record<string, string> | undefined) ?? {};
    let checkpoint: HaRecovery['checkpoint'];
    for (const [k, v] of Object.entries(data)) {
      const m = CHECKPOINT_KEY.exec(k);
      if (m && (!checkpoint || Number(m[1]) > checkpoint.id)) checkpoint = { id: Number(m[1]), path: v };
    }
    return { jobId, graph: !!jobKey, checkpoint, lastId: Number(data.counter ?? (checkpoint ? checkpoint.id + 1 : 1)) - 1 };
  }

  private configMap(name: string, data: Record<string, string>, leader: string | undefined): KubeObject {
    const now = new Date().toISOString();
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: this.namespace,
        labels: haLabels(this.clusterId),
        ...(leader ? { annotations: { 'control-plane.alpha.kubernetes.io/leader': JSON.stringify({ holderIdentity: leader, leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaderTransitions: 0 }) } } : {}),
      },
      data,
    };
  }

  /** The leader (`identity`: its lock identity) publishes its addresses and the job graph it runs. */
  jobSubmitted(jobId: string, leader: string, restAddress: string, identity = leader): Promise<void> {
    return this.enqueue(async () => {
      const existing = await this.api.get<KubeObject>(this.path(`${this.clusterId}-cluster-config-map`));
      const data = { ...((existing?.data as Record<string, string> | undefined) ?? {}) };
      data['org.apache.flink.k8s.leader.restserver'] = restAddress;
      data['org.apache.flink.k8s.leader.resourcemanager'] = `pekko.tcp://flink@${leader}:6123/user/rpc/resourcemanager_0`;
      data['org.apache.flink.k8s.leader.dispatcher'] = `pekko.tcp://flink@${leader}:6123/user/rpc/dispatcher_1`;
      data[`org.apache.flink.k8s.leader.${jobId}`] = `pekko.tcp://flink@${leader}:6123/user/rpc/jobmanager_2`;
      data[`jobGraph-${jobId}`] = `${this.clusterId}/submittedJobGraph${jobId.slice(0, 12)}`;
      await ensureObject(this.api, this.configMap(`${this.clusterId}-cluster-config-map`, data, identity), ['data']);
      // KubernetesCheckpointRecoveryFactory creates the job's ConfigMap, empty, as the job's
      // checkpoint store and id counter start: before any checkpoint completes.
      await this.api.createIfAbsent(`/api/v1/namespaces/${this.namespace}/configmaps`, this.configMap(`${this.clusterId}-${jobId}-config-map`, {}, undefined));
    });
  }

  /** Records a completed checkpoint, keeping only the newest `retained` ones. */
  checkpointCompleted(jobId: string, id: number, path: string, retained = 1): Promise<void> {
    return this.enqueue(async () => {
      const name = `${this.clusterId}-${jobId}-config-map`;
      const existing = await this.api.get<KubeObject>(this.path(name));
      const data = { ...((existing?.data as Record<string, string> | undefined) ?? {}) };
      data[`checkpointID-${String(id).padStart(19, '0')}`] = path;
      data.counter = String(id + 1);
      const ids = Object.keys(data).filter((k) => CHECKPOINT_KEY.test(k)).sort();
      for (const k of ids.slice(0, Math.max(0, ids.length - retained))) delete data[k];
      if (!existing) {
        await this.api.createIfAbsent(this.path(name).replace(/\/[^/]+$/, ''), this.configMap(name, data, undefined));
        return;
      }
      // A replace, so that dropped checkpoint keys really go.
      await this.api.replace(this.path(name), { ...existing, data });
    });
  }

  /** The job ended globally (FINISHED, CANCELED, FAILED): its graph and checkpoint store go. */
  jobTerminated(jobId: string): Promise<void> {
    return this.enqueue(async () => {
      await this.api.delete(this.path(`${this.clusterId}-${jobId}-config-map`));
      const cluster = await this.api.get<KubeObject>(this.path(`${this.clusterId}-cluster-config-map`));
      const data = { ...((cluster?.data as Record<string, string> | undefined) ?? {}) };
      if (!cluster || !(`jobGraph-${jobId}` in data)) return;
      delete data[`jobGraph-${jobId}`];
      delete data[`org.apache.flink.k8s.leader.${jobId}`];
      await this.api.replace(this.path(`${this.clusterId}-cluster-config-map`), { ...cluster, data });
    });
  }

  /**
   * Whether the leader lock still exists: Flink's ConfigMap lock is the cluster ConfigMap's
   * `control-plane.alpha.kubernetes.io/leader` annotation, gone when the operator deleted the HA
   * metadata (the lease itself is kept in the job model, job.ts `LeaderLease`).
   */
  async leaderLockExists(): Promise<boolean> {
    return (await this.api.get<KubeObject>(this.path(`${this.clusterId}-cluster-config-map`))) !== undefined;
  }

  /** KubernetesCheckpointIDCounter: a trigger took its id from the counter, so a failed one uses it up too. */
  idUsed(jobId: string, id: number): Promise<void> {
    return this.enqueue(async () => {
      const name = `${this.clusterId}-${jobId}-config-map`;
      const existing = await this.api.get<KubeObject>(this.path(name));
      const data = { ...((existing?.data as Record<string, string> | undefined) ?? {}) };
      if (!existing || Number(data.counter ?? 0) > id) return;
      data.counter = String(id + 1);
      await this.api.replace(this.path(name), { ...existing, data });
    });
  }

  private enqueue(f: () => Promise<void>): Promise<void> {
    const next = this.chain.then(f);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** FlinkUtils.getFlinkKubernetesHaConfigmaps: the cluster's ConfigMaps (labels app + type), autoscaler state excepted. */
async function clusterConfigMaps(api: SimClient, namespace: string, clusterId: string): Promise<KubeObject[]> {
  const list = await api.list(`/api/v1/namespaces/${namespace}/configmaps`, { labelSelector: `app=${clusterId},type=flink-native-kubernetes,component!=autoscaler` });
  return list.items;
}

/** FlinkUtils.deleteKubernetesHAMetadata (what the operator does for stateless/savepoint suspends and deletion). */
export async function deleteHaData(api: SimClient, namespace: string, clusterId: string): Promise<void> {
  for (const cm of await clusterConfigMaps(api, namespace, clusterId)) await api.delete(`/api/v1/namespaces/${namespace}/configmaps/${cm.metadata.name}`);
}

/** FlinkUtils.isValidHaConfigMap: a job's `-config-map` (not the cluster's) or a legacy `-jobmanager-leader`. */
function validHaConfigMap(cm: KubeObject): boolean {
  const name = cm.metadata.name ?? '';
  if (cm.metadata.deletionTimestamp) return false;
  if (name.endsWith('-config-map')) return !name.endsWith('-cluster-config-map');
  return name.endsWith('-jobmanager-leader');
}

/** AbstractFlinkService.isHaMetadataAvailable for Kubernetes HA. */
export async function hasHaData(api: SimClient, namespace: string, clusterId: string): Promise<boolean> {
  return (await clusterConfigMaps(api, namespace, clusterId)).some(validHaConfigMap);
}

/** AbstractFlinkService.atLeastOneCheckpoint for Kubernetes HA. */
export async function hasHaCheckpoint(api: SimClient, namespace: string, clusterId: string): Promise<boolean> {
  return (await clusterConfigMaps(api, namespace, clusterId)).some((cm) => validHaConfigMap(cm) && Object.keys(cm.data ?? {}).some((k) => CHECKPOINT_KEY.test(k)));
}

/** FlinkUtils.deleteJobGraphInKubernetesHA: a new submission must not pick up the old job graph. */
export async function deleteJobGraphs(api: SimClient, namespace: string, clusterId: string): Promise<void> {
  for (const cm of await clusterConfigMaps(api, namespace, clusterId)) {
    const data = { ...((cm.data as Record<string, string> | undefined) ?? {}) };
    const keys = Object.keys(data).filter((k) => k.startsWith('jobGraph-'));
    if (!keys.length) continue;
    for (const k of keys) delete data[k];
    await api.replace(`/api/v1/namespaces/${namespace}/configmaps/${cm.metadata.name}`, { ...cm, data });
  }
}
