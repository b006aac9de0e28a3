// What the controller-manager and the apiextensions server do after deletions, done at once
// (on the next tick) instead of over seconds: garbage collection of dependents whose owners
// are gone (background propagation), the `orphan` and `foregroundDeletion` finalizers,
// namespace termination (delete the contents, then the namespace) and CRD cleanup (delete
// the custom resources, then the CRD). Objects with other finalizers wait for their holders.
import { deleteObject } from './deletion.ts';
import { CRD_CLEANUP_FINALIZER, systemCtx } from './meta.ts';
import type { Api } from './objects.ts';
import { CRD_KEY } from './registry.ts';
import { crdTypes } from './resources.ts';
import type { Obj, ResourceType } from './types.ts';

const GC = 'system:garbage-collector';
const NS_CONTROLLER = 'system:namespace-controller';
const CRD_CONTROLLER = 'system:apiextensions-finalizer';

function typeOf(api: Api, storageKey: string): ResourceType | undefined {
  const t = api.typeFor(storageKey);
  if (t) return t;
  // Custom resources of a CRD that is no longer served still have to be cleaned up.
  for (const crd of api.store.peek(CRD_KEY)) {
    const types = crdTypes(crd);
    if (types[0]?.storageKey === storageKey) return types[0];
  }
  return undefined;
}

/** The stored objects as they are now. Stored objects are never changed in place, so no copies. */
function snapshot(api: Api): Array<[string, Obj]> {
  return [...api.store.entries()];
}

function deleteQuietly(api: Api, rt: ResourceType, o: Obj, actor: string): boolean {
  if (o.metadata?.deletionTimestamp) return false;
  try {
    deleteObject(api, rt, o.metadata.namespace ?? '', o.metadata.name, { propagationPolicy: 'Background' }, systemCtx(actor));
    return true;
  } catch {
    return false;
  }
}

function withoutFinalizer(name: string): (o: Obj) => void {
  return (o) => {
    o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f: string) => f !== name);
    if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
  };
}

/** One pass; true when it changed something (another pass may find more to do). */
function pass(api: Api): boolean {
  let changed = false;
  const all = snapshot(api);
  const uids = new Set(all.map(([, o]) => o.metadata?.uid));
  const dependentsOf = (uid: string): Array<[string, Obj]> => all.filter(([, o]) => (o.metadata?.ownerReferences ?? []).some((r: Obj) => r?.uid === uid));

  for (const [key, o] of all) {
    const rt = typeOf(api, key);
    if (!rt) continue;
    const md = o.metadata;
    if (md.deletionTimestamp) {
      const fin: string[] = md.finalizers ?? [];
      if (key === '/pods' && (md.deletionGracePeriodSeconds ?? 0) > 0 && !api.store.get('/nodes', '', String(o.spec?.nodeName ?? ''))) {
        // The pod garbage collector force-deletes terminating pods whose node is gone.
        try {
          deleteObject(api, rt, md.namespace, md.name, { gracePeriodSeconds: 0 }, systemCtx('system:pod-garbage-collector'));
          changed = true;
        } catch {
          // gone already
        }
        continue;
      }
      if (fin.includes('orphan')) {
        for (const [dk, d] of dependentsOf(md.uid)) {
          const drt = typeOf(api, dk);
          if (drt) api.internalUpdate(drt, d, (x) => {
            x.metadata.ownerReferences = (x.metadata.ownerReferences ?? []).filter((r: Obj) => r?.uid !== md.uid);
            if (!x.metadata.ownerReferences.length) delete x.metadata.ownerReferences;
          }, GC);
        }
        api.internalUpdate(rt, o, withoutFinalizer('orphan'), GC);
        changed = true;
        continue;
      }
      if (fin.includes('foregroundDeletion')) {
        const deps = dependentsOf(md.uid);
        for (const [dk, d] of deps) {
          const drt = typeOf(api, dk);
          if (drt && deleteQuietly(api, drt, d, GC)) changed = true;
        }
        if (deps.length === 0) {
          api.internalUpdate(rt, o, withoutFinalizer('foregroundDeletion'), GC);
          changed = true;
        }
        continue;
      }
      if (key === '/namespaces' && (o.spec?.finalizers ?? []).includes('kubernetes')) {
        const contents = all.filter(([k, x]) => k !== '/namespaces' && x.metadata?.namespace === md.name);
        for (const [ck, c] of contents) {
          const crt = typeOf(api, ck);
          if (crt && deleteQuietly(api, crt, c, NS_CONTROLLER)) changed = true;
        }
        if (contents.length === 0) {
          api.internalUpdate(rt, o, (x) => {
            x.spec.finalizers = (x.spec.finalizers ?? []).filter((f: string) => f !== 'kubernetes');
          }, NS_CONTROLLER);
          changed = true;
        }
        continue;
      }
      if (key === CRD_KEY && fin.includes(CRD_CLEANUP_FINALIZER)) {
        const crKey = crdTypes(o)[0]?.storageKey;
        const instances = crKey ? all.filter(([k]) => k === crKey) : [];
        for (const [ik, inst] of instances) {
          const irt = typeOf(api, ik);
          if (irt && deleteQuietly(api, irt, inst, CRD_CONTROLLER)) changed = true;
        }
        if (instances.length === 0) {
          api.internalUpdate(rt, o, withoutFinalizer(CRD_CLEANUP_FINALIZER), CRD_CONTROLLER);
          changed = true;
        }
      }
      continue;
    }
    // Garbage collection: dependents whose owners are all gone go too; dangling references go.
    const refs: Obj[] = md.ownerReferences ?? [];
    if (refs.length === 0) continue;
    const alive = refs.filter((r) => uids.has(r?.uid));
    if (alive.length === 0) {
      if (deleteQuietly(api, rt, o, GC)) changed = true;
    } else if (alive.length < refs.length) {
      api.internalUpdate(rt, o, (x) => {
        x.metadata.ownerReferences = alive;
      }, GC);
      changed = true;
    }
  }
  return changed;
}

/** Returns a scheduler: many triggers within one tick run one sweep. */
export function lifecycleSweeper(api: Api): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      for (let i = 0; i < 50 && pass(api); i++) {
        // repeat until nothing changes: a deleted owner can free further dependents
      }
    });
  };
}
