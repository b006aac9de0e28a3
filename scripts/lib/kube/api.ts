// The Kube interface over the transport: CRUD by apiVersion/kind through discovery, plus the
// streaming parts (watch, logs, port-forward) that live in their own files.
import { SandboxError } from '../errors.ts';
import { isApiError, type KubeApiError, type Transport } from './client.ts';
import { ApplyConflictError, FIELD_MANAGER, fieldConflicts, onlyOwnConflicts } from './conflicts.ts';
import { createDiscovery, listableKinds, resourcePath, type ResourceInfo } from './discovery.ts';
import { followLogs } from './logs.ts';
import { listAll, watchObjects } from './watch.ts';
import { describeRef, type Kube, type KubeObject, type ObjectRef } from './kube.ts';

export interface KubeMeta {
  context: string;
  /** The context's namespace, used for namespaced objects that name none. */
  namespace: string;
  /** Every apply takes over fields other managers hold (`sandbox up --force`). */
  forceConflicts?: boolean;
}

// Long on purpose: one closure over the transport and discovery, returning the Kube interface's
// methods; each is a few lines, and the heavy parts (watch, logs, port-forward) live next door.
export function createKube(transport: Transport, meta: KubeMeta): Kube {
  const discovery = createDiscovery(transport);

  async function resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    return discovery.resource(apiVersion, kind);
  }

  async function mustResolve(apiVersion: string, kind: string, pendingCrds?: Set<string>): Promise<ResourceInfo> {
    let info = await resolve(apiVersion, kind);
    // A CRD applied earlier in the same batch takes a moment to be served; give it that moment.
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const deadline = performance.now() + 30_000;
    for (let delay = 100; !info && pendingCrds?.has(`${group}/${kind}`) && performance.now() < deadline; delay = Math.min(delay * 2, 1000)) {
      await new Promise((r) => setTimeout(r, delay));
      discovery.invalidate(apiVersion);
      info = await resolve(apiVersion, kind);
    }
    if (!info) throw await notServed(apiVersion, group ?? '', kind);
    return info;
  }

  /** Why a kind is not served: no CRD defines it, or its CRD is there but not Established (named, with its condition). */
  async function notServed(apiVersion: string, group: string, kind: string): Promise<SandboxError> {
    const crdInfo = await resolve('apiextensions.k8s.io/v1', 'CustomResourceDefinition').catch(() => undefined);
    const crds = crdInfo ? await listAll(transport, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition', crdInfo, {}).then((l) => l.items, () => []) : [];
    const crd = crds.find((c) => c.spec?.group === group && c.spec?.names?.kind === kind);
    const established = (crd?.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Established') as
      | { status?: string; reason?: string; message?: string }
      | undefined;
    if (crd && established?.status !== 'True') {
      const condition = established ? `Established=${established.status}${established.reason ? ` (${established.reason}: ${established.message ?? ''})` : ''}` : 'no Established condition yet';
      return new SandboxError(`the API server does not serve kind ${kind} in ${apiVersion}: its CRD ${crd.metadata.name} is not Established (${condition})`, {
        hint: `the API server has not taken the CRD up: see its conditions (\`kubectl get crd ${crd.metadata.name} -o yaml\`; the diagnostics bundle lists it in cluster/crds.txt) and the API server's log; \`sandbox up\` continues once it is Established`,
      });
    }
    return new SandboxError(`the API server does not serve kind ${kind} in ${apiVersion}`, {
      hint: 'install the CRD that defines it first (or check the apiVersion)',
    });
  }

  function namespaceOf(info: ResourceInfo, ns: string | undefined): string | undefined {
    return info.namespaced ? (ns ?? meta.namespace) : undefined;
  }

  function objectPath(ref: ObjectRef, info: ResourceInfo, subresource?: string): string {
    return resourcePath({ apiVersion: ref.apiVersion, resource: info, namespace: namespaceOf(info, ref.namespace), name: ref.name, subresource });
  }

  /** The object as it should be sent: namespace filled in (or removed for cluster-scoped kinds). */
  function normalized(obj: KubeObject, info: ResourceInfo): KubeObject {
    const metadata = { ...obj.metadata };
    const ns = namespaceOf(info, obj.metadata.namespace);
    if (ns) metadata.namespace = ns;
    else delete metadata.namespace;
    return { ...obj, metadata };
  }

  const kube: Kube = {
    context: meta.context,
    server: transport.server,

    async apply(objects, opts = {}) {
      const applied: KubeObject[] = [];
      const pendingCrds = new Set<string>();
      for (const obj of objects) {
        const info = await mustResolve(obj.apiVersion, obj.kind, pendingCrds);
        const body = normalized(obj, info);
        const ref = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: body.metadata.namespace };
        const send = (force: boolean): Promise<KubeObject> =>
          transport.json<KubeObject>('PATCH', objectPath(ref, info), {
            query: { fieldManager: FIELD_MANAGER, force: force || undefined, fieldValidation: 'Strict', dryRun: opts.dryRun ? 'All' : undefined },
            body,
            contentType: 'application/apply-patch+yaml',
            what: `apply ${describeRef(ref)}`,
          });
        const forced = opts.force ?? meta.forceConflicts ?? false;
        const result = await send(forced).catch((err: unknown) => {
          const conflicts = fieldConflicts(err);
          if (!conflicts.length) throw err;
          if (onlyOwnConflicts(conflicts)) return send(true);
          throw new ApplyConflictError(describeRef(ref), conflicts, err as KubeApiError);
        });
        applied.push(result);
        if (obj.kind === 'CustomResourceDefinition' && !opts.dryRun) {
          const spec = obj.spec as { group?: string; names?: { kind?: string }; versions?: Array<{ name: string }> } | undefined;
          pendingCrds.add(`${spec?.group}/${spec?.names?.kind}`);
          for (const v of spec?.versions ?? []) discovery.invalidate(`${spec?.group}/${v.name}`);
        }
      }
      return applied;
    },

    async createDryRun(obj) {
      const info = await mustResolve(obj.apiVersion, obj.kind);
      const body = normalized(obj, info);
      const path = resourcePath({ apiVersion: obj.apiVersion, resource: info, namespace: body.metadata.namespace });
      // A 5xx here is usually the answer itself (a webhook that is not serving yet), so only
      // dropped connections are retried; Wait.forDryRunAccepted does the waiting.
      await transport.json('POST', path, {
        query: { dryRun: 'All', fieldManager: FIELD_MANAGER },
        body,
        retry: 'network',
        what: `dry-run create ${describeRef({ ...obj, name: obj.metadata.name, namespace: body.metadata.namespace })}`,
      });
    },

    async get(ref) {
      const info = await resolve(ref.apiVersion, ref.kind);
      if (!info) return undefined;
      try {
        return await transport.json<KubeObject>('GET', objectPath(ref, info), { what: `get ${describeRef(ref)}` });
      } catch (err) {
        if (isApiError(err, 404)) return undefined;
        throw err;
      }
    },

    async list(apiVersion, kind, opts = {}) {
      const info = await resolve(apiVersion, kind);
      if (!info) return [];
      try {
        return (await listAll(transport, apiVersion, kind, info, opts)).items;
      } catch (err) {
        // The kind went away (its CRD was deleted) since discovery answered.
        if (!isApiError(err, 404)) throw err;
        discovery.invalidate(apiVersion);
        return [];
      }
    },

    listableKinds() {
      return listableKinds(transport);
    },

    async patchMerge(ref, patch, opts = {}) {
      const info = await mustResolve(ref.apiVersion, ref.kind);
      return transport.json<KubeObject>('PATCH', objectPath(ref, info, opts.subresource), {
        // Named, so the fields it changes are recorded as the sandbox's (an Update entry), not
        // as the HTTP library's user agent's, and a later apply does not see them as foreign.
        query: { fieldManager: FIELD_MANAGER },
        body: patch,
        contentType: 'application/merge-patch+json',
        what: `patch ${describeRef(ref)}${opts.subresource ? ` ${opts.subresource}` : ''}`,
      });
    },

    async delete(ref, opts = {}) {
      const info = await resolve(ref.apiVersion, ref.kind);
      if (!info) return false;
      try {
        await transport.json('DELETE', objectPath(ref, info), {
          query: { propagationPolicy: 'Background' },
          what: `delete ${describeRef(ref)}`,
        });
      } catch (err) {
        if (isApiError(err, 404)) return false;
        throw err;
      }
      if (opts.wait) {
        // Loaded lazily. wait/ builds on the Kube interface (kube.ts), never on this file: no cycle.
        const { Wait } = await import('../wait/wait.ts');
        await Wait.forObject(kube, ref, (o) => ({ ok: o === undefined, seen: o ? `still there${o.metadata.deletionTimestamp ? ', being deleted' : ''}` : 'gone' }), `${describeRef(ref)} to be deleted`, {
          timeoutMs: opts.timeoutMs ?? 120_000,
          signal: opts.signal,
        });
      }
      return true;
    },

    watch(apiVersion, kind, opts, onEvent, signal) {
      return watchObjects(transport, discovery, { apiVersion, kind, ...opts }, onEvent, signal);
    },

    async logs(namespace, pod, container, opts = {}) {
      return transport.text('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, {
        query: { container, previous: opts.previous ? true : undefined, tailLines: opts.tailLines },
        what: `${opts.previous ? 'previous ' : ''}logs of ${namespace}/${pod} ${container}`,
      });
    },

    followLogs(namespace, pod, container, onLine, opts) {
      return followLogs(kube, transport, { namespace, pod, container }, onLine, opts);
    },

    async portForward(target) {
      // Loaded when first used, with client-node's PortForward (see portforward-client.ts).
      const { portForward } = await import('./portforward.ts');
      return portForward(kube, transport.kc, target);
    },
  };
  return kube;
}
