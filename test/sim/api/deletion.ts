// Deletion as the real server does it: preconditions, admission, finalizers (the object is
// marked and waits), pods' graceful deletion (the kubelet finishes it with grace 0), the
// propagation policies (orphan / foreground finalizers), namespaces and CRDs that terminate
// through the lifecycle sweep, and the response body each kind returns.
import type { Api } from './objects.ts';
import { CRD_CLEANUP_FINALIZER, RETURNS_DELETED, finalizersOf, present, releasable } from './meta.ts';
import type { DeleteOptions, ListQuery, WriteResult } from './objects.ts';
import { conflict, invalid, methodNotAllowed, notFound, successStatus } from './status.ts';
import { type Obj, type RequestCtx, type ResourceType, apiVersionOf, clone, nowTimestamp } from './types.ts';

/** DELETE of one object: preconditions, admission, finalizers, grace periods, propagation policy. */
export function deleteObject(api: Api, rt: ResourceType, ns: string, name: string, opts: DeleteOptions, ctx: RequestCtx): WriteResult {
  const old = api.store.get(rt.storageKey, rt.namespaced ? ns : '', name);
  if (!old) throw notFound(rt, name);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== old.metadata.uid) {
    throw conflict(rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
  }
  api.admit(rt, 'DELETE', undefined, old, ctx);
  const grace = gracePeriod(api, rt, old, opts);
  if (old.metadata.deletionTimestamp) {
    // Already terminating. Only a pod's shorter grace period changes anything: 0 is the
    // kubelet saying its containers are stopped, so the pod goes (or waits for finalizers).
    if (rt.storageKey !== '/pods' || grace !== 0 || old.metadata.deletionGracePeriodSeconds === 0) return { code: 200, body: present(rt, old) };
    const next = clone(old);
    next.metadata.deletionGracePeriodSeconds = 0;
    if (ctx.dryRun) return { code: 200, body: present(rt, next) };
    if (releasable(rt, next)) {
      const gone = api.store.remove(rt.storageKey, next) ?? next;
      api.scheduleSweep();
      return { code: 200, body: present(rt, gone) };
    }
    return { code: 200, body: present(rt, api.store.put(rt.storageKey, next)) };
  }

  const next = clone(old);
  const finalizers = finalizersOf(next).slice();
  const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : 'Background');
  if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw invalid(rt, name, [{ field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, reason: 'FieldValueNotSupported' }]);
  }
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  const isNamespace = rt.storageKey === '/namespaces';
  if (rt.storageKey === 'apiextensions.k8s.io/customresourcedefinitions') {
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) finalizers.push(CRD_CLEANUP_FINALIZER);
    const conditions: Obj[] = (next.status?.conditions ?? []).filter((c: Obj) => c?.type !== 'Terminating');
    conditions.push({ type: 'Terminating', status: 'True', lastTransitionTime: nowTimestamp(), reason: 'InstanceDeletionPending', message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon' });
    next.status = { ...(next.status ?? {}), conditions };
  }
  if (isNamespace) next.status = { ...(next.status ?? {}), phase: 'Terminating' };

  if (finalizers.length || isNamespace || grace > 0) {
    // Something still holds the object: mark it and let the holders (the kubelet, finalizers'
    // controllers, our lifecycle sweep) finish. A pod's deletionTimestamp is when its grace ends.
    if (finalizers.length) next.metadata.finalizers = finalizers;
    next.metadata.deletionTimestamp = grace > 0 ? new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : nowTimestamp();
    next.metadata.deletionGracePeriodSeconds = grace;
    if (ctx.dryRun) return { code: 200, body: present(rt, next) };
    const stored = api.store.put(rt.storageKey, next);
    api.scheduleSweep();
    return { code: opts.orphanDependents === false ? 202 : 200, body: present(rt, stored) };
  }
  if (ctx.dryRun) return { code: 200, body: RETURNS_DELETED.has(rt.storageKey) ? present(rt, old) : successStatus(rt, name, old.metadata.uid) };
  const gone = api.store.remove(rt.storageKey, old) ?? old;
  api.scheduleSweep();
  return { code: 200, body: RETURNS_DELETED.has(rt.storageKey) ? present(rt, gone) : successStatus(rt, name, old.metadata.uid) };
}

/**
 * A pod bound to an existing node gets a graceful deletion (the kubelet stops it, then deletes
 * it with grace 0). Unbound pods, finished pods and pods of nodes that do not exist (which
 * the pod garbage collector would force-delete) go at once, as does everything else.
 */
function gracePeriod(api: Api, rt: ResourceType, pod: Obj, opts: DeleteOptions): number {
  if (rt.storageKey !== '/pods') return 0;
  const requested = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  const g = Math.max(0, Math.floor(Number(requested) || 0));
  if (g === 0) return 0;
  const node = pod.spec?.nodeName;
  if (!node || !api.store.get('/nodes', '', node)) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  return g;
}

/** DELETE of a collection: every selected object, answered with the list of what was deleted. */
export function deleteCollection(api: Api, rt: ResourceType, ns: string, q: ListQuery, opts: DeleteOptions, ctx: RequestCtx): Obj {
  if (!rt.verbs.includes('deletecollection')) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  const items: Obj[] = [];
  for (const o of api.select(rt, ns, q)) {
    try {
      const { body } = deleteObject(api, rt, o.metadata.namespace ?? '', o.metadata.name, opts, ctx);
      items.push(body.kind === 'Status' ? present(rt, o) : body);
    } catch (err) {
      // Gone in the meantime: nothing left to delete.
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
  const shown = items.map((o) => {
    if (!rt.crd) {
      delete o.apiVersion;
      delete o.kind;
    }
    return o;
  });
  return { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: { resourceVersion: String(api.store.rv) }, items: shown };
}
