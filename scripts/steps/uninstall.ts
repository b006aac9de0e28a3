// `sandbox down --context`: removes only what the sandbox installed into a cluster it
// did not create, in reverse order of `up`, and tolerates anything already gone.
import type { SandboxConfig } from '../lib/config.ts';
import type { KubeObject } from '../lib/kube.ts';
import { fetchManifest } from '../lib/remote-manifest.ts';
import { certManagerRelease } from './cert-manager.ts';
import { eckUrls } from './eck.ts';
import { flinkOperatorRelease } from './flink-operator.ts';
import { SANDBOX_CONFIGMAP } from './job-image.ts';
import { inNamespace, loadManifest, type HelmRelease } from './kit.ts';
import { loggingOperatorRelease } from './logging.ts';
import { MINIO_FILES } from './minio.ts';
import type { StepServices } from './step.ts';
import { ingressNginxUrl } from './ui.ts';

const PART_OF = 'app.kubernetes.io/part-of=flink-sandbox';

/**
 * Custom resource definitions are left in place on purpose: deleting one deletes every
 * resource of that kind in the whole cluster, including ones the sandbox did not make.
 */
export const KEPT_NOTE =
  'CRDs (flink.apache.org, cert-manager.io, logging.banzaicloud.io, *.k8s.elastic.co) were kept: deleting a CRD deletes every resource of its kind in the cluster; remove them with `kubectl delete crd ...` if none are yours';

export async function uninstallFromExisting(cfg: SandboxConfig, services: StepServices): Promise<string[]> {
  const kube = await services.kube();
  const tools = await services.tools();
  const removed: string[] = [];
  const del = async (o: KubeObject): Promise<void> => {
    const gone = await kube
      .delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, { wait: true, timeoutMs: 120_000 })
      .catch(() => false);
    if (gone) removed.push(`${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  };
  const { job, logging, minio } = cfg.namespaces;

  // Jobs first: their finalizers need the operator to be running.
  for (const kind of ['FlinkStateSnapshot', 'FlinkDeployment']) {
    const objs = await kube.list('flink.apache.org/v1beta1', kind, { namespace: job }).catch(() => []);
    for (const o of objs) await del(o);
  }
  const pipelineObjs = [
    ...inNamespace((await Promise.all(MINIO_FILES.map((f) => loadManifest(f)))).flat(), minio),
    ...(await loadManifest('logging/logging.yaml')),
    ...inNamespace(await loadManifest('logging/cluster-output.yaml'), logging),
    ...inNamespace(await loadManifest('logging/flow.yaml'), job),
    ...inNamespace([...(await loadManifest('eck/elasticsearch.yaml')), ...(await loadManifest('eck/kibana.yaml'))], logging),
    ...inNamespace(await loadManifest('ui/heimdall.yaml'), job),
  ];
  for (const o of pipelineObjs) await del(o);

  const releases: HelmRelease[] = [loggingOperatorRelease(cfg), flinkOperatorRelease(cfg), certManagerRelease(cfg)];
  for (const rel of releases) {
    const res = await tools.probe('helm', ['uninstall', rel.release, '--namespace', rel.namespace, '--ignore-not-found']);
    if (res.ok && !/not found/i.test(res.stdout + res.stderr)) removed.push(`helm release ${rel.namespace}/${rel.release}`);
  }
  // The operator chart keeps the job namespace's `flink` ServiceAccount and its Role and
  // RoleBinding after uninstall (helm.sh/resource-policy: keep); they are the sandbox's.
  for (const [kind, apiVersion, name] of [
    ['ServiceAccount', 'v1', 'flink'],
    ['Role', 'rbac.authorization.k8s.io/v1', 'flink'],
    ['RoleBinding', 'rbac.authorization.k8s.io/v1', 'flink-role-binding'],
  ] as const) {
    const o = await kube.get({ apiVersion, kind, name, namespace: job });
    if (o?.metadata.annotations?.['helm.sh/resource-policy'] === 'keep') await del(o);
  }
  for (const url of [...eckUrls(cfg).reverse(), ...(cfg.with.includes('ui') ? [ingressNginxUrl(cfg)] : [])]) {
    const objs = await fetchManifest(url).catch(() => [] as KubeObject[]);
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition')) await del(o);
  }
  for (const ns of [minio, job]) {
    for (const kind of ['Secret', 'ConfigMap']) {
      const objs = await kube.list('v1', kind, { namespace: ns, labelSelector: PART_OF });
      for (const o of objs) if (o.metadata.name === SANDBOX_CONFIGMAP || o.kind === 'Secret') await del(o);
    }
  }
  const namespaces = await kube.list('v1', 'Namespace', { labelSelector: PART_OF });
  for (const ns of namespaces) await del(ns);
  return removed;
}
