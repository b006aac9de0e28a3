// A small Kubernetes REST client over fetch, used by the simulated controllers, the fake
// tools and the harness. It speaks only the public HTTP protocol of the fake API server
// (the simulation must act through the API like real controllers do) and stamps every
// request with `x-sim-actor`, so faults skip it and the audit log names who did what.
import { ACTOR_HEADER } from './faults.ts';
import { realUnderlay, type SimRequestInit, type SimResponse } from './real-underlay.ts';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Loosely typed object: the simulation reads many kinds and only a few fields of each. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

export interface ObjectList {
  metadata: { resourceVersion?: string };
  items: KubeObject[];
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** An HTTP error from the API server, with the Status object's reason when there is one. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason?: string;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const msg = typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : JSON.stringify(body);
    super(`${method} ${path}: HTTP ${status}: ${msg}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    this.reason = typeof body === 'object' && body !== null && 'reason' in body ? String((body as { reason: unknown }).reason) : undefined;
  }
}

/** Where a kind lives in the REST tree. */
export interface ResourceInfo {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  base: string;
  plural: string;
  namespaced: boolean;
}

// Built-in kinds the simulation touches all the time: no discovery round trip for them.
const BUILTIN: Record<string, ResourceInfo> = {
  'v1/Namespace': { base: '/api/v1', plural: 'namespaces', namespaced: false },
  'v1/Node': { base: '/api/v1', plural: 'nodes', namespaced: false },
  'v1/Pod': { base: '/api/v1', plural: 'pods', namespaced: true },
  'v1/Service': { base: '/api/v1', plural: 'services', namespaced: true },
  'v1/ServiceAccount': { base: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  'v1/ConfigMap': { base: '/api/v1', plural: 'configmaps', namespaced: true },
  'v1/Secret': { base: '/api/v1', plural: 'secrets', namespaced: true },
  'v1/Event': { base: '/api/v1', plural: 'events', namespaced: true },
  'v1/PersistentVolumeClaim': { base: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true },
  'v1/PersistentVolume': { base: '/api/v1', plural: 'persistentvolumes', namespaced: false },
  'apps/v1/Deployment': { base: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  'apps/v1/ReplicaSet': { base: '/apis/apps/v1', plural: 'replicasets', namespaced: true },
  'apps/v1/StatefulSet': { base: '/apis/apps/v1', plural: 'statefulsets', namespaced: true },
  'apps/v1/DaemonSet': { base: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  'batch/v1/Job': { base: '/apis/batch/v1', plural: 'jobs', namespaced: true },
  'storage.k8s.io/v1/StorageClass': { base: '/apis/storage.k8s.io/v1', plural: 'storageclasses', namespaced: false },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    base: '/apis/apiextensions.k8s.io/v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  contentType?: string;
  signal?: AbortSignal;
}

export class SimClient {
  readonly url: string;
  readonly actor: string;
  private readonly discovered = new Map<string, ResourceInfo>();

  constructor(url: string, actor: string) {
    this.url = url.replace(/\/$/, '');
    this.actor = actor;
  }

  private target(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${path}${qs ? (path.includes('?') ? '&' : '?') + qs : ''}`;
  }

  /**
   * Sends to the fake API server, or, on a real one (real-underlay.ts), Kubernetes paths to it
   * and the simulation's /_sim/ paths to the fake server (SIM_URL when this client was made
   * for the real server's URL, as helm makes it from the kubeconfig).
   */
  private send(target: string, init: SimRequestInit): Promise<SimResponse> {
    const real = realUnderlay();
    if (real && !target.startsWith('/_sim')) return real.send(`${real.server}${target}`, init);
    const base = real && this.url === real.server ? (process.env.SIM_URL ?? this.url) : this.url;
    return fetch(`${base}${target}`, init) as Promise<SimResponse>;
  }

