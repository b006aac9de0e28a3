// Field ownership for managedFields and server-side apply. An object is seen as a set of leaf
// paths; a path is a list of tokens: `f:<field>` for a map key, `k:<json>` for the element of
// a keyed list (containers by name, ...). Other lists are atomic: the whole list is one leaf.
// Paths are stored in managedFields as the real FieldsV1 tree ({"f:spec":{"f:replicas":{}}}).
import { builtinListKey } from './patch.ts';
import { crdSchema } from './resources.ts';
import { type Obj, type ResourceType, deepEqual, isObj } from './types.ts';

export type Token = string;
export type PathKey = string;
export type Leaves = Map<PathKey, unknown>;

/** Decides which lists are keyed: returns the key fields, or undefined for an atomic list. */
export type ListKeys = (fieldPath: readonly string[], items: readonly unknown[]) => string[] | undefined;

function schemaChild(s: Obj | undefined, name: string): Obj | undefined {
  if (!s) return undefined;
  if (name === '*') return isObj(s.items) ? s.items : undefined;
  if (isObj(s.properties) && isObj(s.properties[name])) return s.properties[name];
  if (isObj(s.additionalProperties)) return s.additionalProperties;
  return undefined;
}

/** List keys for a resource: the CRD's x-kubernetes-list-map-keys, or the built-in merge keys. */
export function listKeysFor(rt: ResourceType): ListKeys {
  const schema = crdSchema(rt);
  if (rt.crd) {
    return (fieldPath) => {
      let s: Obj | undefined = schema;
      for (const name of fieldPath) s = schemaChild(s, name);
      if (s && s['x-kubernetes-list-type'] === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) return s['x-kubernetes-list-map-keys'];
      return undefined;
    };
  }
  return (fieldPath, items) => {
    const field = fieldPath[fieldPath.length - 1] ?? '';
    if (fieldPath.length === 2 && fieldPath[0] === 'metadata' && field !== 'ownerReferences') return undefined;
    const key = builtinListKey(field, items);
    if (!key || !items.every((i) => isObj(i) && i[key] !== undefined)) return undefined;
    // Ports are keyed by number and protocol for apply (listMapKeys), unlike strategic merge.
    return field === 'ports' ? [key, 'protocol'] : [key];
  };
}

/** A key field's value; a port's protocol is TCP when not given, as the server defaults it before keying. */
function keyValue(item: Obj, key: string): unknown {
  return key === 'protocol' ? (item.protocol ?? 'TCP') : item[key];
}

function keyToken(item: Obj, keys: string[]): Token {
  const k: Obj = {};
  for (const key of keys) k[key] = keyValue(item, key);
  return `k:${JSON.stringify(k)}`;
}

function matchesKeyToken(item: unknown, token: Token): boolean {
  if (!isObj(item)) return false;
  const want = JSON.parse(token.slice(2)) as Obj;
  return Object.entries(want).every(([k, v]) => deepEqual(keyValue(item, k), v));
}

/** A metav1.LabelSelector (matchLabels/matchExpressions) is an atomic struct: owned as one field. */
function isLabelSelector(v: Obj): boolean {
  return Object.keys(v).length > 0 && Object.keys(v).every((k) => k === 'matchLabels' || k === 'matchExpressions');
}

/** A Service's `spec.selector`, a plain map of strings, is an atomic map (`+mapType=atomic`). */
function isServiceSelector(fieldPath: string[], v: Obj): boolean {
  return fieldPath.length === 2 && fieldPath[0] === 'spec' && fieldPath[1] === 'selector' && Object.values(v).every((x) => typeof x === 'string');
}

/** The part of an object that field ownership covers: no apiVersion/kind, and only the user-owned metadata. */
export function ownedView(obj: Obj, part: 'main' | 'status' | 'all'): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (part === 'status' || !isObj(v)) continue;
      const md: Obj = {};
      for (const mk of ['labels', 'annotations', 'finalizers', 'ownerReferences']) if (v[mk] !== undefined) md[mk] = v[mk];
      if (Object.keys(md).length) out.metadata = md;
      continue;
    }
    if (part === 'status' && k !== 'status') continue;
    if (part === 'main' && k === 'status') continue;
    out[k] = v;
  }
  return out;
}

/** Every leaf of `value` with its value. Empty maps are leaves (they carry meaning: `resources: {}`). */
export function leaves(value: unknown, keysOf: ListKeys): Leaves {
  const out: Leaves = new Map();
  const walk = (v: unknown, tokens: Token[], fieldPath: string[]): void => {
    if (isObj(v) && Object.keys(v).length > 0 && !(/selector$/i.test(fieldPath[fieldPath.length - 1] ?? '') && isLabelSelector(v)) && !isServiceSelector(fieldPath, v)) {
      for (const [k, child] of Object.entries(v)) walk(child, [...tokens, `f:${k}`], [...fieldPath, k]);
      return;
    }
    if (Array.isArray(v) && v.length > 0) {
      const keys = keysOf(fieldPath, v);
      if (keys) {
        for (const item of v as Obj[]) walk(item, [...tokens, keyToken(item, keys)], [...fieldPath, '*']);
        return;
      }
    }
    if (tokens.length) out.set(JSON.stringify(tokens), v);
  };
  walk(value, [], []);
  return out;
}

export function tokensOf(key: PathKey): Token[] {
  return JSON.parse(key) as Token[];
}

/** ".spec.template.spec.containers[name=\"app\"].image", as conflict messages print paths. */
export function displayPath(key: PathKey): string {
  return tokensOf(key)
    .map((t) => {
      if (t.startsWith('f:')) return `.${t.slice(2)}`;
      const k = JSON.parse(t.slice(2)) as Obj;
      return `[${Object.entries(k).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(',')}]`;
    })
    .join('');
}

