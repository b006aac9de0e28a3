// The object semantics of the API server, independent of HTTP: create, read, list, update,
// patch and delete with the real server's metadata handling (uid, resourceVersion, generation,
// managedFields), status subresource rules, validation, admission, dry-run, finalizers and
// deletion propagation. Server-side apply lives in apply.ts and uses commitUpdate below;
// DELETE lives in deletion.ts.
import { randomUUID } from 'node:crypto';
import { checkNamespace, checkServiceAccount, type Operation, runWebhooks } from './admission.ts';
import { Allocator, applyDefaults, generateName } from './defaults.ts';
import { type ManagedEntry, leaves, listKeysFor, overlaps, ownedView, readManaged, sameEntry, writeManaged } from './fields.ts';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';
import { finalizersOf, hasGeneration, hasStatusSub, present, releasable, specPart } from './meta.ts';
import { Registry } from './registry.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import {
  STALE,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  methodNotAllowed,
  notFound,
  type StatusCause,
  unsupportedMediaType,
} from './status.ts';
import { Store } from './store.ts';
import { decodeBuiltin, encodeBuiltin } from './typed.ts';
import { type Obj, type RequestCtx, type ResourceType, apiVersionOf, clone, deepEqual, isObj, nowTimestamp } from './types.ts';
import { pruneUnknown, unknownBuiltinFields, validateCustom, validateObject } from './validation.ts';

export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

export interface DeleteOptions {
  propagationPolicy?: string;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WriteResult {
  code: number;
  body: Obj;
}

export class Api {
  readonly store: Store;
  readonly registry: Registry;
  readonly alloc = new Allocator();
  private readonly faults: () => Obj;
  private sweeper: (() => void) | undefined;

  constructor(store: Store, faults: () => Obj) {
    this.store = store;
    this.registry = new Registry(store);
    this.faults = faults;
  }

  /** Lifecycle work (GC, finalizers, namespace cleanup) to schedule after deletions. */
  setSweeper(fn: () => void): void {
    this.sweeper = fn;
  }

  scheduleSweep(): void {
    this.sweeper?.();
  }

  // ---------------------------------------------------------------- reads

  get(rt: ResourceType, ns: string, name: string): Obj {
    const o = this.store.get(rt.storageKey, rt.namespaced ? ns : '', name);
    if (!o) throw notFound(rt, name);
    return present(rt, o);
  }

  /** Objects of `rt` (all namespaces when `ns` is empty) that match the selectors, in key order. */
  select(rt: ResourceType, ns: string, q: ListQuery): Obj[] {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, rt.storageKey, this.selectableFields(rt));
    return this.store
      .list(rt.storageKey, rt.namespaced && ns ? ns : undefined)
      .filter((o) => labels(o.metadata?.labels ?? {}) && fields(o));
  }

  /** A CRD version's selectableFields, as field selector paths. */
  selectableFields(rt: ResourceType): string[] {
    const v = (rt.crd?.spec?.versions ?? []).find((x: Obj) => x?.name === rt.version);
    const fields: Obj[] = Array.isArray(v?.selectableFields) ? v.selectableFields : [];
    return fields.map((f) => String(f.jsonPath ?? '').replace(/^\./, '')).filter((f) => f !== '');
  }

