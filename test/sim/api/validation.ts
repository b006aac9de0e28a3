// Validation the real API server does before it stores an object: names, labels, a few
// built-in rules clients trip over (pods need containers, a workload's selector must match its
// template and cannot change), CRD sanity, and custom resources against their CRD's schema.
import { type CrdValidator, compileCrdValidator } from './crd-validator.ts';
import { labelSelectorObject } from './selectors.ts';
import { type StatusCause, causeFromText } from './status.ts';
import { unknownTypedFields } from './typed.ts';
import { type Obj, type ResourceType, deepEqual, isObj } from './types.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function nameCause(name: string, rule: 'subdomain' | 'label' | 'dns1035' | 'path'): StatusCause | undefined {
  const field = 'metadata.name';
  if (rule === 'path') {
    if (name === '.' || name === '..' || /[/%]/.test(name)) return { field, message: `Invalid value: "${name}": may not contain '/' or '%'` };
    return undefined;
  }
  if (rule === 'subdomain' && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) {
    return {
      field,
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    };
  }
  if (rule === 'label' && (name.length > 63 || !DNS1123_LABEL.test(name))) {
    return {
      field,
      message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    };
  }
  if (rule === 'dns1035' && (name.length > 63 || !DNS1035_LABEL.test(name))) {
    return {
      field,
      message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    };
  }
  return undefined;
}

function nameRule(rt: ResourceType): 'subdomain' | 'label' | 'dns1035' | 'path' {
  if (rt.group === 'rbac.authorization.k8s.io') return 'path';
  if (!rt.group && rt.resource === 'namespaces') return 'label';
  if (!rt.group && rt.resource === 'services') return 'dns1035';
  return 'subdomain';
}

