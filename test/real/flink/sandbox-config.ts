// The sandbox's own Flink configuration for the local processes: flinkConfiguration,
// logConfiguration, the container's environment and the job are READ from
// manifests/flink/hello-ha.yaml (or hello-no-ha.yaml) and translated the way the Flink
// Kubernetes Operator translates them (resources -> process memory, job.parallelism -> the job's
// parallelism). Where a local process must differ from a pod, the change is in localChanges()
// below and nowhere else.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packagePath } from '../../../scripts/lib/paths.ts';

export type FlinkConfig = Record<string, string>;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface HelloDeployment {
  metadata: { name: string; namespace?: string };
  spec: {
    serviceAccount?: string;
    flinkConfiguration: FlinkConfig;
    logConfiguration: Record<string, string>;
    jobManager: { resource: { memory: string } };
    taskManager: { resource: { memory: string } };
    podTemplate?: { spec: { containers: Array<{ name: string; env?: EnvVar[] }> } };
    job: { entryClass: string; args: string[]; parallelism: number };
  };
}

/** What the local run has where a pod has its own: addresses, storage, the HA service. */
export interface LocalSite {
  workDir: string;
  rpcPort: number;
  restPort: number;
  /** The local MinIO's endpoint (http://127.0.0.1:<port>). */
  s3Endpoint: string;
  /** The HA service the run uses: the manifest's kubernetes one on a local API server, or ZooKeeper. */
  ha: LocalHa;
  /** Keeps runs apart in the HA store (the operator uses the deployment's name as kubernetes.cluster-id). */
  clusterId: string;
}

/** Where the HA service of a local run keeps its leader, job graphs and checkpoint pointers. */
export type LocalHa = { type: 'kubernetes'; kubeconfig: string } | { type: 'zookeeper'; quorum: string };

export interface LocalChange {
  key: string;
  value: string;
  why: string;
  /** Applied only when the manifest sets this key (S3 and HA keys of the job that has them). */
  onlyWith?: string;
}

function haChanges(site: LocalSite): LocalChange[] {
  const ha = site.ha;
  if (ha.type === 'kubernetes') {
    // high-availability.type stays the manifest's `kubernetes`.
    return [
      {
        key: 'kubernetes.config.file',
        value: ha.kubeconfig,
        why: "pods reach the API server through the in-cluster config (the service account's token mounted by the kubelet); local processes read a kubeconfig holding a token of the same service account, bound to the operator chart's `flink` role",
        onlyWith: 'high-availability.type',
      },
      {
        key: 'kubernetes.cluster-id',
        value: site.clusterId,
        why: "the operator sets it to the deployment's name; a suffix per run keeps runs' ConfigMaps apart on the one API server",
        onlyWith: 'high-availability.type',
      },
      {
        key: 'high-availability.cluster-id',
        value: site.clusterId,
        why: "Flink's native Kubernetes deployment (the operator's) sets it to kubernetes.cluster-id, so job graphs and checkpoint pointers go under <storageDir>/<cluster-id>/; a plain process would use /default",
        onlyWith: 'high-availability.type',
      },
    ];
  }
  return [
    {
      key: 'high-availability.type',
      value: 'zookeeper',
      why: 'no Kubernetes API server for this run (the control plane is not built): ZooKeeper is the HA service Flink ships for everywhere else (the storage dir stays on S3)',
      onlyWith: 'high-availability.type',
    },
    { key: 'high-availability.zookeeper.quorum', value: ha.quorum, why: 'the local ZooKeeper', onlyWith: 'high-availability.type' },
    {
      key: 'high-availability.zookeeper.client.session-timeout',
      value: '15000',
      why: "a dead JobManager's leadership ends when its ZooKeeper session expires; 15 s is the kubernetes HA service's leader lease (high-availability.kubernetes.leader-election.lease-duration), so leadership moves about as fast as in the pods",
      onlyWith: 'high-availability.type',
    },
    {
      key: 'high-availability.cluster-id',
      value: site.clusterId,
      why: 'kubernetes.cluster-id plays this part in the pods; one per run keeps runs apart',
      onlyWith: 'high-availability.type',
    },
  ];
}

/**
 * Every difference between the manifest's flinkConfiguration and the local processes'. Keys not
 * listed here are the manifest's values, unchanged.
 */
export function localChanges(site: LocalSite): LocalChange[] {
  const loopback = 'pods get their own addresses and Services; local processes share 127.0.0.1 and take free ports';
  return [
    { key: 'jobmanager.rpc.address', value: 'localhost', why: loopback },
    { key: 'jobmanager.rpc.port', value: String(site.rpcPort), why: loopback },
    { key: 'jobmanager.bind-host', value: 'localhost', why: loopback },
    { key: 'taskmanager.bind-host', value: 'localhost', why: loopback },
    { key: 'taskmanager.host', value: 'localhost', why: loopback },
    { key: 'rest.address', value: '127.0.0.1', why: loopback },
    { key: 'rest.bind-address', value: '127.0.0.1', why: loopback },
    { key: 'rest.port', value: String(site.restPort), why: loopback },
    { key: 's3.endpoint', value: site.s3Endpoint, why: 'the local MinIO instead of the minio Service in the cluster', onlyWith: 's3.endpoint' },
    ...haChanges(site),
    { key: 'io.tmp.dirs', value: join(site.workDir, 'tmp'), why: "a pod's /tmp is its own; processes on one host share /tmp, so each run gets a folder to delete" },
    { key: 'web.upload.dir', value: join(site.workDir, 'upload'), why: 'the job jar is uploaded over REST (session cluster) instead of baked into the image' },
  ];
}

