// kube-apiserver decodes a built-in object into its Go struct and writes it back from there, so
// what it stores and returns is what encoding/json makes of that struct, not what the client
// sent: a field tagged `omitempty` whose value is the zero value ("", false, 0, an empty list
// or map) is left out; a pointer keeps its zero (`replicas: 0` stays); a struct field is always
// written, `{}` when the client sent none; a field without `omitempty` is written with its zero
// value; a field the struct does not have is unknown. The fake does the same from a table of the
// Go types of k8s.io/api at the pinned Kubernetes version (test/fixtures/omitempty/types.json,
// made by generate.ts there). Custom resources keep what the client sent (after pruning).
import { readFileSync } from 'node:fs';
import { type Obj, type ResourceType, apiVersionOf, isObj } from './types.ts';

/** [JSON name, flags ("o" omitempty, "z" omitzero, "p" pointer), type]. */
type Field = [string, string, string];

interface Table {
  kubernetesVersion: string;
  kinds: Record<string, string>;
  types: Record<string, Field[] | null>;
}

export const typeTable: Table = JSON.parse(readFileSync(new URL('../../fixtures/omitempty/types.json', import.meta.url), 'utf8'));

const structs = new Map<string, Map<string, Field>>();
function structOf(name: string): Map<string, Field> | undefined {
  let s = structs.get(name);
  if (!s && name in typeTable.types) {
    s = new Map((typeTable.types[name] ?? []).map((f) => [f[0], f]));
    structs.set(name, s);
  }
  return s;
}

/** The Go type of a built-in kind, or undefined (custom resources, kinds the table lacks). */
export function goTypeOf(rt: ResourceType): string | undefined {
  return rt.crd ? undefined : typeTable.kinds[`${apiVersionOf(rt)}/${rt.kind}`];
}

const PRIMITIVE_ZERO: Record<string, unknown> = { string: '', bool: false, int: 0, float: 0 };

function isZero(type: string, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (type.startsWith('[]')) return Array.isArray(v) && v.length === 0;
  if (type.startsWith('{}')) return isObj(v) && Object.keys(v).length === 0;
  if (type in PRIMITIVE_ZERO) return v === PRIMITIVE_ZERO[type];
  return false;
}

/** An `omitzero` struct is zero when every field is (metav1.Time, written as null or a string, when it is null or ""). */
function isZeroStruct(type: string, v: unknown): boolean {
  if (type === 'any') return v === null || v === '';
  if (!structOf(type)) return isZero(type, v);
  return isObj(v) && Object.entries(v).every(([k, x]) => {
    const f = structOf(type)?.get(k);
    return f !== undefined && (f[1].includes('p') ? x === null : isZeroStruct(f[2], x));
  });
}

/**
 * Rewrites `value` of Go type `type` in place as encoding/json would write it after decoding.
 * `fill`: also write the fields the client left out that Go writes anyway (struct fields,
 * fields without omitempty); off when decoding for defaults, which must still see them unset.
 */
function normalize(value: unknown, type: string, fill: boolean): unknown {
  if (type.startsWith('[]')) {
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = normalize(value[i], type.slice(2), fill);
    return value;
  }
  if (type.startsWith('{}')) {
    if (isObj(value)) for (const k of Object.keys(value)) value[k] = normalize(value[k], type.slice(2), fill);
    return value;
  }
  const struct = structOf(type);
  if (!struct || !isObj(value)) return value;
  for (const [name, flags, ftype] of struct.values()) {
    const pointer = flags.includes('p');
    if (!(name in value)) {
      if (!fill || pointer || ftype === 'any' || ftype.startsWith('[]') || ftype.startsWith('{}')) continue;
      if (structOf(ftype)) value[name] = normalize({}, ftype, fill);
      else if (!flags.includes('o') && ftype in PRIMITIVE_ZERO) value[name] = PRIMITIVE_ZERO[ftype];
      continue;
    }
    const v = value[name];
    if (v === null) {
      // null decodes to the zero value (a nil pointer, list or map): omitempty leaves it out.
      if (flags.includes('o') || flags.includes('z')) delete value[name];
      continue;
    }
    value[name] = normalize(v, ftype, fill);
    if (flags.includes('z') && !pointer && isZeroStruct(ftype, value[name])) delete value[name];
    else if (flags.includes('o') && !pointer && isZero(ftype, value[name])) delete value[name];
  }
  return value;
}

/** As kube-apiserver decodes a built-in object: zero values under omitempty are as good as unset. */
export function decodeBuiltin(rt: ResourceType, obj: Obj): void {
  const type = goTypeOf(rt);
  if (type) normalize(obj, type, false);
}

/** As kube-apiserver writes a built-in object back: see the header. */
export function encodeBuiltin(rt: ResourceType, obj: Obj): void {
  const type = goTypeOf(rt);
  if (type) normalize(obj, type, true);
}

/** Fields of a built-in object its Go type does not have, as `.spec.x[0].y: field not declared in schema`. */
export function unknownTypedFields(rt: ResourceType, obj: Obj): string[] {
  const type = goTypeOf(rt);
  if (!type) return [];
  const out: string[] = [];
  const walk = (v: unknown, t: string, at: string): void => {
    if (t.startsWith('[]')) {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, t.slice(2), `${at}[${i}]`));
      return;
    }
    if (t.startsWith('{}')) {
      if (isObj(v)) for (const [k, x] of Object.entries(v)) walk(x, t.slice(2), `${at}.${k}`);
      return;
    }
    const struct = structOf(t);
    if (!struct || !isObj(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const f = struct.get(k);
      if (!f) out.push(`${at}.${k}: field not declared in schema`);
      else walk(x, f[2], `${at}.${k}`);
    }
  };
  walk(obj, type, '');
  return out;
}
