// The three non-apply patch formats: JSON merge patch (RFC 7386), strategic merge patch
// (merge patch plus lists of objects merged by their key and the `$patch` directives, the
// subset clients send) and JSON patch (RFC 6902).
import { ApiError, badRequest } from './status.ts';
import { type Obj, clone, deepEqual, isObj } from './types.ts';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge key of a list field in the built-in types (the patchMergeKey of the Go structs). */
export function builtinListKey(field: string, items: readonly unknown[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
    case 'volumeDevices':
      return field === 'volumeMounts' ? 'mountPath' : 'devicePath';
    case 'ports':
      return items.some((i) => isObj(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'hostAliases':
      return 'ip';
    default:
      return undefined;
  }
}

function strategicList(field: string, target: unknown, patch: unknown[]): unknown[] {
  const live = Array.isArray(target) ? target : [];
  const key = builtinListKey(field, [...live, ...patch]);
  const objects = patch.every(isObj);
  if (!key || !objects) return clone(patch.filter((p) => !(isObj(p) && p.$patch)));
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return clone(patch.filter((p) => !(isObj(p) && p.$patch === 'replace')));
  const out = clone(live) as unknown[];
  for (const p of patch as Obj[]) {
    const idx = out.findIndex((x) => isObj(x) && deepEqual(x[key], p[key]));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p);
    else out.push(strategicMerge({}, p));
  }
  return out;
}

export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const rest = clone(patch);
    delete rest.$patch;
    return rest;
  }
  const out: Obj = isObj(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: unknown) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = strategicList(k, out[k], v);
    else {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw badRequest(`invalid JSON pointer: ${String(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map(unescapePointer);
}

// JSON patch failures are answered 422 with the jsonpatch library's message, as the server does.
function patchFailed(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parentOf(doc: unknown, segs: string[], op: string): { parent: Obj | unknown[]; last: string } {
  let cur: unknown = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObj(cur)) cur = cur[s];
    else cur = undefined;
    if (cur === undefined) throw patchFailed(`${op} operation does not apply: doc is missing path: /${segs.join('/')}: missing value`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw patchFailed(`${op} operation does not apply: doc is missing path: /${segs.join('/')}: missing value`);
  return { parent: cur, last: segs[segs.length - 1] };
}

function getAt(doc: unknown, segs: string[], op: string): unknown {
  let cur: unknown = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
    else if (isObj(cur)) cur = Object.hasOwn(cur, s) ? cur[s] : undefined;
    else cur = undefined;
    if (cur === undefined) throw patchFailed(`${op} operation does not apply: doc is missing path: /${segs.join('/')}: missing value`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], s: string, forInsert: boolean, op: string, segs: string[]): number {
  if (forInsert && s === '-') return arr.length;
  if (!/^\d+$/.test(s)) throw patchFailed(`${op} operation does not apply: doc is missing path: /${segs.join('/')}: invalid index`);
  const i = Number(s);
  if (i > arr.length || (!forInsert && i >= arr.length)) throw patchFailed(`${op} operation does not apply: doc is missing path: /${segs.join('/')}: index out of range`);
  return i;
}

function removeAt(doc: unknown, segs: string[], op: string): unknown {
  if (segs.length === 0) throw patchFailed(`${op} operation does not apply: cannot remove the root`);
  const { parent, last } = parentOf(doc, segs, op);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, op, segs), 1)[0];
  if (!Object.hasOwn(parent, last)) throw patchFailed(`${op} operation does not apply: doc is missing key: /${segs.join('/')}: missing value`);
  const old = parent[last];
  delete parent[last];
  return old;
}

function addAt(doc: unknown, segs: string[], value: unknown, op: string, replace: boolean): unknown {
  if (segs.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, segs, op);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace, op, segs);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else {
    if (replace && !Object.hasOwn(parent, last)) throw patchFailed(`replace operation does not apply: doc is missing key: /${segs.join('/')}: missing value`);
    parent[last] = clone(value);
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('the body of a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== 'string') throw badRequest('invalid JSON patch operation: missing "op"');
    const op = raw.op;
    const segs = parsePointer(raw.path);
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw badRequest('add operation: missing value');
        doc = addAt(doc, segs, raw.value, op, false);
        break;
      case 'replace':
        if (!('value' in raw)) throw badRequest('replace operation: missing value');
        getAt(doc, segs, op);
        doc = addAt(doc, segs, raw.value, op, true);
        break;
      case 'remove':
        removeAt(doc, segs, op);
        break;
      case 'move': {
        const from = parsePointer(raw.from);
        const v = removeAt(doc, from, op);
        doc = addAt(doc, segs, v, op, false);
        break;
      }
      case 'copy': {
        const v = getAt(doc, parsePointer(raw.from), op);
        doc = addAt(doc, segs, v, op, false);
        break;
      }
      case 'test': {
        const v = getAt(doc, segs, op);
        if (!deepEqual(v, raw.value)) throw patchFailed(`testing value /${segs.join('/')} failed: test failed`);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}
