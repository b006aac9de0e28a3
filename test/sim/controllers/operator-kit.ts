// What every simulated operator shares: it acts only while its own workload (the operator's
// Deployment or StatefulSet) has a Ready pod, like a real operator that holds the leader lease;
// it watches its custom resources once their CRD is Established; it writes status through the
// status subresource with strict field validation (so a status the real CRD would reject fails
// loudly here); and it creates the objects it owns idempotently, through the API only.
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { Informer, WorkQueue, keyOf, simLog } from './informer.ts';
import { isActive, isPodReady, selectorMatches, stableStringify } from './names.ts';

export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  /** Absent = any namespace (charts install operators where the user says). */
  namespace?: string;
}

/** The operator's workload when one of its pods is Ready and not terminating, else undefined. */
export function readyWorkload(ctx: ControllerContext, ref: WorkloadRef): KubeObject | undefined {
  const informer = ref.kind === 'Deployment' ? ctx.informers.deployments : ctx.informers.statefulsets;
  for (const w of informer.list(ref.namespace)) {
    if (w.metadata.name !== ref.name || w.metadata.deletionTimestamp) continue;
    const selector = w.spec?.selector;
    const ready = ctx.informers.pods
      .list(w.metadata.namespace)
      .some((p) => isActive(p) && isPodReady(p) && selectorMatches(selector, p.metadata.labels));
    if (ready) return w;
  }
  return undefined;
}

/** Plain env values of the workload's containers (valueFrom is not resolved). */
export function workloadEnv(workload: KubeObject, name: string): string | undefined {
  for (const c of (workload.spec?.template?.spec?.containers ?? []) as { env?: { name: string; value?: string }[] }[]) {
    const hit = c.env?.find((e) => e.name === name);
    if (hit) return hit.value ?? '';
  }
  return undefined;
}