  list(rt: ResourceType, ns: string, q: ListQuery): Obj {
    let items = this.select(rt, ns, q);
    const metadata: Obj = { resourceVersion: String(this.store.rv) };
    if (q.continueToken) {
      let after: string;
      try {
        after = String(JSON.parse(Buffer.from(q.continueToken, 'base64').toString('utf8')).after);
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
    }
    if (q.limit && q.limit > 0 && items.length > q.limit) {
      const rest = items.length - q.limit;
      items = items.slice(0, q.limit);
      const last = items[items.length - 1];
      metadata.continue = Buffer.from(JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64');
      metadata.remainingItemCount = rest;
    }
    // Typed built-in lists carry no apiVersion/kind per item; custom resource lists do.
    const shown = items.map((o) => {
      const p = present(rt, o);
      if (!rt.crd) {
        delete p.apiVersion;
        delete p.kind;
      }
      return p;
    });
    return { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata, items: shown };
  }

  // ---------------------------------------------------------------- writes

  private checkTypeMeta(rt: ResourceType, body: Obj): void {
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(rt)) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(rt)})`);
    }
    if (body.kind !== undefined && body.kind !== rt.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${rt.kind})`);
    }
  }

  /** Admission webhooks for a write (not for the server's own writes). */
  admit(rt: ResourceType, op: Operation, object: Obj | undefined, old: Obj | undefined, ctx: RequestCtx, subresource?: string): void {
    if (ctx.actor.startsWith('system:')) return;
    runWebhooks(this.store, this.faults(), { rt, op, subresource, object, old, dryRun: ctx.dryRun, fromClient: ctx.fromClient });
  }

  /** Custom resources against their schema; unknown fields per fieldValidation (apply checks them itself). */
  private validateCustomResource(rt: ResourceType, obj: Obj, ctx: RequestCtx, causes: StatusCause[], checkUnknown: boolean): void {
    const { unknown, invalid: bad } = rt.crd ? validateCustom(rt, obj) : { unknown: unknownBuiltinFields(rt, obj), invalid: [] };
    if (unknown.length && checkUnknown) {
      const fields = unknown.map((u) => `unknown field "${u.replace(/: field not declared in schema$/, '').replace(/^\./, '')}"`);
      if (ctx.fieldValidation === 'Strict') {
        throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${fields.join(', ')}`);
      }
      pruneUnknown(obj, unknown);
      if (ctx.fieldValidation === 'Warn') ctx.warnings.push(...fields);
    }
    causes.push(...bad);
  }

  /** Field ownership after a non-apply write: what changed now belongs to `manager`'s Update entry. */
  private trackUpdate(rt: ResourceType, old: Obj | undefined, next: Obj, manager: string, subresource?: string): Obj[] {
    const part = subresource === 'status' ? 'status' : hasStatusSub(rt) ? 'main' : 'all';
    const keys = listKeysFor(rt);
    const before = old ? leaves(ownedView(old, part), keys) : new Map<string, unknown>();
    const after = leaves(ownedView(next, part), keys);
    const entries = readManaged(old);
    const changed = [...after].filter(([p, v]) => !before.has(p) || !deepEqual(before.get(p), v)).map(([p]) => p);
    const removed = [...before.keys()].filter((p) => !after.has(p));
    if (changed.length === 0 && removed.length === 0) return writeManaged(entries);
    for (const e of entries) for (const p of removed) e.paths.delete(p);
    let mine = entries.find((e) => sameEntry(e, manager, 'Update', subresource));
    if (changed.length > 0) {
      if (!mine) {
        mine = { manager, operation: 'Update', apiVersion: apiVersionOf(rt), time: '', paths: new Set() };
        if (subresource) mine.subresource = subresource;
        entries.push(mine);
      }
      for (const p of changed) {
        for (const e of entries) {
          if (e === mine) continue;
          for (const q of [...e.paths]) if (overlaps(p, q)) e.paths.delete(q);
        }
        mine.paths.add(p);
      }
      mine.time = nowTimestamp();
      mine.apiVersion = apiVersionOf(rt);
    }
    return writeManaged(entries);
  }

  /** Creates an object; `managed` replaces the usual Update ownership entry (apply creates). */
  create(rt: ResourceType, ns: string, body: unknown, ctx: RequestCtx, managed?: ManagedEntry[]): Obj {
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    this.checkTypeMeta(rt, body);
    const obj = clone(body);
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
    const md: Obj = isObj(obj.metadata) ? obj.metadata : (obj.metadata = {});
    if (rt.namespaced) {
      if (md.namespace && md.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = ns;
    } else delete md.namespace;
    if (!md.name && typeof md.generateName === 'string' && md.generateName) md.name = generateName(md.generateName);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields']) delete md[k];
    md.uid = randomUUID();
    md.creationTimestamp = nowTimestamp();
    if (hasGeneration(rt)) md.generation = 1;
    // Status is written through /status only; creation starts without one (defaults may add
    // it). Nodes are the exception: the kubelet registers its node with its status.
    if (hasStatusSub(rt) && rt.storageKey !== '/nodes') delete obj.status;
    const name = String(md.name ?? '');
    if (rt.namespaced && !ctx.actor.startsWith('system:')) checkNamespace(this.store, rt, ns, name);
    decodeBuiltin(rt, obj);
    applyDefaults(rt, obj, undefined, this.alloc);
    encodeBuiltin(rt, obj);
    const causes = validateObject(rt, obj, undefined);
    this.validateCustomResource(rt, obj, ctx, causes, !managed);
    if (causes.length) throw invalid(rt, name, causes);
    if (rt.storageKey === '/pods') checkServiceAccount(this.store, rt, obj);
    this.checkCrdTerminating(rt);
    this.admit(rt, 'CREATE', obj, undefined, ctx);
    if (this.store.get(rt.storageKey, md.namespace ?? '', name)) throw alreadyExists(rt, name);
    md.managedFields = managed ? writeManaged(managed) : this.trackUpdate(rt, undefined, obj, ctx.manager);
    if (ctx.dryRun) {
      delete md.resourceVersion;
      return present(rt, obj);
    }
    const stored = this.store.put(rt.storageKey, obj);
    if (rt.storageKey === '/namespaces') this.ensureDefaultServiceAccount(name);
    if (Array.isArray(md.ownerReferences) && md.ownerReferences.length) this.scheduleSweep();
    return present(rt, stored);
  }

  /** The serviceaccount controller gives every namespace its `default` ServiceAccount right away. */
  private ensureDefaultServiceAccount(ns: string): void {
    if (this.store.get('/serviceaccounts', ns, 'default')) return;
    this.store.put('/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: ns, uid: randomUUID(), creationTimestamp: nowTimestamp() },
    });
  }

  /** Custom resources of a CRD that is being deleted cannot be created (the real handler answers 405). */
  private checkCrdTerminating(rt: ResourceType): void {
    if (!rt.crd) return;
    const crd = this.store.get('apiextensions.k8s.io/customresourcedefinitions', '', String(rt.crd.metadata?.name));
    if (crd?.metadata?.deletionTimestamp) throw methodNotAllowed('create not allowed while custom resource definition is terminating');
  }

  update(rt: ResourceType, ns: string, name: string, body: unknown, ctx: RequestCtx, subresource?: string): Obj {
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    this.checkTypeMeta(rt, body);
    const old = this.store.get(rt.storageKey, rt.namespaced ? ns : '', name);
    if (!old) throw notFound(rt, name);
    const md: Obj = isObj(body.metadata) ? body.metadata : {};
    if (md.name !== undefined && md.name !== name) throw badRequest(`the name of the object (${String(md.name)}) does not match the name on the URL (${name})`);
    if (rt.namespaced && md.namespace && md.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (md.resourceVersion) {
      if (String(md.resourceVersion) !== old.metadata.resourceVersion) throw conflict(rt, name, STALE);
    } else if (rt.crd) {
      // Custom resources do not allow unconditional updates.
      throw invalid(rt, name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    return this.commitUpdate(rt, old, clone(body), ctx, subresource, undefined);
  }

  patch(rt: ResourceType, ns: string, name: string, contentType: string, raw: string, ctx: RequestCtx, subresource?: string): Obj {
    const type = contentType.split(';')[0].trim().toLowerCase();
    const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
    if (!rt.crd) accepted.splice(2, 0, 'application/strategic-merge-patch+json');
    if (!accepted.includes(type)) throw unsupportedMediaType(type, accepted);
    const old = this.store.get(rt.storageKey, rt.namespaced ? ns : '', name);
    if (!old) throw notFound(rt, name);
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    let next: unknown;
    if (type === 'application/merge-patch+json') next = mergePatch(old, patch);
    else if (type === 'application/strategic-merge-patch+json') next = strategicMerge(old, patch);
    else next = jsonPatch(old, patch);
    if (!isObj(next)) throw badRequest('the patch did not produce an object');
    const rv = next.metadata?.resourceVersion;
    if (rv !== undefined && String(rv) !== old.metadata.resourceVersion) throw conflict(rt, name, STALE);
    if (next.metadata?.name !== name) throw invalid(rt, name, [{ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(next.metadata?.name)}: field is immutable` }]);
    return this.commitUpdate(rt, old, next, ctx, subresource, undefined);
  }

  /**
   * Stores `candidate` as the new state of `old`. `managed` is set by apply (which tracks
   * ownership itself); otherwise ownership follows what changed.
   */
  commitUpdate(rt: ResourceType, old: Obj, candidate: Obj, ctx: RequestCtx, subresource: string | undefined, managed: Obj[] | undefined): Obj {
    const name = String(old.metadata.name);
    if (subresource && !rt.subresources.includes(subresource)) throw notFound(rt, name);
    candidate.apiVersion = apiVersionOf(rt);
    candidate.kind = rt.kind;
    const cmd: Obj = isObj(candidate.metadata) ? candidate.metadata : (candidate.metadata = {});
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'resourceVersion', 'generation']) {
      if (old.metadata[k] === undefined) delete cmd[k];
      else cmd[k] = old.metadata[k];
    }
    if (old.metadata.generateName === undefined) delete cmd.generateName;
    else cmd.generateName = old.metadata.generateName;
    delete cmd.selfLink;

    let next: Obj;
    if (subresource === 'status' || subresource === 'finalize') {
      // Status writes change nothing but the status (and finalize nothing but spec.finalizers).
      next = clone(old);
      if (subresource === 'status') {
        if (candidate.status === undefined) delete next.status;
        else next.status = candidate.status;
      } else {
        next.spec = { ...(next.spec ?? {}), finalizers: Array.isArray(candidate.spec?.finalizers) ? candidate.spec.finalizers : [] };
      }
    } else {
      next = candidate;
      if (hasStatusSub(rt)) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
      if (rt.storageKey === '/namespaces') next.spec = { ...(next.spec ?? {}), finalizers: old.spec?.finalizers ?? [] };
    }
    next.metadata.managedFields = old.metadata.managedFields;
    if (next.metadata.managedFields === undefined) delete next.metadata.managedFields;

    decodeBuiltin(rt, next);
    applyDefaults(rt, next, old, this.alloc);
    encodeBuiltin(rt, next);
    if (old.metadata.deletionTimestamp) {
      const added = finalizersOf(next).filter((f) => !finalizersOf(old).includes(f));
      if (added.length) {
        throw invalid(rt, name, [{ field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`, reason: 'FieldValueForbidden' }]);
      }
    }
    const causes = validateObject(rt, next, old);
    this.validateCustomResource(rt, next, ctx, causes, managed === undefined);
    if (causes.length) throw invalid(rt, name, causes);

    if (hasGeneration(rt) && !deepEqual(specPart(rt, old), specPart(rt, next))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    next.metadata.managedFields = managed ?? this.trackUpdate(rt, old, next, ctx.manager, subresource);
    if (!next.metadata.managedFields?.length) delete next.metadata.managedFields;

    this.admit(rt, 'UPDATE', next, old, ctx, subresource);
    // A write that changes nothing is no write: same resourceVersion, no event.
    if (deepEqual(old, next)) return present(rt, old);
    if (ctx.dryRun) return present(rt, next);
    if (releasable(rt, next)) {
      this.store.remove(rt.storageKey, next);
      this.scheduleSweep();
      // As the real server: the object as this write left it, at the resourceVersion it had.
      return present(rt, { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } });
    }
    const stored = this.store.put(rt.storageKey, next);
    if (next.metadata.deletionTimestamp || (next.metadata.ownerReferences ?? []).length || rt.storageKey === '/namespaces') this.scheduleSweep();
    return present(rt, stored);
  }

  /** Internal write used by the lifecycle sweep: remove a finalizer (or ownerReference) and store. */
  internalUpdate(rt: ResourceType, obj: Obj, mutate: (o: Obj) => void, manager: string): void {
    const live = this.store.get(rt.storageKey, obj.metadata.namespace ?? '', obj.metadata.name);
    if (!live || live.metadata.uid !== obj.metadata.uid) return;
    const next = clone(live);
    mutate(next);
    if (deepEqual(next, live)) return;
    if (releasable(rt, next)) {
      this.store.remove(rt.storageKey, next);
      return;
    }
    next.metadata.managedFields = this.trackUpdate(rt, live, next, manager);
    if (!next.metadata.managedFields.length) delete next.metadata.managedFields;
    this.store.put(rt.storageKey, next);
  }

  /** A resource type able to name objects of a storage key, even when its CRD is no longer served. */
  typeFor(storageKey: string): ResourceType | undefined {
    return this.registry.byStorageKey(storageKey);
  }
}
