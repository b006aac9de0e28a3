// Validates custom resources against a CRD's openAPIV3Schema the way the API server does
// with strict field validation: a field the schema does not declare is an error
// (`.spec.foo: field not declared in schema`) unless an enclosing schema sets
// `x-kubernetes-preserve-unknown-fields: true`. Used by the simulated API server and by
// the unit tests that check our manifests against the real upstream CRDs.
//
// The structural schema is translated into a JSON schema that ajv can compile: objects with
// declared properties (or declared as `type: object` with nothing else) are closed with
// `additionalProperties: false`, int-or-string becomes a two-type union, and OpenAPI's
// boolean `exclusiveMinimum`/`exclusiveMaximum` become draft-07 numbers.
// Not checked (the server does, we do not need them): CEL rules (x-kubernetes-validations),
// `format`, uniqueness of keys in `x-kubernetes-list-type: map` lists.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { SandboxError } from '../../../scripts/lib/errors.ts';

type Schema = Record<string, unknown>;
export type CrdValidator = (obj: object) => string[];

interface CrdVersion {
  name: string;
  served?: boolean;
  schema?: { openAPIV3Schema?: Schema };
}

interface CrdShape {
  metadata?: { name?: string };
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

// Keywords that carry over unchanged: value validations shared by OpenAPI v3 and draft-07.
const COPIED = [
  'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems',
  'minProperties', 'maxProperties', 'multipleOf', 'uniqueItems',
] as const;

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ANY_STRING: Schema = { type: ['string', 'null'] };
const ANY_OBJECT: Schema = { type: ['object', 'null'] };

/**
 * Translates one node. `structural` is false inside anyOf/oneOf/allOf/not, whose branches
 * only add value validations in a structural schema and so must not close objects.
 */
function translate(s: Schema, structural: boolean): Schema {
  const out: Schema = {};
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  // The server prunes null values of non-nullable fields instead of rejecting them, so
  // null is accepted everywhere (a required field set to null is the one case this misses).
  if (intOrString) out.type = ['integer', 'string', 'null'];
  else if (typeof s.type === 'string') out.type = [s.type, 'null'];
  if (Array.isArray(s.enum)) out.enum = [...s.enum, null];
  for (const key of COPIED) if (s[key] !== undefined) out[key] = s[key];
  if (s.exclusiveMinimum === true && typeof s.minimum === 'number') {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && typeof s.maximum === 'number') {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  if (s['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (isObject(s.items)) out.items = translate(s.items, structural);

  const props = isObject(s.properties) ? s.properties : undefined;
  if (props) {
    const translated: Schema = {};
    for (const [name, sub] of Object.entries(props)) translated[name] = isObject(sub) ? translate(sub, structural) : {};
    out.properties = translated;
  }
  if (Array.isArray(s.required)) {
    // Defaulting runs before validation: a required field with a default is never missing.
    out.required = s.required.filter((name) => !(props && isObject(props[name]) && 'default' in props[name]));
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    // int-or-string carries `anyOf: [{type: integer}, {type: string}]`, already expressed by `type`.
    if (Array.isArray(s[key]) && !(intOrString && key === 'anyOf')) {
      out[key] = (s[key] as unknown[]).map((b) => (isObject(b) ? translate(b, false) : {}));
    }
  }
  if (isObject(s.not)) out.not = translate(s.not, false);
  if (structural) closeObject(s, out);
  return out;
}

/** Decides which undeclared fields an object node accepts. */
function closeObject(s: Schema, out: Schema): void {
  if (s['x-kubernetes-embedded-resource'] === true) {
    // Embedded objects always get apiVersion/kind/metadata, declared or not.
    const props = (out.properties ?? {}) as Schema;
    props.apiVersion ??= ANY_STRING;
    props.kind ??= ANY_STRING;
    props.metadata ??= ANY_OBJECT;
    out.properties = props;
  }
  if (isObject(s.additionalProperties)) {
    out.additionalProperties = translate(s.additionalProperties, true);
  } else if (typeof s.additionalProperties === 'boolean') {
    out.additionalProperties = s.additionalProperties;
  } else if (s['x-kubernetes-preserve-unknown-fields'] !== true && (s.type === 'object' || out.properties !== undefined)) {
    out.additionalProperties = false;
  }
}

/** The root schema: apiVersion, kind and metadata belong to the server, not to the CRD author. */
function rootSchema(openApi: Schema): Schema {
  const out = translate(openApi, true);
  const props = (out.properties ?? {}) as Schema;
  props.apiVersion = ANY_STRING;
  props.kind = ANY_STRING;
  props.metadata = ANY_OBJECT;
  out.properties = props;
  return out;
}

/** `/spec/containers/0/name` -> `.spec.containers[0].name`, using the data to tell arrays from maps. */
function dottedPath(pointer: string, data: unknown): string {
  if (pointer === '') return '';
  let cur: unknown = data;
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += `.${seg}`;
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describe(err: ErrorObject, data: unknown): string {
  const path = dottedPath(err.instancePath, data);
  const at = path || '<root>';
  const value = show(err.data);
  switch (err.keyword) {
    case 'additionalProperties':
      return `${path}.${String(err.params.additionalProperty)}: field not declared in schema`;
    case 'required':
      return `${path}.${String(err.params.missingProperty)}: Required value`;
    case 'type': {
      const types = String(err.params.type).split(',').filter((t) => t !== 'null');
      return `${at}: Invalid value: ${value}: must be of type ${types.join(' or ')}`;
    }
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[]).filter((v) => v !== null).map(show);
      return `${at}: Unsupported value: ${value}: supported values: ${allowed.join(', ')}`;
    }
    case 'pattern':
      return `${at}: Invalid value: ${value}: should match '${String(err.params.pattern)}'`;
    case 'uniqueItems':
      return `${at}[${String(err.params.i)}]: Duplicate value: ${show((err.data as unknown[])[err.params.i as number])}`;
    default:
      return `${at}: Invalid value: ${value}: ${err.message ?? err.keyword}`;
  }
}

/** Errors inside a failed anyOf/oneOf/not branch only explain the junctor's own error. */
function isBranchDetail(err: ErrorObject): boolean {
  return /\/(anyOf|oneOf|not)\//.test(err.schemaPath);
}

function crdShape(crd: object): CrdShape {
  const c = crd as Partial<CrdShape>;
  if (!c.spec || typeof c.spec.group !== 'string' || !c.spec.names?.kind || !Array.isArray(c.spec.versions)) {
    throw new SandboxError('not a CustomResourceDefinition: spec.group, spec.names.kind or spec.versions missing', {
      hint: 'pass an apiextensions.k8s.io/v1 CustomResourceDefinition object',
    });
  }
  return c as CrdShape;
}

/**
 * The part of a translated schema that `data` can meet: the properties it has (in the schema's
 * order, so ajv reports in the same order), one `items` entry per element, the branches of
 * anyOf/oneOf/allOf/not against the same data. What the data does not have cannot fail, so the
 * result gives the same errors as the whole schema. A schema for additional properties is kept
 * whole when the data has such properties (it is usually small: labels, quantities) and dropped
 * when it has none; `additionalProperties: false` is kept as it is.
 */
function forData(s: Schema, data: unknown): Schema {
  const { properties, items, additionalProperties, anyOf, oneOf, allOf, not, ...out } = s;
  if (isObject(data)) {
    const props = isObject(properties) ? properties : {};
    if (isObject(properties)) {
      const kept: Schema = {};
      for (const [name, sub] of Object.entries(properties)) if (Object.hasOwn(data, name)) kept[name] = forData(sub as Schema, data[name]);
      out.properties = kept;
    }
    if (typeof additionalProperties === 'boolean') out.additionalProperties = additionalProperties;
    else if (isObject(additionalProperties) && Object.keys(data).some((k) => !Object.hasOwn(props, k))) out.additionalProperties = additionalProperties;
  } else if (Array.isArray(data) && isObject(items)) {
    // One schema for every element (ajv picks its duplicate check by the items' type): the union of theirs.
    out.items = data.length ? data.map((el) => forData(items, el)).reduce((a, b) => union(items, a, b)) : forData(items, undefined);
  }
  for (const [key, branches] of [['anyOf', anyOf], ['oneOf', oneOf], ['allOf', allOf]] as const) {
    if (Array.isArray(branches)) out[key] = branches.map((b: Schema) => forData(b, data));
  }
  if (isObject(not)) out.not = forData(not, data);
  return out;
}

/**
 * Two parts of schema `s` (forData of it for two values) as one: what either keeps, properties
 * in the schema's order.
 */
function union(s: Schema, a: Schema, b: Schema): Schema {
  const out: Schema = { ...a, ...b };
  if (isObject(s.properties) && isObject(a.properties) && isObject(b.properties)) {
    const [pa, pb] = [a.properties, b.properties];
    const props: Schema = {};
    for (const [name, sub] of Object.entries(s.properties)) {
      if (isObject(pa[name]) && isObject(pb[name])) props[name] = union(sub as Schema, pa[name], pb[name]);
      else if (pa[name] !== undefined || pb[name] !== undefined) props[name] = pa[name] ?? pb[name];
    }
    out.properties = props;
  }
  if (isObject(s.items) && isObject(a.items) && isObject(b.items)) out.items = union(s.items, a.items, b.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const [x, y, z] = [s[key], a[key], b[key]];
    if (Array.isArray(x) && Array.isArray(y) && Array.isArray(z)) out[key] = x.map((branch: Schema, i: number) => union(branch, y[i] as Schema, z[i] as Schema));
  }
  if (isObject(s.not) && isObject(a.not) && isObject(b.not)) out.not = union(s.not, a.not, b.not);
  return out;
}

// optimize:false halves compile time; validation stays fast.
const newAjv = (): Ajv => new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: false, code: { optimize: false } });
let ajv = newAjv();
/** Validators by the text of their (data-shaped) schema, shared by every CRD and simulation of the process. */
const compiledByShape = new Map<string, ValidateFunction>();

function compiledFor(schema: Schema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiledByShape.get(key);
  if (!validate) {
    // Bounded: objects change shape as controllers write them; old shapes are compiled again when met.
    if (compiledByShape.size >= 2000) {
      compiledByShape.clear();
      ajv = newAjv();
    }
    validate = ajv.compile(schema);
    compiledByShape.set(key, validate);
  }
  return validate;
}

/**
 * Compiles a validator for every served version of a CRD. Compiling a whole schema of the
 * logging operator's CRDs took ajv seconds (most of a cold `up`'s simulation), and an object
 * meets a small part of it: each object is checked against the part of the schema its data
 * reaches (forData), compiled once per shape of data. `wholeSchema` compiles the whole schema
 * instead, as before (the reference the tests compare with).
 */
export function compileCrdValidator(crd: object, opts: { wholeSchema?: boolean } = {}): CrdValidator {
  const { spec, metadata } = crdShape(crd);
  const crdName = metadata?.name ?? `${spec.names.kind}.${spec.group}`;
  const translated = new Map<string, Schema>();
  const whole = new Map<string, ValidateFunction>();

  return (obj: object): string[] => {
    const o = obj as { apiVersion?: unknown; kind?: unknown };
    if (o.kind !== spec.names.kind) {
      return [`.kind: Invalid value: ${show(o.kind)}: CRD ${crdName} serves kind ${spec.names.kind}`];
    }
    const [group, version] = typeof o.apiVersion === 'string' ? o.apiVersion.split('/') : [];
    const entry = spec.versions.find((v) => v.name === version);
    if (group !== spec.group || !entry || entry.served === false) {
      const served = spec.versions.filter((v) => v.served !== false).map((v) => `${spec.group}/${v.name}`);
      return [`.apiVersion: Invalid value: ${show(o.apiVersion)}: CRD ${crdName} serves ${served.join(', ')}`];
    }
    let root = translated.get(entry.name);
    if (!root) {
      const openApi = entry.schema?.openAPIV3Schema;
      // A version without a schema is not structural; the server would refuse the CRD itself.
      root = openApi ? rootSchema(openApi) : {};
      translated.set(entry.name, root);
    }
    let validate: ValidateFunction;
    if (opts.wholeSchema) {
      const compiled = whole.get(entry.name) ?? newAjv().compile(root);
      whole.set(entry.name, compiled);
      validate = compiled;
    } else validate = compiledFor(forData(root, obj));
    if (validate(obj)) return [];
    const messages = (validate.errors ?? []).filter((e) => !isBranchDetail(e)).map((e) => describe(e, obj));
    return [...new Set(messages)];
  };
}

/** Every CustomResourceDefinition in the .yaml/.yml files of `dir` (multi-document files allowed). */
export function loadCrdsFromDir(dir: string): object[] {
  const crds: object[] = [];
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    for (const doc of docs) {
      if (doc.errors.length > 0) {
        throw new SandboxError(`cannot parse ${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`, {
          hint: 'CRD files must be valid (multi-document) YAML',
        });
      }
      const value: unknown = doc.toJS();
      if (isObject(value) && value.kind === 'CustomResourceDefinition') crds.push(value);
    }
  }
  return crds;
}

const cache = new WeakMap<object, CrdValidator>();

/** The validator for `apiVersion`/`kind`, or undefined when no CRD in `crds` defines that kind in that group. */
export function validatorForKind(crds: readonly object[], apiVersion: string, kind: string): CrdValidator | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const crd = crds.find((c) => {
    const spec = (c as Partial<CrdShape>).spec;
    return spec?.group === group && spec.names?.kind === kind;
  });
  if (!crd) return undefined;
  let validator = cache.get(crd);
  if (!validator) {
    validator = compileCrdValidator(crd);
    cache.set(crd, validator);
  }
  return validator;
}