function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (!isObj(labels)) return [{ field, message: `Invalid value: ${JSON.stringify(labels)}: must be a map of strings` }];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const namePart = slash >= 0 ? k.slice(slash + 1) : k;
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    if (namePart.length > 63 || !QUALIFIED_NAME.test(namePart) || (slash >= 0 && !DNS1123_SUBDOMAIN.test(prefix))) {
      out.push({ field, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')` });
    }
    if (field.endsWith('labels')) {
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
        out.push({ field, message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')` });
      }
    } else if (typeof v !== 'string') {
      out.push({ field: `${field}`, message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
    }
  }
  return out;
}

/** Checks every write: the object's name and metadata, and the built-in rules of its kind. */
export function validateObject(rt: ResourceType, obj: Obj, old: Obj | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const md = obj.metadata ?? {};
  if (!old) {
    const c = typeof md.name === 'string' && md.name ? nameCause(md.name, nameRule(rt)) : { field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' };
    if (c) out.push(c);
  }
  out.push(...validateLabels(md.labels, 'metadata.labels'), ...validateLabels(md.annotations, 'metadata.annotations'));
  if (md.finalizers !== undefined && (!Array.isArray(md.finalizers) || md.finalizers.some((f: unknown) => typeof f !== 'string'))) {
    out.push({ field: 'metadata.finalizers', message: 'Invalid value: must be a list of strings' });
  }
  out.push(...builtinRules(rt, obj, old));
  return out;
}

function podSpecRules(spec: unknown, path: string): StatusCause[] {
  if (!isObj(spec)) return [{ field: path, message: 'Required value', reason: 'FieldValueRequired' }];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [{ field: `${path}.containers`, message: 'Required value', reason: 'FieldValueRequired' }];
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  containers.forEach((c: unknown, i: number) => {
    const at = `${path}.containers[${i}]`;
    if (!isObj(c) || typeof c.name !== 'string' || !c.name) out.push({ field: `${at}.name`, message: 'Required value', reason: 'FieldValueRequired' });
    else if (seen.has(c.name)) out.push({ field: `${at}.name`, message: `Duplicate value: "${c.name}"`, reason: 'FieldValueDuplicate' });
    else seen.add(c.name);
    if (!isObj(c) || typeof c.image !== 'string' || !c.image) out.push({ field: `${at}.image`, message: 'Required value', reason: 'FieldValueRequired' });
  });
  return out;
}

const WORKLOADS = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets']);

function builtinRules(rt: ResourceType, obj: Obj, old: Obj | undefined): StatusCause[] {
  if (rt.crd) return [];
  const key = rt.storageKey;
  if (key === '/pods') return podSpecRules(obj.spec, 'spec');
  if (rt.group === 'apps' && WORKLOADS.has(rt.resource)) {
    const out = podSpecRules(obj.spec?.template?.spec, 'spec.template.spec');
    const selector = obj.spec?.selector;
    if (!isObj(selector) || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
      out.push({ field: 'spec.selector', message: 'Required value', reason: 'FieldValueRequired' });
    } else if (!labelSelectorObject(selector)(obj.spec?.template?.metadata?.labels ?? {})) {
      out.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(obj.spec?.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\`` });
    }
    if (old && !deepEqual(old.spec?.selector, selector)) {
      out.push({ field: 'spec.selector', message: `Invalid value: ${JSON.stringify(selector)}: field is immutable` });
    }
    return out;
  }
  if (key === 'batch/jobs') return podSpecRules(obj.spec?.template?.spec, 'spec.template.spec');
  if (key === 'apiextensions.k8s.io/customresourcedefinitions') return crdRules(obj);
  return [];
}

function crdRules(crd: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = crd.spec;
  if (!isObj(spec)) return [{ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' }];
  const names = isObj(spec.names) ? spec.names : {};
  if (!spec.group) out.push({ field: 'spec.group', message: 'Required value', reason: 'FieldValueRequired' });
  if (!names.plural) out.push({ field: 'spec.names.plural', message: 'Required value', reason: 'FieldValueRequired' });
  if (!names.kind) out.push({ field: 'spec.names.kind', message: 'Required value', reason: 'FieldValueRequired' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') out.push({ field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`, reason: 'FieldValueNotSupported' });
  if (crd.metadata?.name !== `${names.plural}.${spec.group}`) out.push({ field: 'metadata.name', message: `Invalid value: "${crd.metadata?.name}": must be spec.names.plural+"."+spec.group` });
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) out.push({ field: 'spec.versions', message: 'Invalid value: null: must have exactly one version marked as storage version' });
  else if (versions.filter((v: Obj) => v?.storage === true).length !== 1) {
    out.push({ field: 'spec.versions', message: `Invalid value: ${JSON.stringify(versions.map((v: Obj) => v?.name))}: must have exactly one version marked as storage version` });
  }
  return out;
}

// Compiling a big schema takes a second, so validators live as long as the CRD's spec does:
// keyed by uid and generation (status updates of the CRD do not change the generation).
const validators = new Map<string, { key: string; validate: CrdValidator }>();

function validatorFor(crd: Obj): CrdValidator {
  const uid = String(crd.metadata?.uid ?? crd.metadata?.name);
  const key = `${crd.metadata?.generation ?? 0}`;
  const hit = validators.get(uid);
  if (hit && hit.key === key) return hit.validate;
  const validate = compileCrdValidator(crd);
  validators.set(uid, { key, validate });
  return validate;
}

/** Errors of a custom resource against its CRD's schema, split into unknown fields and the rest. */
export function validateCustom(rt: ResourceType, obj: Obj): { unknown: string[]; invalid: StatusCause[] } {
  if (!rt.crd) return { unknown: [], invalid: [] };
  const v = validatorFor(rt.crd);
  const errors = v(obj);
  const unknown = errors.filter((e) => e.endsWith('field not declared in schema'));
  const invalid = errors.filter((e) => !e.endsWith('field not declared in schema')).map(causeFromText);
  return { unknown, invalid };
}

/** Removes the fields a CRD schema does not declare (pruning, for fieldValidation Warn/Ignore). */
export function pruneUnknown(obj: Obj, unknown: string[]): void {
  for (const e of unknown) {
    const path = e.replace(/: field not declared in schema$/, '');
    const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.').filter((p) => p !== '');
    let cur: unknown = obj;
    for (const p of parts.slice(0, -1)) cur = isObj(cur) || Array.isArray(cur) ? (cur as Obj)[p] : undefined;
    if (isObj(cur)) delete cur[parts[parts.length - 1]];
  }
}

const UNCHECKED = new Set(['/events', 'events.k8s.io/events']);

/**
 * Unknown fields of a built-in object, worded as validateCustom words unknown fields: from the
 * Go types of its kind (typed.ts), down to the values that have a JSON form of their own
 * (quantities, int-or-strings, raw extensions, a CRD's nested schemas), which are not looked into.
 */
export function unknownBuiltinFields(rt: ResourceType, obj: Obj): string[] {
  if (rt.crd || UNCHECKED.has(rt.storageKey)) return [];
  return unknownTypedFields(rt, obj);
}
