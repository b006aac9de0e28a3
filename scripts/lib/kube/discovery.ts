// Maps apiVersion + kind to the REST path of a resource by asking the API server's discovery
// endpoints (/api/v1, /apis/<group>/<version>). Answers are cached per apiVersion; a kind that
// is missing triggers a fresh look, because CRDs add kinds while we run. The built-in kinds the
// sandbox reads and writes most have fixed paths (BUILT_IN) and need no round trip.
import { isApiError, type Transport } from './client.ts';

export interface ResourceInfo {
  /** Plural resource name used in paths, e.g. "deployments". */
  name: string;
  namespaced: boolean;
  kind: string;
}

export interface Discovery {
  /** undefined when the server does not serve that kind under that apiVersion. */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined>;
  /** Forget cached answers (after CRDs were created). */
  invalidate(apiVersion?: string): void;
}

interface ApiResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }>;
}

export interface ServedKind {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/**
 * Every kind the server lets us list, in each group's preferred version (what `kubectl
 * api-resources --verbs=list` shows): the answer to "what could be in this namespace?".
 */
export async function listableKinds(transport: Transport): Promise<ServedKind[]> {
  const groups = await transport.json<{ groups?: Array<{ preferredVersion?: { groupVersion: string } }> }>('GET', '/apis', { what: 'discover API groups' });
  const versions = ['v1', ...(groups.groups ?? []).flatMap((g) => (g.preferredVersion ? [g.preferredVersion.groupVersion] : []))];
  const lists = await Promise.all(
    versions.map((apiVersion) =>
      transport.json<ApiResourceList>('GET', groupVersionPath(apiVersion), { what: `discover ${apiVersion}` }).then(
        (list) => ({ apiVersion, list }),
        // A group whose aggregated server is down (metrics.k8s.io, often) hides nothing of ours.
        () => ({ apiVersion, list: {} as ApiResourceList }),
      ),
    ),
  );
  return lists.flatMap(({ apiVersion, list }) =>
    (list.resources ?? [])
      .filter((r) => !r.name.includes('/') && (r.verbs ?? []).includes('list'))
      .map((r) => ({ apiVersion, kind: r.kind, namespaced: r.namespaced })),
  );
}

/**
 * Built-in kinds whose paths every Kubernetes release the sandbox supports serves, unchanged since
 * they went GA: their path is known without asking (client-go's typed clients have them compiled
 * in the same way). A warm `up` otherwise spends a discovery request on each of these groups. The
 * real API server tier checks each entry against kube-apiserver's own discovery.
 */
export const BUILT_IN: Readonly<Record<string, readonly ResourceInfo[]>> = {
  v1: [
    { kind: 'ConfigMap', name: 'configmaps', namespaced: true },
    { kind: 'Event', name: 'events', namespaced: true },
    { kind: 'Namespace', name: 'namespaces', namespaced: false },
    { kind: 'Node', name: 'nodes', namespaced: false },
    { kind: 'PersistentVolumeClaim', name: 'persistentvolumeclaims', namespaced: true },
    { kind: 'Pod', name: 'pods', namespaced: true },
    { kind: 'Secret', name: 'secrets', namespaced: true },
    { kind: 'Service', name: 'services', namespaced: true },
    { kind: 'ServiceAccount', name: 'serviceaccounts', namespaced: true },
  ],
  'apps/v1': [
    { kind: 'DaemonSet', name: 'daemonsets', namespaced: true },
    { kind: 'Deployment', name: 'deployments', namespaced: true },
    { kind: 'StatefulSet', name: 'statefulsets', namespaced: true },
  ],
  'batch/v1': [{ kind: 'Job', name: 'jobs', namespaced: true }],
  'storage.k8s.io/v1': [{ kind: 'StorageClass', name: 'storageclasses', namespaced: false }],
};

export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function createDiscovery(transport: Transport): Discovery {
  const cache = new Map<string, Promise<ResourceInfo[]>>();

  function fetchList(apiVersion: string): Promise<ResourceInfo[]> {
    const p = transport
      .json<ApiResourceList>('GET', groupVersionPath(apiVersion), { what: `discover ${apiVersion}` })
      .then((list) => (list.resources ?? []).filter((r) => !r.name.includes('/')).map((r) => ({ name: r.name, kind: r.kind, namespaced: r.namespaced })))
      .catch((err: unknown) => {
        if (isApiError(err, 404)) return [];
        cache.delete(apiVersion);
        throw err;
      });
    cache.set(apiVersion, p);
    return p;
  }

  return {
    async resource(apiVersion, kind) {
      const builtIn = BUILT_IN[apiVersion]?.find((r) => r.kind === kind);
      if (builtIn) return builtIn;
      const cached = cache.get(apiVersion);
      if (cached) {
        const hit = (await cached).find((r) => r.kind === kind);
        if (hit) return hit;
        // Only one refresh in flight per apiVersion, even when many callers miss at once.
        if (cache.get(apiVersion) !== cached) return (await cache.get(apiVersion)!).find((r) => r.kind === kind);
      }
      return (await fetchList(apiVersion)).find((r) => r.kind === kind);
    },
    invalidate(apiVersion) {
      if (apiVersion) cache.delete(apiVersion);
      else cache.clear();
    },
  };
}

export interface PathParts {
  apiVersion: string;
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** /apis/apps/v1/namespaces/ns/deployments/name[/status]; the namespace is dropped for cluster-scoped kinds. */
export function resourcePath(p: PathParts): string {
  const parts = [groupVersionPath(p.apiVersion)];
  if (p.resource.namespaced && p.namespace) parts.push('namespaces', encodeURIComponent(p.namespace));
  parts.push(p.resource.name);
  if (p.name !== undefined) parts.push(encodeURIComponent(p.name));
  if (p.subresource) parts.push(p.subresource);
  return parts.join('/');
}
