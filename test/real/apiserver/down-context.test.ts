// `down --context` against a real API server (with kube-controller-manager, which finalizes
// namespaces and collects what workloads made): the install steps that need no Helm (MinIO,
// the ECK operator, Elasticsearch and Kibana, the logging pipeline) put their objects in with
// the step code itself, other managers keep objects of their own beside them, and down removes
// exactly the sandbox's. A namespace the sandbox created but someone else now keeps things in
// is kept and named. Helm releases are covered against the simulation (test/integration).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadConfig, type SandboxConfig } from '../../../scripts/lib/config.ts';
import { parseManifests, type Kube, type KubeObject } from '../../../scripts/lib/kube/kube.ts';
import { createServices, type Services } from '../../../scripts/lib/services.ts';
import { newRunState, type StepContext } from '../../../scripts/pipeline/step.ts';
import { eckOperatorStep, elasticStep } from '../../../scripts/steps/eck.ts';
import { INSTALL_CONFIGMAP, ensureNamespace, PART_OF_LABELS } from '../../../scripts/steps/kit.ts';
import { loggingPipelineStep } from '../../../scripts/steps/logging.ts';
import { minioStep } from '../../../scripts/steps/minio.ts';
import { uninstallFromExisting } from '../../../scripts/steps/uninstall.ts';
import { readFileSync } from 'node:fs';
import { crdFixtureFile } from '../../fixtures/crds/location.ts';
import { startDownloadServer, type DownloadServer } from '../../sim/tools/downloads.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

const bins = inject('controlPlaneBinaries');
let plane: ControlPlane;
let downloads: DownloadServer;
let dir: string;
let cfg: SandboxConfig;
let services: Services;
let kube: Kube;

/** Creates (POST) an object as another field manager, the way kubectl or helm would. */
async function createAs(manager: string, path: string, obj: KubeObject): Promise<void> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { createTransport } = await import('../../../scripts/lib/kube/client.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  await createTransport(kc, plane.context).json('POST', path, { query: { fieldManager: manager }, body: obj, retry: 'none' });
}

const exists = async (apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean> =>
  (await kube.get({ apiVersion, kind, name, namespace })) !== undefined;

beforeAll(async () => {
  [plane, downloads, dir] = await Promise.all([
    startControlPlane(bins, { controllerManager: true }),
    startDownloadServer(() => ({})),
    mkdtemp(join(tmpdir(), 'sandbox-down-')),
  ]);
  // The CLI finds the cluster as it would on a user's machine: $KUBECONFIG and --context.
  process.env.KUBECONFIG = plane.kubeconfig;
  process.env.SANDBOX_CACHE_DIR = join(dir, 'cache');
  process.env.SANDBOX_STATE_DIR = join(dir, 'state');
  const configFile = join(dir, 'sandbox.yaml');
  await writeFile(configFile, `components:\n  eck:\n    baseUrl: ${downloads.url}/eck/{version}\n`);
  cfg = await loadConfig({ context: plane.context, config: configFile, jobImage: 'registry.example/hello-job:1' });
  services = createServices(cfg);
  kube = await services.kube();

  // The logging operator's CRDs, as its step applies them from `helm show crds`.
  for (const f of ['loggings', 'clusteroutputs', 'flows', 'fluentbitagents', 'outputs', 'clusterflows']) {
    await kube.apply(parseManifests(readFileSync(crdFixtureFile(`logging-${f}.yaml`), 'utf8')));
  }
  const ctx: StepContext = { config: cfg, runId: 'down-test', signal: new AbortController().signal, output: () => {}, state: newRunState(), services };
  await ensureNamespace(ctx, cfg.namespaces.logging);
  for (const step of [minioStep, eckOperatorStep, elasticStep, loggingPipelineStep]) await step.apply(ctx);
  await kube.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job, labels: { ...PART_OF_LABELS } }, data: { profile: 'full', with: '', releases: '' } },
  ]);

  // Other people's objects: in the job namespace the sandbox did not create (one named like a
  // sandbox object), in a namespace it did create, and cluster-wide.
  await createAs('kubectl-create', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'users-own' }, data: { a: 'b' } });
  await createAs('kubectl-create', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'heimdall' },
    spec: { ports: [{ port: 8080 }], selector: { app: 'users-heimdall' } },
  });
  await createAs('helm', '/api/v1/namespaces/minio/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-backup-keys' }, stringData: { k: 'v' } });
  await createAs('helm', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'users-viewer' }, rules: [] });
}, 180_000);

afterAll(async () => {
  await plane?.stop();
  await downloads?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('removes what the sandbox made, keeps what others made, and keeps a namespace others still use', async () => {
  // What the steps made is there (the test would prove nothing otherwise).
  expect(await exists('apps/v1', 'Deployment', 'minio', 'minio')).toBe(true);
  expect(await exists('apps/v1', 'StatefulSet', 'elastic-operator', 'elastic-system')).toBe(true);
  expect(await exists('elasticsearch.k8s.elastic.co/v1', 'Elasticsearch', 'quickstart', 'logging')).toBe(true);
  expect(await exists('logging.banzaicloud.io/v1beta1', 'Flow', 'es-flow', 'default')).toBe(true);

  const { removed, kept } = await uninstallFromExisting(cfg, services);
  expect(removed).toEqual(
    expect.arrayContaining([
      'Deployment minio/minio',
      'Job minio/minio-make-bucket',
      'Secret minio/minio-credentials',
      'Secret default/minio-credentials',
      'StatefulSet elastic-system/elastic-operator',
      'Namespace elastic-system',
      'Elasticsearch logging/quickstart',
      'Kibana logging/quickstart',
      'Logging sandbox',
      'Flow default/es-flow',
      'Namespace logging',
      `ConfigMap default/${INSTALL_CONFIGMAP}`,
    ]),
  );
  expect(kept).toEqual(['Namespace minio (it holds Secret minio/team-backup-keys)']);

  for (const [apiVersion, kind, name, ns] of [
    ['apps/v1', 'Deployment', 'minio', 'minio'],
    ['v1', 'PersistentVolumeClaim', 'minio-data', 'minio'],
    ['v1', 'Secret', 'minio-credentials', 'default'],
    ['v1', 'Namespace', 'logging', undefined],
    ['v1', 'Namespace', 'elastic-system', undefined],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'elastic-operator', undefined],
    ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'elastic-webhook.k8s.elastic.co', undefined],
    ['logging.banzaicloud.io/v1beta1', 'Logging', 'sandbox', undefined],
  ] as const) {
    expect(await exists(apiVersion, kind, name, ns), `${kind} ${name}`).toBe(false);
  }
  // Everyone else's objects survive, and so do the CRDs (deleting one deletes others' resources).
  expect(await exists('v1', 'ConfigMap', 'users-own', 'default')).toBe(true);
  expect(await exists('v1', 'Service', 'heimdall', 'default')).toBe(true);
  expect(await exists('v1', 'Secret', 'team-backup-keys', 'minio')).toBe(true);
  expect(await exists('v1', 'Namespace', 'minio')).toBe(true);
  expect(await exists('rbac.authorization.k8s.io/v1', 'ClusterRole', 'users-viewer')).toBe(true);
  expect(await exists('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'elasticsearches.elasticsearch.k8s.elastic.co')).toBe(true);

  // A second run finds nothing of the sandbox's left, and still keeps the used namespace.
  const again = await uninstallFromExisting(cfg, services);
  expect(again.removed).toEqual([]);
  expect(again.kept).toEqual(kept);
}, 240_000);