/** Walks to the container of the last token; creates nothing. */
function locate(obj: unknown, tokens: Token[]): { parent: unknown; last: Token } | undefined {
  let cur: unknown = obj;
  for (const t of tokens.slice(0, -1)) {
    cur = step(cur, t);
    if (cur === undefined) return undefined;
  }
  return { parent: cur, last: tokens[tokens.length - 1] };
}

function step(cur: unknown, t: Token): unknown {
  if (t.startsWith('f:')) return isObj(cur) ? cur[t.slice(2)] : undefined;
  return Array.isArray(cur) ? cur.find((i) => matchesKeyToken(i, t)) : undefined;
}

export function valueAt(obj: unknown, key: PathKey): unknown {
  let cur: unknown = obj;
  for (const t of tokensOf(key)) {
    cur = step(cur, t);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeChild(parent: unknown, last: Token): void {
  if (last.startsWith('f:') && isObj(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const i = parent.findIndex((x) => matchesKeyToken(x, last));
    if (i >= 0) parent.splice(i, 1);
  }
}

/** An empty map or list, or a keyed list element that holds nothing but its key fields. */
function isEmptyNode(node: unknown, token: Token): boolean {
  if (Array.isArray(node)) return node.length === 0;
  if (!isObj(node)) return false;
  if (token.startsWith('k:')) {
    const keyFields = JSON.parse(token.slice(2)) as Obj;
    return Object.keys(node).every((k) => Object.hasOwn(keyFields, k));
  }
  return Object.keys(node).length === 0;
}

/** Removes the field at `key`, then the parents it leaves empty unless `keep` still wants them. */
export function removeAt(obj: Obj, key: PathKey, keep: (prefix: Token[]) => boolean): void {
  const tokens = tokensOf(key);
  const loc = locate(obj, tokens);
  if (!loc) return;
  removeChild(loc.parent, loc.last);
  for (let n = tokens.length - 1; n > 0; n--) {
    const prefix = tokens.slice(0, n);
    const up = locate(obj, prefix);
    if (!up) return;
    if (!isEmptyNode(step(up.parent, up.last), up.last) || keep(prefix)) return;
    removeChild(up.parent, up.last);
  }
}

/** FieldsV1 tree of a set of leaf paths. */
export function toFieldsV1(paths: Iterable<PathKey>): Obj {
  const root: Obj = {};
  for (const key of paths) {
    let cur = root;
    for (const t of tokensOf(key)) {
      cur[t] ??= {};
      cur = cur[t];
    }
  }
  return root;
}

/** The leaf paths of a FieldsV1 tree (a node with children is not a leaf; `.` marks are skipped). */
export function fromFieldsV1(tree: unknown): Set<PathKey> {
  const out = new Set<PathKey>();
  const walk = (node: unknown, tokens: Token[]): void => {
    const kids = isObj(node) ? Object.keys(node).filter((k) => k !== '.') : [];
    if (kids.length === 0) {
      if (tokens.length) out.add(JSON.stringify(tokens));
      return;
    }
    for (const k of kids) walk((node as Obj)[k], [...tokens, k]);
  };
  walk(tree, []);
  return out;
}

/** True when `a` equals `b` or one is a prefix of the other (the fields overlap). */
export function overlaps(a: PathKey, b: PathKey): boolean {
  if (a === b) return true;
  const short = a.length < b.length ? a : b;
  const long = a.length < b.length ? b : a;
  return long.startsWith(short.slice(0, -1) + ',');
}

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  paths: Set<PathKey>;
}

export function readManaged(obj: Obj | undefined): ManagedEntry[] {
  const raw = obj?.metadata?.managedFields;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((e: unknown) => isObj(e) && typeof e.manager === 'string')
    .map((e: Obj) => {
      const entry: ManagedEntry = {
        manager: e.manager,
        operation: e.operation === 'Apply' ? 'Apply' : 'Update',
        apiVersion: String(e.apiVersion ?? ''),
        time: String(e.time ?? ''),
        paths: fromFieldsV1(e.fieldsV1),
      };
      if (typeof e.subresource === 'string' && e.subresource) entry.subresource = e.subresource;
      return entry;
    });
}

export function writeManaged(entries: ManagedEntry[]): Obj[] {
  return entries
    .filter((e) => e.paths.size > 0)
    .map((e) => {
      const out: Obj = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1([...e.paths].sort()) };
      if (e.subresource) out.subresource = e.subresource;
      return out;
    });
}

export function sameEntry(e: ManagedEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

/** Merges an applied configuration into the live object: maps merge, keyed lists merge by key, the rest replaces. */
export function mergeApplied(live: unknown, config: unknown, keysOf: ListKeys, fieldPath: string[] = []): unknown {
  if (isObj(config)) {
    const out: Obj = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, keysOf, [...fieldPath, k]);
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const keys = keysOf(fieldPath, [...live, ...config]);
    if (keys && config.every(isObj) && live.every(isObj)) {
      const out = [...live] as Obj[];
      for (const item of config as Obj[]) {
        const token = keyToken(item, keys);
        const i = out.findIndex((x) => matchesKeyToken(x, token));
        if (i >= 0) out[i] = mergeApplied(out[i], item, keysOf, [...fieldPath, '*']) as Obj;
        else out.push(mergeApplied(undefined, item, keysOf, [...fieldPath, '*']) as Obj);
      }
      return out;
    }
  }
  return structuredClone(config);
}
