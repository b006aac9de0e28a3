// Server-side apply (PATCH with application/apply-patch+yaml). The applied configuration is
// the set of fields the manager wants to own: fields that differ from the live object and are
// owned by another manager are conflicts (409) unless `force`; fields the manager applied
// before and no longer applies are removed when nobody else owns them; the configuration is
// merged into the live object. An apply that changes nothing stores nothing: same
// resourceVersion, same generation, no watch event.
import { parse as parseYaml } from 'yaml';
import {
  type ManagedEntry,
  type PathKey,
  displayPath,
  leaves,
  listKeysFor,
  mergeApplied,
  overlaps,
  ownedView,
  readManaged,
  removeAt,
  sameEntry,
  valueAt,
  writeManaged,
} from './fields.ts';
import { hasStatusSub } from './meta.ts';
import type { Api } from './objects.ts';
import { ApiError, badRequest, conflict, notFound, STALE, unclassified } from './status.ts';
import { encodeBuiltin } from './typed.ts';
import { type Obj, type RequestCtx, type ResourceType, apiVersionOf, clone, deepEqual, isObj, nowTimestamp } from './types.ts';
import { unknownBuiltinFields, validateCustom } from './validation.ts';

export interface ApplyResult {
  created: boolean;
  object: Obj;
}