  /** One request; JSON in and out; non-2xx throws ApiError. */
  async request<T = KubeObject>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    // The user agent names the actor too: the server derives managedFields managers from it.
    const headers: Record<string, string> = { [ACTOR_HEADER]: this.actor, accept: 'application/json', 'user-agent': `${this.actor}/v0.0.0 (linux) kubernetes/sim` };
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await this.send(this.target(path, opts.query), {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: opts.signal,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text (e.g. logs) stays a string
    }
    if (!res.ok) throw new ApiError(method, path, res.status, parsed);
    return parsed as T;
  }

  /** GET that answers undefined for 404. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  list(path: string, query?: { labelSelector?: string; fieldSelector?: string }): Promise<ObjectList> {
    return this.request<ObjectList>('GET', path, undefined, { query });
  }

  create(path: string, obj: unknown, query?: RequestOptions['query']): Promise<KubeObject> {
    return this.request('POST', path, obj, { query });
  }

  /** Creates, or answers undefined when the object already exists (409). */
  async createIfAbsent(path: string, obj: unknown): Promise<KubeObject | undefined> {
    try {
      return await this.create(path, obj);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return undefined;
      throw err;
    }
  }

  replace(path: string, obj: unknown): Promise<KubeObject> {
    return this.request('PUT', path, obj);
  }

  mergePatch(path: string, patch: unknown): Promise<KubeObject> {
    return this.request('PATCH', path, patch, { contentType: 'application/merge-patch+json' });
  }

  apply(path: string, obj: unknown, fieldManager: string): Promise<KubeObject> {
    return this.request('PATCH', path, obj, {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: true },
    });
  }

  /** DELETE that ignores 404 (already gone is what was wanted). */
  async delete(path: string, body?: unknown): Promise<void> {
    try {
      await this.request('DELETE', path, body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      throw err;
    }
  }

  /** REST location of a kind, from the built-in table or the server's discovery documents. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const key = `${apiVersion}/${kind}`;
    const known = BUILTIN[key] ?? this.discovered.get(key);
    if (known) return known;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const doc = await this.get<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(base);
    for (const r of doc?.resources ?? []) {
      if (r.name.includes('/')) continue;
      this.discovered.set(`${apiVersion}/${r.kind}`, { base, plural: r.name, namespaced: r.namespaced });
    }
    const found = this.discovered.get(key);
    if (!found) throw new ApiError('GET', base, 404, { message: `no matches for kind "${kind}" in version "${apiVersion}"`, reason: 'NotFound' });
    return found;
  }

  /** Path of a collection (name undefined) or of one object. */
  async pathOf(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    return pathFor(await this.resource(apiVersion, kind), namespace, name);
  }

  /** Path of an object, from the object itself. */
  async objectPath(obj: KubeObject, defaultNamespace?: string): Promise<string> {
    const info = await this.resource(obj.apiVersion ?? 'v1', obj.kind ?? '');
    return pathFor(info, info.namespaced ? (obj.metadata.namespace ?? defaultNamespace ?? 'default') : undefined, obj.metadata.name);
  }

  /**
   * Streams watch events of a collection from `resourceVersion` until the server ends the
   * response or `signal` aborts. Resolves when the stream ends; the caller decides to re-watch
   * (same resourceVersion) or re-list (after an ERROR event with code 410).
   */
  async watch(path: string, opts: { resourceVersion?: string; labelSelector?: string; signal?: AbortSignal }, onEvent: (ev: WatchEvent) => void): Promise<void> {
    const res = await this.send(
      this.target(path, {
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: opts.resourceVersion,
        labelSelector: opts.labelSelector,
      }),
      { method: 'GET', headers: { [ACTOR_HEADER]: this.actor, 'user-agent': `${this.actor}/v0.0.0 (linux) kubernetes/sim` }, signal: opts.signal },
    );
    if (!res.ok || !res.body) throw new ApiError('GET', `${path}?watch=true`, res.status, await res.text());
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onEvent(JSON.parse(line) as WatchEvent);
      }
    }
    const rest = buffered.trim();
    if (rest) onEvent(JSON.parse(rest) as WatchEvent);
  }
}

export function pathFor(info: ResourceInfo, namespace?: string, name?: string): string {
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${info.base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Compares resourceVersions: numeric ones numerically (the common case), else as strings. */
export function newerOrSame(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a >= b;
}
