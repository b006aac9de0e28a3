// Flink's `kubernetes` HA service (the manifest's own high-availability.type, as in the blog)
// against a real kube-apiserver: the one test/real/apiserver starts, from the binaries
// `npm run test:apiserver` compiled into the user cache. The JobManager's leader election and
// its job graph and checkpoint stores then live in ConfigMaps on that server, and the tests read
// and edit them through the API. Without a cached control plane the tier falls back to ZooKeeper
// (zookeeper.ts); FLINK_HA=kubernetes or FLINK_HA=zookeeper decides instead of the cache.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cacheDir } from '../../../scripts/lib/paths.ts';
import { connectKube } from '../../../scripts/lib/kube/connect.ts';
import type { Kube, KubeObject } from '../../../scripts/lib/kube/kube.ts';
import { ensureControlPlaneBinaries, pinnedKubernetesVersion } from '../apiserver/binaries.ts';
import { type ControlPlane, startControlPlane } from '../apiserver/control-plane.ts';

export type HaType = 'kubernetes' | 'zookeeper';

export interface HaChoice {
  type: HaType;
  /** Why, for the log line that says which HA ran. */
  why: string;
}

/**
 * Which HA service the runs use: FLINK_HA when set; otherwise kubernetes when the control plane
 * binaries are in the cache (CI runs test:apiserver first), else ZooKeeper. Compiling the control
 * plane takes about 9 minutes, so this tier only builds it when FLINK_HA=kubernetes asks.
 */
export async function chooseHa(env: NodeJS.ProcessEnv = process.env): Promise<HaChoice> {
  const asked = env.FLINK_HA;
  if (asked === 'kubernetes' || asked === 'zookeeper') return { type: asked, why: `FLINK_HA=${asked}` };
  if (asked) throw new Error(`FLINK_HA=${asked}: expected kubernetes or zookeeper`);
  const version = await pinnedKubernetesVersion();
  const dir = join(cacheDir(), 'controlplane', version);
  const cached = ['kube-apiserver', 'etcd'].every((b) => existsSync(join(dir, b)));
  return cached
    ? { type: 'kubernetes', why: `the ${version} control plane is in the cache (${dir})` }
    : { type: 'zookeeper', why: `no ${version} control plane in the cache (npm run test:apiserver builds it; FLINK_HA=kubernetes builds it here)` };
}

/** What the runs need of the API server; plain data, so vitest can hand it to the test files. */
export interface KubeHaSite {
  server: string;
  /** The admin's kubeconfig (client certificate, system:masters): what the tests read and edit with. */
  kubeconfig: string;
  /** The Flink processes' kubeconfig: the FlinkDeployment's service account's token, as a pod has it. */
  flinkKubeconfig: string;
  serviceAccount: string;
  /** The FlinkDeployment's namespace: the operator sets kubernetes.namespace to it. */
  namespace: string;
  /** The Kubernetes version of the control plane. */
  version: string;
}

export interface LocalKubeHa {
  site: KubeHaSite;
  plane: ControlPlane;
  stop(): Promise<void>;
}

/**
 * The `flink` job role of the operator's Helm chart (rbac.jobRole): what a JobManager pod's
 * service account may do in its namespace. The kubernetes HA service needs only the ConfigMaps.
 */
const JOB_ROLE_RULES = [
  { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['*'] },
  { apiGroups: ['apps'], resources: ['deployments', 'deployments/finalizers'], verbs: ['*'] },
];

/** A POST with the admin's client certificate; the parsed answer. */
function adminPost(plane: ControlPlane, path: string, body: object): Promise<Record<string, unknown>> {
  return Promise.all([readFile(plane.certs.caCert), readFile(plane.certs.adminCert), readFile(plane.certs.adminKey)]).then(
    ([ca, cert, key]) =>
      new Promise((resolve, reject) => {
        const req = request(`${plane.server}${path}`, { method: 'POST', ca, cert, key, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(JSON.parse(text) as Record<string, unknown>) : reject(new Error(`POST ${path}: ${res.statusCode} ${text}`))));
        });
        req.on('timeout', () => req.destroy(new Error(`POST ${path}: no answer in 10 s`)));
        req.on('error', reject);
        req.end(JSON.stringify(body));
      }),
  );
}

/**
 * What the operator's chart gives the job's pods: the service account, the `flink` Role and its
 * binding; then a token for that account (TokenRequest, as the kubelet mounts one) in a
 * kubeconfig the Flink processes read (kubernetes.config.file). Its path.
 */
