// Shared setup of the simulated-operator tests: a two-node simulated kind cluster, the real
// upstream CRDs (test/fixtures/crds) created through the API, and the operator workloads
// created the way their charts / manifests would (a Deployment or StatefulSet whose pod turns
// Ready), which is what switches a simulated operator on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crdFixtureDir, crdFixtureFile } from '../fixtures/crds/location.ts';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import { startSim, type Sim, type SimOptions } from '../sim/harness.ts';
import { flinkOperator } from '../sim/flink/chart.ts';
import { DEFAULT_NODE_IMAGE, bootstrap } from '../sim/tools/kind-cluster.ts';
import { mergeValues, readValuesFile, type Values } from '../sim/tools/helm-values.ts';

/** The CRD fixtures' folder; throws (saying how to regenerate) when one is missing. */
export const crdDir: string = crdFixtureDir();

/** A started simulation with nodes and the CRDs of the given fixture files. */
export async function operatorSim(crdFiles: string[], opts: SimOptions = {}): Promise<Sim> {
  const sim = await startSim({ timing: { backoffMs: 50, backoffMaxMs: 200 }, ...opts });
  const api = new SimClient(sim.url, 'test-kind');
  await api.request('POST', '/_sim/clusters', { name: 'c' });
  await bootstrap(api, 'c', [{ role: 'control-plane' }, { role: 'worker' }], DEFAULT_NODE_IMAGE, { cpus: 32, memBytes: 64 * 2 ** 30 });
  const names: string[] = [];
  for (const file of crdFiles) {
    for (const doc of parseAllDocuments(readFileSync(crdFixtureFile(file), 'utf8'))) {
      const crd = doc.toJS() as KubeObject | null;
      if (!crd?.metadata?.name) continue;
      await sim.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      names.push(crd.metadata.name);
    }
  }
  for (const n of names) {
    await sim.kube.waitFor<KubeObject>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${n}`, (c) => (c.status?.conditions ?? []).some((x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True'));
  }
  return sim;
}

export async function ensureNamespace(sim: Sim, name: string): Promise<void> {
  if (!(await sim.kube.get(`/api/v1/namespaces/${name}`))) await sim.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** An operator's own workload, as its chart or manifest installs it; resolves once its pod is Ready. */
export async function installOperator(sim: Sim, w: { kind: 'Deployment' | 'StatefulSet'; name: string; namespace: string; image: string; env?: Record<string, string>; configMap?: KubeObject }): Promise<void> {
  await ensureNamespace(sim, w.namespace);
  if (w.configMap) await sim.kube.create(`/api/v1/namespaces/${w.namespace}/configmaps`, { ...w.configMap, metadata: { ...w.configMap.metadata, namespace: w.namespace } });
  const labels = { 'app.kubernetes.io/name': w.name };
  const plural = w.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  await sim.kube.create(`/apis/apps/v1/namespaces/${w.namespace}/${plural}`, {
    apiVersion: 'apps/v1',
    kind: w.kind,
    metadata: { name: w.name, namespace: w.namespace, labels },
    spec: {
      replicas: 1,
      ...(w.kind === 'StatefulSet' ? { serviceName: w.name } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: w.name, image: w.image, env: Object.entries(w.env ?? {}).map(([name, value]) => ({ name, value })), ...(w.configMap ? { volumeMounts: [{ name: 'config', mountPath: '/opt/flink/conf' }] } : {}) }],
          ...(w.configMap ? { volumes: [{ name: 'config', configMap: { name: w.configMap.metadata.name, items: Object.keys(w.configMap.data ?? {}).filter((k) => k !== 'config.yaml').map((k) => ({ key: k, path: k })) } }] } : {}),
        },
      },
    },
  });
  await sim.kube.waitFor<KubeObject[]>(`/api/v1/namespaces/${w.namespace}/pods`, (pods) => pods.some((p) => p.metadata.labels?.['app.kubernetes.io/name'] === w.name && isReady(p)));
}

/** The first condition of `type` in an object's status. */
export function condition(obj: KubeObject | undefined, type: string): Record<string, any> | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Flink operator's `flink-operator-config` ConfigMap as the chart renders it with the
 * project's values (manifests/flink-operator/values.yaml) plus `extra` values.
 */
export function flinkOperatorConfigMap(namespace: string, extra: Values = {}): KubeObject {
  const values = mergeValues(mergeValues(flinkOperator.defaults, readValuesFile(path.join(repoRoot, 'manifests', 'flink-operator', 'values.yaml'))), extra);
  const version = flinkOperator.versions[0]!;
  const objects = flinkOperator.render(values, { name: 'flink-kubernetes-operator', namespace, revision: 1, isInstall: true }, { name: flinkOperator.name, version, appVersion: flinkOperator.appVersion(version), description: flinkOperator.description });
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'flink-operator-config');
  if (!cm) throw new Error('the flink-kubernetes-operator chart rendered no flink-operator-config ConfigMap');
  return cm;
}
