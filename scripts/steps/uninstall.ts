// `sandbox down --context`: removes only what the sandbox installed into a cluster it did
// not create, in reverse order of `up`. An object counts as the sandbox's when it carries the
// sandbox's part-of label or was applied by its field manager (`sandbox`); a Helm release
// when `up` recorded installing it. Anything else is left alone, whatever its name; a namespace
// the sandbox created is kept while it holds objects of anyone else (see foreign-objects.ts).
import type { SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import type { Kube, KubeObject } from '../lib/kube/kube.ts';
import { fetchManifest } from '../lib/exec/remote-manifest.ts';
import { kubeTargetArgs } from '../lib/services.ts';
import { eckUrls } from './eck.ts';
import { foreignObjects } from './foreign-objects.ts';
import { inNamespace, INSTALL_CONFIGMAP, loadManifest, PART_OF_LABEL, PART_OF_LABELS, PART_OF_SELECTOR } from './kit.ts';
import { MINIO_FILES } from './minio.ts';
import type { StepServices } from '../pipeline/step.ts';
import { ingressNginxUrl } from './ui.ts';


/**
 * Custom resource definitions are left in place on purpose: deleting one deletes every
 * resource of that kind in the whole cluster, including ones the sandbox did not make.
 */
export const KEPT_NOTE =
  'CRDs (flink.apache.org, cert-manager.io, logging.banzaicloud.io, *.k8s.elastic.co) were kept: deleting a CRD deletes every resource of its kind in the cluster; remove them with `kubectl delete crd ...` if none are yours';

function isSandboxs(o: KubeObject): boolean {
  if (o.metadata.labels?.[PART_OF_LABEL] === PART_OF_LABELS[PART_OF_LABEL]) return true;
  const managers = (o.metadata.managedFields ?? []) as Array<{ manager?: string }>;
  return managers.some((m) => m.manager === 'sandbox');
}

export interface Uninstalled {
  /** What was deleted: "Deployment minio/minio", "helm release cert-manager/cert-manager". */
  removed: string[];
  /** Namespaces the sandbox made but kept, each with what others keep in it. */
  kept: string[];
}

// Long on purpose: one ordered teardown, and the order is the point (the jobs while their
// operator runs, then ours, the Helm releases, upstream manifests, labelled leftovers, namespaces).
export async function uninstallFromExisting(cfg: SandboxConfig, services: StepServices): Promise<Uninstalled> {
  const kube = await services.kube();
  const tools = await services.tools();
  const removed: string[] = [];
  const kept: string[] = [];
  const failed: string[] = [];
  const name = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  const del = async (o: KubeObject): Promise<void> => {
    const live = await liveOf(kube, o);
    if (!live || !isSandboxs(live)) return;
    if (o.kind === 'Namespace') {
      const others = await foreignObjects(kube, o.metadata.name, isSandboxs);
      if (others.length) {
        kept.push(`Namespace ${o.metadata.name} (it holds ${others.join(', ')})`);
        return;
      }
    }
    try {
      await kube.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, { wait: true, timeoutMs: 120_000 });
      removed.push(name(o));
    } catch (err) {
      failed.push(`${name(o)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const { job, logging, minio } = cfg.namespaces;
  const installed = (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: job }))?.data as
    | Record<string, string>
    | undefined;

  // The sandbox's jobs first: their finalizers need the operator to be running.
  for (const kind of ['FlinkStateSnapshot', 'FlinkDeployment']) {
    for (const o of await kube.list('flink.apache.org/v1beta1', kind, { namespace: job, labelSelector: PART_OF_SELECTOR })) await del(o);
  }
  const ours = [
    ...inNamespace((await Promise.all(MINIO_FILES.map((f) => loadManifest(f)))).flat(), minio),
    ...(await loadManifest('logging/logging.yaml')),
    ...inNamespace(await loadManifest('logging/cluster-output.yaml'), logging),
    ...inNamespace(await loadManifest('logging/flow.yaml'), job),
    ...inNamespace([...(await loadManifest('eck/elasticsearch.yaml')), ...(await loadManifest('eck/kibana.yaml'))], logging),
    ...inNamespace(await loadManifest('ui/heimdall.yaml'), job),
  ];
  // Last applied, first deleted: a claim goes after the workload that mounts it (with
  // kube-controller-manager's pvc-protection, a claim in use is never released).
  for (const o of ours.reverse()) await del(o);

  for (const entry of (installed?.releases ?? '').split(',').filter(Boolean)) {
    const [namespace, release] = entry.split('/') as [string, string];
    const res = await tools.probe('helm', ['uninstall', release, ...kubeTargetArgs(cfg), '--namespace', namespace, '--ignore-not-found']);
    if (res.ok) removed.push(`helm release ${entry}`);
    else failed.push(`helm release ${entry}: ${res.stderr.trim()}`);
    // The operator chart keeps the job namespace's `flink` ServiceAccount, Role and RoleBinding
    // (helm.sh/resource-policy: keep); they came with the release, so they go with it.
    if (release === 'flink-kubernetes-operator') {
      for (const [kind, apiVersion, keptName] of [
        ['ServiceAccount', 'v1', 'flink'],
        ['Role', 'rbac.authorization.k8s.io/v1', 'flink'],
        ['RoleBinding', 'rbac.authorization.k8s.io/v1', 'flink-role-binding'],
      ] as const) {
        const o = await kube.get({ apiVersion, kind, name: keptName, namespace: job });
        if (o?.metadata.annotations?.['helm.sh/resource-policy'] === 'keep' && o.metadata.annotations?.['meta.helm.sh/release-name'] !== undefined) {
          await kube.delete({ apiVersion, kind, name: keptName, namespace: job }).then(() => removed.push(`${kind} ${job}/${keptName}`));
        }
      }
    }
  }
  const upstream = [...eckUrls(cfg).reverse(), ...((installed?.with ?? '').split(',').includes('ui') ? [ingressNginxUrl(cfg)] : [])];
  for (const url of upstream) {
    const objs = await fetchManifest(url).catch(() => [] as KubeObject[]);
    // Last object first: the Namespace a manifest opens with goes after what is inside it.
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition').reverse()) await del(o);
  }
  for (const ns of [minio, job]) {
    for (const kind of ['Secret', 'ConfigMap']) {
      for (const o of await kube.list('v1', kind, { namespace: ns, labelSelector: PART_OF_SELECTOR })) await del(o);
    }
  }
  for (const ns of await kube.list('v1', 'Namespace', { labelSelector: PART_OF_SELECTOR })) await del(ns);
  if (failed.length) {
    throw new SandboxError(`could not remove everything the sandbox installed:\n  ${failed.join('\n  ')}`, {
      hint: 're-run `sandbox down --context ...`; objects stuck on finalizers need their operator running',
      data: { deleted: removed, kept },
    });
  }
  return { removed, kept };
}

async function liveOf(kube: Kube, o: KubeObject): Promise<KubeObject | undefined> {
  return kube.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }).catch(() => undefined);
}