function crdEstablished(crd: KubeObject | undefined): boolean {
  return !!crd && !crd.metadata.deletionTimestamp && (crd.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
}

/**
 * A cache of one custom resource kind that starts watching once its CRD is Established (an
 * operator installed before its CRDs waits for them) and stops when the CRD goes away.
 */
export class CustomResourceCache {
  readonly path: string;
  private readonly ctx: ControllerContext;
  private readonly crdName: string;
  private readonly client: SimClient;
  private readonly handlers: ((obj: KubeObject) => void)[] = [];
  private informer: Informer | undefined;
  private abort: AbortController | undefined;
  private starting = false;

  constructor(ctx: ControllerContext, client: SimClient, crdName: string, path: string) {
    this.ctx = ctx;
    this.client = client;
    this.crdName = crdName;
    this.path = path;
    ctx.informers.crds.on((_type, crd) => {
      if (crd.metadata.name === crdName) this.sync();
    });
    ctx.signal.addEventListener('abort', () => this.abort?.abort(), { once: true });
    this.sync();
  }

  /** Called with every added, changed or deleted object. */
  on(handler: (obj: KubeObject) => void): void {
    this.handlers.push(handler);
  }

  list(namespace?: string): KubeObject[] {
    return this.informer?.list(namespace) ?? [];
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.informer?.get(namespace, name);
  }

  /** Puts our own write into the cache at once (write-through). */
  upsert(obj: KubeObject): void {
    this.informer?.upsert(obj);
  }

  remove(obj: KubeObject): void {
    this.informer?.remove(obj);
  }

  private sync(): void {
    const established = crdEstablished(this.ctx.informers.crds.get(undefined, this.crdName));
    if (!established && this.informer) {
      this.abort?.abort();
      this.informer = undefined;
      return;
    }
    if (!established || this.informer || this.starting || this.ctx.signal.aborted) return;
    this.starting = true;
    const abort = new AbortController();
    const informer = new Informer(this.client, this.path, abort.signal);
    informer.on((_type, obj) => {
      for (const h of this.handlers) h(obj);
    });
    informer
      .start()
      .then(() => {
        this.abort = abort;
        this.informer = informer;
        for (const o of informer.list()) for (const h of this.handlers) h(o);
      })
      .catch((err: unknown) => {
        abort.abort();
        simLog(`${this.path}: ${String(err)}`);
        setTimeout(() => this.sync(), 200).unref();
      })
      .finally(() => {
        this.starting = false;
      });
  }
}

/**
 * The JSON merge patch that turns `from` into `to`: changed values replace, removed keys become
 * null. Arrays replace as a whole, as merge patches do.
 */
export function mergeDiff(from: unknown, to: unknown): unknown {
  if (!isPlain(from) || !isPlain(to)) return to;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to) || to[k] === undefined) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    if (stableStringify(from[k]) === stableStringify(v)) continue;
    out[k] = isPlain(from[k]) && isPlain(v) ? mergeDiff(from[k], v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops undefined values (deeply), so that a status compares equal to its stored form. */
export function compact<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Makes `obj.status` equal `status` (keys not in `status` are removed) with one merge patch on
 * the status subresource, validated strictly; no request when nothing changes.
 */
export async function writeStatus(api: SimClient, cache: { upsert(o: KubeObject): void }, path: string, obj: KubeObject, status: Record<string, unknown>): Promise<KubeObject> {
  const want = compact(status);
  if (stableStringify(want) === stableStringify(obj.status ?? {})) return obj;
  const patch = mergeDiff(obj.status ?? {}, want);
  const updated = await api.request<KubeObject>('PATCH', `${path}/status`, { status: patch }, { contentType: 'application/merge-patch+json', query: { fieldValidation: 'Strict' } });
  cache.upsert(updated);
  return updated;
}

/** Merge-patches metadata (labels, finalizers) when it would change anything. */
export async function patchMeta(api: SimClient, cache: { upsert(o: KubeObject): void }, path: string, obj: KubeObject, meta: { labels?: Record<string, string>; finalizers?: string[] }): Promise<KubeObject> {
  const patch: Record<string, unknown> = {};
  if (meta.labels && Object.entries(meta.labels).some(([k, v]) => obj.metadata.labels?.[k] !== v)) patch.labels = meta.labels;
  if (meta.finalizers && stableStringify(meta.finalizers) !== stableStringify(obj.metadata.finalizers ?? [])) patch.finalizers = meta.finalizers;
  if (Object.keys(patch).length === 0) return obj;
  const updated = await api.mergePatch(path, { metadata: patch });
  cache.upsert(updated);
  return updated;
}

/**
 * Creates `desired` when absent; when present and owned by the operator, makes the fields the
 * operator manages (spec, data, labels) match, like the real reconcilers' create-or-update.
 */
export async function ensureObject(api: SimClient, desired: KubeObject, fields: readonly string[] = ['spec']): Promise<KubeObject> {
  const path = await api.objectPath(desired);
  const current = await api.get<KubeObject>(path);
  if (!current) {
    try {
      return await api.create(path.replace(/\/[^/]+$/, ''), desired);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
      return (await api.get<KubeObject>(path)) ?? desired;
    }
  }
  if (current.metadata.deletionTimestamp) return current;
  const patch: Record<string, unknown> = {};
  for (const f of fields) {
    if (desired[f] !== undefined && !contains(current[f], desired[f])) patch[f] = desired[f];
  }
  const labels = desired.metadata.labels ?? {};
  if (Object.entries(labels).some(([k, v]) => current.metadata.labels?.[k] !== v)) patch.metadata = { labels };
  if (Object.keys(patch).length === 0) return current;
  return api.mergePatch(path, patch);
}

/** True when every value in `want` is present in `have` (defaulted extras in `have` are fine). */
function contains(have: unknown, want: unknown): boolean {
  if (isPlain(want)) return isPlain(have) && Object.entries(want).every(([k, v]) => contains(have[k], v));
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((v, i) => contains(have[i], v));
  return stableStringify(have) === stableStringify(want);
}

export interface OperatorLoop {
  readonly queue: WorkQueue;
  /** True while the operator's workload has a Ready pod. */
  active(): boolean;
  stop(): Promise<void>;
}

/**
 * Runs `reconcile(key)` for the keys `keys()` lists: on every change announced through the
 * returned queue, on a resync timer, and all of them again whenever the operator (re)gains a
 * Ready pod. Nothing runs while it has none.
 */
export function operatorLoop(ctx: ControllerContext, name: string, workload: WorkloadRef, keys: () => string[], reconcile: (key: string) => Promise<void>, resyncMs: number): OperatorLoop {
  let wasActive = false;
  const active = (): boolean => readyWorkload(ctx, workload) !== undefined;
  const queue = new WorkQueue(name, async (key) => {
    if (!active()) return;
    await reconcile(key);
  });
  const all = (): void => {
    for (const k of keys()) queue.add(k);
  };
  const check = (): void => {
    const now = active();
    if (now && !wasActive) all();
    wasActive = now;
  };
  ctx.informers.pods.on(check);
  (workload.kind === 'Deployment' ? ctx.informers.deployments : ctx.informers.statefulsets).on(check);
  const timer = setInterval(() => {
    check();
    if (wasActive) all();
  }, resyncMs);
  ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  check();
  return {
    queue,
    active,
    async stop() {
      clearInterval(timer);
      await queue.stop();
    },
  };
}

/** Queue key of a (possibly cluster-scoped) object. */
export { keyOf };

/** Splits a `namespace/name` key (namespace empty for cluster-scoped objects). */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** An owner reference to `owner` (controller, blocks deletion), as operators set them. */
export function controllerRef(owner: KubeObject): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
  return { apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** RFC 3339 without fractions, as Kubernetes writes times. */
export function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