async function flinkKubeconfig(plane: ControlPlane, namespace: string, serviceAccount: string): Promise<string> {
  const kube = await connectKube({ kubeconfig: plane.kubeconfig });
  await kube.apply([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'flink', namespace }, rules: JOB_ROLE_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'flink-role-binding', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flink' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  ]);
  // Two hours: the whole tier takes a quarter of that.
  const answer = await adminPost(plane, `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 7200 },
  });
  const token = (answer.status as { token?: string } | undefined)?.token;
  if (!token) throw new Error(`the TokenRequest for service account ${namespace}/${serviceAccount} returned no token`);
  const file = join(plane.dir, 'flink-kubeconfig');
  const name = 'flink-ha';
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: plane.server, 'certificate-authority-data': (await readFile(plane.certs.caCert)).toString('base64') } }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name, context: { cluster: name, user: serviceAccount, namespace } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return file;
}

/**
 * etcd and kube-apiserver on loopback (no controller manager: ConfigMaps need none), from the
 * cached binaries, building them first only if the cache lacks them; with the job's service
 * account and role in `namespace`.
 */
export async function startKubeHa(access: { namespace: string; serviceAccount: string }, onProgress: (line: string) => void): Promise<LocalKubeHa> {
  const bins = await ensureControlPlaneBinaries(onProgress);
  const plane = await startControlPlane(bins);
  try {
    const flink = await flinkKubeconfig(plane, access.namespace, access.serviceAccount);
    return {
      site: { server: plane.server, kubeconfig: plane.kubeconfig, flinkKubeconfig: flink, serviceAccount: access.serviceAccount, namespace: access.namespace, version: bins.version },
      plane,
      stop: () => plane.stop(),
    };
  } catch (err) {
    await plane.stop();
    throw err;
  }
}

/** The key of a completed checkpoint in a job's HA ConfigMap: checkpointID-<19 digits>. */
const CHECKPOINT_KEY = /^checkpointID-(\d{19})$/;

/** The checkpoint ids a job's HA ConfigMap holds, ascending. */
export function checkpointIds(cm: KubeObject | undefined): number[] {
  return Object.keys((cm?.data as Record<string, string> | undefined) ?? {})
    .flatMap((k) => {
      const m = CHECKPOINT_KEY.exec(k);
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

export function checkpointKey(id: number): string {
  return `checkpointID-${String(id).padStart(19, '0')}`;
}

/** The names Flink 1.20's kubernetes HA gives its ConfigMaps. */
export const haConfigMapNames = {
  cluster: (clusterId: string): string => `${clusterId}-cluster-config-map`,
  job: (clusterId: string, jobId: string): string => `${clusterId}-${jobId}-config-map`,
};

/** The API as the tests see it: reads and edits of one run's HA ConfigMaps. */
export class HaConfigMaps {
  private readonly kube: Kube;
  private readonly namespace: string;
  private readonly clusterId: string;

  private constructor(kube: Kube, namespace: string, clusterId: string) {
    this.kube = kube;
    this.namespace = namespace;
    this.clusterId = clusterId;
  }

  static async connect(site: KubeHaSite, clusterId: string): Promise<HaConfigMaps> {
    return new HaConfigMaps(await connectKube({ kubeconfig: site.kubeconfig }), site.namespace, clusterId);
  }

  /** Every ConfigMap of the namespace whose name starts with the cluster id. */
  async all(): Promise<KubeObject[]> {
    const items = await this.kube.list('v1', 'ConfigMap', { namespace: this.namespace });
    return items.filter((cm) => cm.metadata.name.startsWith(`${this.clusterId}-`));
  }

  get(name: string): Promise<KubeObject | undefined> {
    return this.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: this.namespace, name });
  }

  job(jobId: string): Promise<KubeObject | undefined> {
    return this.get(haConfigMapNames.job(this.clusterId, jobId));
  }

  /** Removes checkpoint entries from a job's ConfigMap (a JSON merge patch with nulls). */
  async dropCheckpoints(jobId: string, ids: number[]): Promise<KubeObject> {
    const data = Object.fromEntries(ids.map((id) => [checkpointKey(id), null]));
    return this.kube.patchMerge({ apiVersion: 'v1', kind: 'ConfigMap', namespace: this.namespace, name: haConfigMapNames.job(this.clusterId, jobId) }, { data });
  }
}

/** The leader record Flink's leader election keeps on the cluster ConfigMap (fabric8's ConfigMapLock). */
export interface LeaderRecord {
  holderIdentity?: string;
  /** Seconds (client-go's LeaderElectionRecord calls it leaseDurationSeconds; fabric8 writes leaseDuration). */
  leaseDuration?: number;
  acquireTime?: string;
  renewTime?: string;
  leaderTransitions?: number;
}

export const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export function leaderOf(cm: KubeObject | undefined): LeaderRecord | undefined {
  const text = (cm?.metadata.annotations as Record<string, string> | undefined)?.[LEADER_ANNOTATION];
  return text ? (JSON.parse(text) as LeaderRecord) : undefined;
}
