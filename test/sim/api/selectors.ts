// Label and field selectors with the real server's syntax and its refusals:
// labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`;
// fields: `path=v`, `path==v`, `path!=v` over the fields each resource supports.
import { badRequest } from './status.ts';
import { type Obj, isObj } from './types.ts';

export type Labels = Record<string, string>;
export type Matcher = (labels: Labels) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=';
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function parseTerm(term: string): Requirement {
  let m = /^!\s*(\S+)$/.exec(term);
  if (m) return checkKey({ key: m[1], op: '!', values: [] }, term);
  m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
    return checkKey({ key: m[1], op: m[2] as 'in' | 'notin', values }, term);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (m) return checkKey({ key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] }, term);
  if (/^\S+$/.test(term) && !/[=!()]/.test(term)) return checkKey({ key: term, op: 'exists', values: [] }, term);
  throw badRequest(`unable to parse requirement: found '${term}', expected: identifier`);
}

function checkKey(r: Requirement, term: string): Requirement {
  if (!KEY.test(r.key)) throw badRequest(`unable to parse requirement: <nil>: Invalid value: "${r.key}": name part must consist of alphanumeric characters, '-', '_' or '.' (in '${term}')`);
  return r;
}

export function parseLabelSelector(text: string | null | undefined): Matcher {
  if (!text || !text.trim()) return () => true;
  const reqs = splitTerms(text).map(parseTerm);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'exists':
          return has;
        case '!':
          return !has;
        case '=':
          return has && v === r.values[0];
        case '!=':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v);
        case 'notin':
          return !has || !r.values.includes(v);
      }
      return false;
    });
}

/** A metav1.LabelSelector object ({matchLabels, matchExpressions}); absent or empty matches everything. */
export function labelSelectorObject(sel: unknown): Matcher {
  if (!isObj(sel)) return () => true;
  const ml: Obj = isObj(sel.matchLabels) ? sel.matchLabels : {};
  const exprs: Obj[] = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  return (labels) =>
    Object.entries(ml).every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      const values: string[] = Array.isArray(e.values) ? e.values : [];
      switch (e.operator) {
        case 'In':
          return has && values.includes(labels[e.key]);
        case 'NotIn':
          return !has || !values.includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
      }
      return false;
    });
}

/** Field selectors each resource supports (besides metadata.name and metadata.namespace). */
const FIELDS: Record<string, string[]> = {
  '/pods': ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  '/events': ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  'events.k8s.io/events': ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'reason', 'reportingController', 'type'],
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
  '/nodes': ['spec.unschedulable'],
  '/replicasets': ['status.replicas'],
  'batch/jobs': ['status.successful'],
};

function fieldValue(obj: Obj, path: string): string {
  if (path === 'source' && obj.source) return String(obj.source.component ?? '');
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = isObj(cur) ? cur[part] : undefined;
  if (cur === undefined || cur === null) return path === 'spec.unschedulable' || path === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

export type ObjMatcher = (obj: Obj) => boolean;

/** `storageKey` picks the supported fields; an unsupported one is refused like the real server does. */
export function parseFieldSelector(text: string | null | undefined, storageKey: string, extraFields: string[] = []): ObjMatcher {
  if (!text || !text.trim()) return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELDS[storageKey] ?? []), ...extraFields]);
  const reqs = splitTerms(text).map((term) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    if (!allowed.has(m[1])) throw badRequest(`field label not supported: ${m[1]}`);
    return { path: m[1], neg: m[2] === '!=', value: m[3].trim() };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neg);
}