function parseConfig(raw: string): Obj {
  let config: unknown;
  try {
    // Clients mostly send JSON (a subset of YAML); the YAML parser is slow on big CRDs.
    config = JSON.parse(raw);
  } catch {
    try {
      config = parseYaml(raw);
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  if (!isObj(config)) throw badRequest('error decoding YAML: the apply configuration must be an object');
  return config;
}

function conflictError(rt: ResourceType, name: string, found: Map<ManagedEntry, PathKey[]>): ApiError {
  let total = 0;
  const blocks: string[] = [];
  const causes: Obj[] = [];
  for (const [e, paths] of found) {
    total += paths.length;
    const who = e.operation === 'Update' ? `"${e.manager}" using ${e.apiVersion}` : `"${e.manager}"`;
    const shown = paths.map(displayPath);
    blocks.push(shown.length === 1 ? `conflict with ${who}: ${shown[0]}` : `conflicts with ${who}:\n${shown.map((p) => `- ${p}`).join('\n')}`);
    for (const p of shown) causes.push({ reason: 'FieldManagerConflict', message: `conflict with ${who}`, field: p });
  }
  const err = conflict(rt, name, '');
  const details = { ...(err.details ?? {}), causes };
  return new ApiError(409, 'Conflict', `Apply failed with ${total} conflict${total === 1 ? '' : 's'}: ${blocks.join('\n')}`, details);
}

export function applyPatch(api: Api, rt: ResourceType, ns: string, name: string, raw: string, ctx: RequestCtx, explicitManager: boolean, force: boolean, subresource?: string): ApplyResult {
  if (!explicitManager) {
    const message = 'Required value: is required for apply patch';
    throw new ApiError(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: fieldManager: ${message}`, {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message, field: 'fieldManager' }],
    });
  }
  const config = parseConfig(raw);
  if (config.apiVersion !== apiVersionOf(rt)) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(config.apiVersion ?? '')}, expected: ${apiVersionOf(rt)}`);
  }
  if (config.kind !== rt.kind) throw badRequest(`Incorrect kind specified in apply patch. Specified patch kind: ${String(config.kind ?? '')}, expected: ${rt.kind}`);
  const md: Obj = isObj(config.metadata) ? config.metadata : (config.metadata = {});
  if (md.name !== undefined && md.name !== name) throw badRequest(`the name of the object (${String(md.name)}) does not match the name on the URL (${name})`);
  md.name = name;
  if (rt.namespaced && md.namespace !== undefined && md.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  // The real server fails converting the configuration to its typed form, an error it does
  // not classify: HTTP 500 without a reason (kubernetes/kubernetes#139253). For built-in kinds
  // the fake knows the fields of their Go types (typed.ts).
  const unknown = rt.crd ? validateCustom(rt, config).unknown : unknownBuiltinFields(rt, config);
  if (unknown.length) {
    throw unclassified(`failed to create typed patch object (${rt.namespaced ? ns : ''}/${name}; ${rt.group}/${rt.version}, Kind=${rt.kind}): ${unknown.join('\n')}`);
  }

  const part = subresource === 'status' ? 'status' : hasStatusSub(rt) ? 'main' : 'all';
  const keys = listKeysFor(rt);
  // What apply merges and owns: user metadata plus the fields of `part` (never the other part).
  const applied = ownedView(config, part);
  const wanted = leaves(applied, keys);
  const live = api.store.get(rt.storageKey, rt.namespaced ? ns : '', name);
  const entryFor = (paths: Iterable<PathKey>): ManagedEntry => {
    const e: ManagedEntry = { manager: ctx.manager, operation: 'Apply', apiVersion: apiVersionOf(rt), time: nowTimestamp(), paths: new Set(paths) };
    if (subresource) e.subresource = subresource;
    return e;
  };

  if (!live) {
    if (subresource) throw notFound(rt, name);
    const body = clone(config);
    delete body.metadata.resourceVersion;
    return { created: true, object: api.create(rt, ns, body, ctx, [entryFor(wanted.keys())]) };
  }
  if (md.resourceVersion !== undefined && String(md.resourceVersion) !== live.metadata.resourceVersion) throw conflict(rt, name, STALE);

  const entries = readManaged(live);
  const liveView = ownedView(live, part);
  const found = new Map<ManagedEntry, PathKey[]>();
  for (const [p, v] of wanted) {
    if (deepEqual(valueAt(liveView, p), v)) continue;
    for (const e of entries) {
      // The applier's own Update entry (its merge patches) is another manager to the server.
      if (e.manager === ctx.manager && e.operation === 'Apply') continue;
      if ([...e.paths].some((q) => overlaps(p, q))) found.set(e, [...(found.get(e) ?? []), p]);
    }
  }
  if (found.size && !force) throw conflictError(rt, name, found);
  for (const [e, paths] of found) for (const p of paths) for (const q of [...e.paths]) if (overlaps(p, q)) e.paths.delete(q);

  let mine = entries.find((e) => sameEntry(e, ctx.manager, 'Apply', subresource));
  const next = clone(live);
  const wantedKeys = [...wanted.keys()];
  const stillWanted = (prefix: string[]): boolean => {
    const head = JSON.stringify(prefix).slice(0, -1);
    const under = (p: PathKey): boolean => p === JSON.stringify(prefix) || p.startsWith(`${head},`);
    return wantedKeys.some(under) || entries.some((e) => e !== mine && [...e.paths].some(under));
  };
  for (const q of mine ? [...mine.paths] : []) {
    if (wanted.has(q)) continue;
    if (entries.some((e) => e !== mine && [...e.paths].some((r) => overlaps(q, r)))) continue;
    removeAt(next, q, stillWanted);
  }
  const merged = mergeApplied(next, applied, keys) as Obj;
  // What the server will store of it: an applied zero value its Go type leaves out changes nothing.
  encodeBuiltin(rt, merged);
  // apiVersion, kind and the identity come from the live object, never from the configuration.
  merged.apiVersion = live.apiVersion;
  merged.kind = live.kind;

  const sameFields = mine !== undefined && mine.paths.size === wanted.size && wantedKeys.every((p) => mine!.paths.has(p));
  if (!mine) {
    mine = entryFor([]);
    entries.push(mine);
  }
  mine.paths = new Set(wantedKeys);
  mine.apiVersion = apiVersionOf(rt);
  const changed = !deepEqual(ownedView(live, part), ownedView(merged, part));
  if (changed || !sameFields || found.size) mine.time = nowTimestamp();
  merged.metadata.managedFields = writeManaged(entries);
  if (!merged.metadata.managedFields.length) delete merged.metadata.managedFields;
  return { created: false, object: api.commitUpdate(rt, live, merged, ctx, subresource, merged.metadata.managedFields ?? []) };
}
