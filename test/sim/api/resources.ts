// The built-in resources the fake API server serves, and the resources it derives from
// CustomResourceDefinitions. A CRD's resources are served only once the CRD reports
// Established=True (a controller sets it), exactly when the real server starts serving them.
import { type Obj, type ResourceType, isObj } from './types.ts';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface Spec {
  gv: string;
  resource: string;
  kind: string;
  singular?: string;
  namespaced: boolean;
  short?: string[];
  sub?: string[];
  verbs?: string[];
  categories?: string[];
}

const BUILTINS: Spec[] = [
  { gv: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, short: ['ns'], sub: ['finalize', 'status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { gv: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, short: ['no'], sub: ['status'] },
  { gv: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, short: ['po'], sub: ['binding', 'log', 'portforward', 'status'], categories: ['all'] },
  { gv: 'v1', resource: 'services', kind: 'Service', namespaced: true, short: ['svc'], sub: ['status'], categories: ['all'] },
  { gv: 'v1', resource: 'endpoints', kind: 'Endpoints', singular: 'endpoints', namespaced: true, short: ['ep'] },
  { gv: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, short: ['cm'] },
  { gv: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  { gv: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, short: ['sa'] },
  { gv: 'v1', resource: 'events', kind: 'Event', namespaced: true, short: ['ev'] },
  { gv: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, short: ['pvc'], sub: ['status'] },
  { gv: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, short: ['pv'], sub: ['status'] },
  { gv: 'apps/v1', resource: 'deployments', kind: 'Deployment', namespaced: true, short: ['deploy'], sub: ['status'], categories: ['all'] },
  { gv: 'apps/v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, short: ['rs'], sub: ['status'], categories: ['all'] },
  { gv: 'apps/v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true, short: ['sts'], sub: ['status'], categories: ['all'] },
  { gv: 'apps/v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, short: ['ds'], sub: ['status'], categories: ['all'] },
  { gv: 'batch/v1', resource: 'jobs', kind: 'Job', namespaced: true, sub: ['status'], categories: ['all'] },
  { gv: 'storage.k8s.io/v1', resource: 'storageclasses', kind: 'StorageClass', namespaced: false, short: ['sc'] },
  { gv: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, short: ['crd', 'crds'], sub: ['status'], categories: ['api-extensions'] },
  { gv: 'rbac.authorization.k8s.io/v1', resource: 'roles', kind: 'Role', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  { gv: 'admissionregistration.k8s.io/v1', resource: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'] },
  { gv: 'admissionregistration.k8s.io/v1', resource: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'] },
  { gv: 'networking.k8s.io/v1', resource: 'ingresses', kind: 'Ingress', namespaced: true, short: ['ing'], sub: ['status'] },
  { gv: 'networking.k8s.io/v1', resource: 'ingressclasses', kind: 'IngressClass', namespaced: false },
  { gv: 'coordination.k8s.io/v1', resource: 'leases', kind: 'Lease', namespaced: true },
  { gv: 'policy/v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, short: ['pdb'], sub: ['status'] },
  { gv: 'events.k8s.io/v1', resource: 'events', kind: 'Event', namespaced: true, short: ['ev'] },
];

function splitGv(gv: string): { group: string; version: string } {
  const i = gv.indexOf('/');
  return i < 0 ? { group: '', version: gv } : { group: gv.slice(0, i), version: gv.slice(i + 1) };
}

export const BUILTIN_TYPES: readonly ResourceType[] = BUILTINS.map((s) => {
  const { group, version } = splitGv(s.gv);
  return {
    group,
    version,
    resource: s.resource,
    kind: s.kind,
    singular: s.singular ?? s.kind.toLowerCase(),
    namespaced: s.namespaced,
    shortNames: s.short ?? [],
    categories: s.categories ?? [],
    subresources: s.sub ?? [],
    verbs: s.verbs ?? CRUD,
    storageKey: `${group}/${s.resource}`,
  };
});

/** True when a CRD's status carries condition Established=True. */
export function isEstablished(crd: Obj): boolean {
  const conditions = crd.status?.conditions;
  return Array.isArray(conditions) && conditions.some((c: Obj) => c?.type === 'Established' && c?.status === 'True');
}

/** The served resource types of one CRD (one per served version), established or not. */
export function crdTypes(crd: Obj): ResourceType[] {
  const spec = crd.spec;
  if (!isObj(spec) || !isObj(spec.names) || !Array.isArray(spec.versions)) return [];
  const names = spec.names;
  return spec.versions
    .filter((v: Obj) => isObj(v) && typeof v.name === 'string' && v.served !== false)
    .map((v: Obj) => ({
      group: String(spec.group),
      version: v.name as string,
      resource: String(names.plural),
      kind: String(names.kind),
      singular: String(names.singular ?? String(names.kind).toLowerCase()),
      namespaced: spec.scope !== 'Cluster',
      shortNames: Array.isArray(names.shortNames) ? names.shortNames : [],
      categories: Array.isArray(names.categories) ? names.categories : [],
      subresources: isObj(v.subresources) && isObj(v.subresources.status) ? ['status'] : [],
      verbs: CRUD,
      storageKey: `${spec.group}/${names.plural}`,
      crd,
    }));
}

/** The openAPIV3Schema of the CRD version a resource type serves. */
export function crdSchema(rt: ResourceType): Obj | undefined {
  const versions = rt.crd?.spec?.versions;
  if (!Array.isArray(versions)) return undefined;
  const v = versions.find((x: Obj) => x?.name === rt.version);
  return v?.schema?.openAPIV3Schema;
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first, then others by name. */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v];
    const level = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [level, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
}

const SUB_KIND: Record<string, string> = { portforward: 'PodPortForwardOptions', binding: 'Binding', log: 'Pod' };
const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  log: ['get'],
  portforward: ['create', 'get'],
  finalize: ['update'],
  binding: ['create'],
};

/** Discovery entries of one group/version: each resource followed by its subresources. */
export function discoveryEntries(types: readonly ResourceType[]): Obj[] {
  const out: Obj[] = [];
  for (const rt of types) {
    const entry: Obj = { name: rt.resource, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: rt.verbs };
    if (rt.shortNames.length) entry.shortNames = rt.shortNames;
    if (rt.categories.length) entry.categories = rt.categories;
    out.push(entry);
    for (const sub of rt.subresources) {
      out.push({ name: `${rt.resource}/${sub}`, singularName: '', namespaced: rt.namespaced, kind: SUB_KIND[sub] ?? rt.kind, verbs: SUB_VERBS[sub] ?? ['get'] });
    }
  }
  // The real server lists resources in name order, which keeps each parent before its subresources.
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