/** The environment variables a pod's flink-main-container gets that are NOT handed to the processes. */
export const CONTAINER_ONLY_ENV: Record<string, string> = {
  ENABLE_BUILT_IN_PLUGINS:
    "read by the image's entrypoint, which copies the named jar into plugins/; the local Flink has the S3 plugin in plugins/ already (1.20.0: the registry serves no 1.20.4 build of it)",
};

export interface SandboxFlink {
  /** The processes' config.yaml. */
  config: FlinkConfig;
  /** File name -> contents, written into the config dir (log4j-console.properties). */
  logConfiguration: Record<string, string>;
  /** Environment of the JobManager and TaskManager processes (the pod's env, secrets resolved). */
  env: Record<string, string>;
  job: { entryClass: string; args: string[]; parallelism: number };
  slotsPerTaskManager: number;
  changes: LocalChange[];
}

/** The FlinkDeployments of manifests/flink/ the local runs take their configuration from. */
export type HelloManifest = 'hello-ha.yaml' | 'hello-no-ha.yaml';

/** The operator's `1024m` -> Flink's memory size (the same text works in Flink). */
function memory(value: string): string {
  if (!/^\d+[mg]$/i.test(value)) throw new Error(`resource memory ${value} is not a size Flink takes as it is`);
  return value;
}

async function readManifest(manifest: HelloManifest): Promise<HelloDeployment> {
  return parse(await readFile(packagePath('manifests', 'flink', manifest), 'utf8')) as HelloDeployment;
}

/** A FlinkDeployment's namespace (where the kubernetes HA ConfigMaps go) and its pods' service account. */
export async function manifestAccess(manifest: HelloManifest = 'hello-ha.yaml'): Promise<{ namespace: string; serviceAccount: string }> {
  const { metadata, spec } = await readManifest(manifest);
  return { namespace: metadata.namespace ?? 'default', serviceAccount: spec.serviceAccount ?? 'default' };
}

/**
 * The manifest's configuration with the local changes applied. `secrets` resolves the pod env's
 * secretKeyRefs (`minio-credentials` keys accessKey and secretKey).
 */
export async function sandboxFlink(manifest: HelloManifest, site: LocalSite, secrets: Record<string, Record<string, string>>): Promise<SandboxFlink> {
  const { metadata, spec } = await readManifest(manifest);
  const config: FlinkConfig = { ...spec.flinkConfiguration };
  // What the operator derives from the spec rather than from flinkConfiguration.
  config['jobmanager.memory.process.size'] = memory(spec.jobManager.resource.memory);
  config['taskmanager.memory.process.size'] = memory(spec.taskManager.resource.memory);
  config['parallelism.default'] = String(spec.job.parallelism);
  // The operator sets kubernetes.namespace to the resource's namespace; the HA ConfigMaps go there.
  if (site.ha.type === 'kubernetes') config['kubernetes.namespace'] = metadata.namespace ?? 'default';
  const changes = localChanges(site).filter((c) => c.onlyWith === undefined || c.onlyWith in spec.flinkConfiguration);
  for (const c of changes) config[c.key] = c.value;

  const container = spec.podTemplate?.spec.containers.find((c) => c.name === 'flink-main-container');
  const env: Record<string, string> = {};
  for (const e of container?.env ?? []) {
    if (e.name in CONTAINER_ONLY_ENV) continue;
    const ref = e.valueFrom?.secretKeyRef;
    const value = ref ? secrets[ref.name]?.[ref.key] : e.value;
    if (value === undefined) throw new Error(`${manifest}: env ${e.name} refers to ${ref ? `secret ${ref.name} key ${ref.key}` : 'nothing'}, which the local run does not have`);
    env[e.name] = value;
  }
  return {
    config,
    logConfiguration: { ...spec.logConfiguration },
    env,
    job: { entryClass: spec.job.entryClass, args: [...spec.job.args], parallelism: spec.job.parallelism },
    slotsPerTaskManager: Number(config['taskmanager.numberOfTaskSlots'] ?? 1),
    changes,
  };
}

/** How many TaskManagers the operator starts for a parallelism: enough slots, no more. */
export function taskManagersFor(parallelism: number, slotsPerTaskManager: number): number {
  return Math.max(1, Math.ceil(parallelism / slotsPerTaskManager));
}
