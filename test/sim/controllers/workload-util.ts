// Helpers shared by the workload controllers: pods from templates, owned-object lookups,
// status writes that skip no-op updates, and the controllers' common wiring.
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { type Informer, WorkQueue, keyOf } from './informer.ts';
import { controllerOf, isOwnedBy, ownerRef, stableStringify } from './names.ts';

/** A pod object from a template, owned by `owner`. */
export function podFromTemplate(
  template: KubeObject | undefined,
  owner: KubeObject,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown>; generateName?: string } = {},
): KubeObject {
  const meta = template?.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      ...(extra.generateName ? { generateName: extra.generateName } : {}),
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}), ...(extra.labels ?? {}) },
      ...(meta.annotations || extra.annotations ? { annotations: { ...(meta.annotations ?? {}), ...(extra.annotations ?? {}) } } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: { ...structuredClone(template?.spec ?? {}), ...(extra.spec ?? {}) },
  };
}

/**
 * Creates a pod for a workload; a refusal (e.g. its ServiceAccount does not exist yet) is
 * reported as the owner's FailedCreate Warning event, as the real controllers do, and rethrown
 * so that the work queue retries.
 */
export async function createPod(ctx: ControllerContext, api: SimClient, owner: KubeObject, pod: KubeObject, source: string, failMessage: (msg: string) => string): Promise<KubeObject> {
  try {
    const created = await api.create(`/api/v1/namespaces/${owner.metadata.namespace}/pods`, pod);
    ctx.informers.pods.upsert(created);
    return created;
  } catch (err) {
    const msg = err instanceof ApiError && typeof (err.body as { message?: unknown })?.message === 'string' ? (err.body as { message: string }).message : String(err);
    await ctx.events.record(owner, { component: source }, { type: 'Warning', reason: 'FailedCreate', message: failMessage(msg) });
    throw err;
  }
}

/** Objects in the owner's namespace whose controller is the owner. */
export function ownedBy(informer: Informer, owner: KubeObject): KubeObject[] {
  return informer.list(owner.metadata.namespace).filter((o) => isOwnedBy(o, owner));
}

/** Writes `status` through the status subresource unless it equals what is there. */
export async function writeStatus(api: SimClient, informer: Informer, path: string, obj: KubeObject, status: Record<string, unknown>): Promise<void> {
  const merged: Record<string, unknown> = { ...(obj.status ?? {}) };
  for (const [k, v] of Object.entries(status)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  if (stableStringify(merged) === stableStringify(obj.status ?? {})) return;
  const updated = await api.mergePatch(`${path}/status`, { status });
  informer.upsert(updated);
}

/** Zero counts become null: the API omits them (`omitempty`), and null deletes in a merge patch. */
export function omitZero<T extends Record<string, unknown>>(fields: T): { [K in keyof T]: T[K] | null } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v === 0 ? null : v;
  return out as { [K in keyof T]: T[K] | null };
}

/**
 * Wires a controller: its own objects queue themselves; changes to dependents (pods,
 * replica sets) queue their controlling owner of `ownerKind`; a resync catches timers.
 */
export function wireController(
  ctx: ControllerContext,
  name: string,
  own: Informer,
  dependents: { informer: Informer; ownerKind: string }[],
  reconcile: (namespace: string, name: string) => Promise<void>,
  resyncMs = 1000,
): WorkQueue {
  const queue = new WorkQueue(name, (key) => {
    const [ns, n] = key.split('/') as [string, string];
    return reconcile(ns, n);
  });
  own.on((_type, obj) => queue.add(keyOf(obj)));
  for (const d of dependents) {
    d.informer.on((_type, obj) => {
      const ref = controllerOf(obj);
      if (ref?.kind === d.ownerKind) queue.add(`${obj.metadata.namespace ?? ''}/${ref.name}`);
    });
  }
  for (const o of own.list()) queue.add(keyOf(o));
  const timer = setInterval(() => {
    for (const o of own.list()) queue.add(keyOf(o));
  }, resyncMs);
  ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return queue;
}

/** "25%" or 1 of a total, rounded the way Kubernetes rounds maxUnavailable (down) or maxSurge (up). */
export function intOrPercent(v: number | string | undefined, total: number, fallback: string, roundUp: boolean): number {
  const value = v ?? fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export function condition(type: string, status: boolean, reason: string, message: string, prev: { type: string; status: string; lastTransitionTime?: string; lastUpdateTime?: string; reason?: string; message?: string }[] | undefined, at: string, withUpdateTime = false): Record<string, unknown> {
  const s = status ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  const same = old?.status === s;
  const unchanged = same && old?.reason === reason && old?.message === message;
  return {
    type,
    status: s,
    ...(withUpdateTime ? { lastUpdateTime: unchanged ? (old?.lastUpdateTime ?? at) : at } : {}),
    lastTransitionTime: same ? (old?.lastTransitionTime ?? at) : at,
    reason,
    message,
  };
}
