// Shared shapes of the fake API server. Objects are plain JSON as they travel over the wire;
// `Obj` keeps the code readable where the schema is open (custom resources, patches).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

/** One REST resource as discovery describes it (a built-in one or one served from a CRD). */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in URLs: "deployments". */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresource names this resource serves: status, log, portforward, finalize, binding. */
  subresources: string[];
  verbs: string[];
  /** Objects of every version of one group/resource share storage. */
  storageKey: string;
  /** The CustomResourceDefinition that serves this resource; undefined for built-ins. */
  crd?: Obj;
}

/** Who sent a request and how it wants to be treated. */
export interface RequestCtx {
  /** `x-sim-actor` header, or 'client'. */
  actor: string;
  /** True for requests without the actor header: faults apply to them. */
  fromClient: boolean;
  /** fieldManager query parameter, else derived from the User-Agent like the real server. */
  manager: string;
  dryRun: boolean;
  /** Strict (default here), Warn or Ignore. */
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings for the `Warning` response header. */
  warnings: string[];
}

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** "deployments.apps", or "pods" for the core group: how the real server names resources in messages. */
export function groupResource(rt: Pick<ResourceType, 'group' | 'resource'>): string {
  return rt.group ? `${rt.resource}.${rt.group}` : rt.resource;
}

/** "Deployment.apps" or "Pod": how Invalid errors name the kind. */
export function groupKind(rt: Pick<ResourceType, 'group' | 'kind'>): string {
  return rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Structural equality of JSON values (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 3339 with seconds precision, as metadata timestamps are written. */
export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
