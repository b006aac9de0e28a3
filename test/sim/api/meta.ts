// Helpers about object metadata shared by the write paths: how an object is shown to a
// client, which kinds carry a status subresource, and when a terminating object may go.
import { type Obj, type RequestCtx, type ResourceType, apiVersionOf, clone } from './types.ts';

/** Kinds whose DELETE answers with the object itself instead of a Status (ReturnDeletedObject). */
export const RETURNS_DELETED = new Set(['/pods', '/services', '/persistentvolumeclaims', '/persistentvolumes']);

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/**
 * Built-in kinds whose objects carry metadata.generation (their registry strategies set it);
 * custom resources always do. ConfigMaps, Secrets, Services, Namespaces, RBAC objects, PVCs,
 * ServiceAccounts and Leases have none (checked against kube-apiserver 1.36).
 */
const WITH_GENERATION = new Set([
  '/pods', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs',
  'networking.k8s.io/ingresses', 'networking.k8s.io/ingressclasses', 'networking.k8s.io/networkpolicies', 'policy/poddisruptionbudgets',
  'scheduling.k8s.io/priorityclasses', 'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations', 'apiextensions.k8s.io/customresourcedefinitions', 'autoscaling/horizontalpodautoscalers',
]);

export function hasGeneration(rt: Pick<ResourceType, 'crd' | 'storageKey'>): boolean {
  return rt.crd !== undefined || WITH_GENERATION.has(rt.storageKey);
}

export function hasStatusSub(rt: ResourceType): boolean {
  return rt.subresources.includes('status');
}

/** The object as a client of `rt`'s version sees it (apiVersion and kind first, as the server writes them). */
export function present(rt: ResourceType, obj: Obj): Obj {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = clone(obj);
  return { apiVersion: apiVersionOf(rt), kind: rt.kind, metadata, ...rest };
}

/** A context for writes the server makes on its own (garbage collection, namespace cleanup). */
export function systemCtx(manager: string): RequestCtx {
  return { actor: manager, fromClient: false, manager, dryRun: false, fieldValidation: 'Strict', warnings: [] };
}

export function specPart(rt: ResourceType, o: Obj): Obj {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = o;
  if (hasStatusSub(rt)) delete rest.status;
  return rest;
}

export function finalizersOf(o: Obj): string[] {
  return Array.isArray(o.metadata?.finalizers) ? o.metadata.finalizers : [];
}

/**
 * True when nothing holds a terminating object any more, so it can go: no finalizers, no
 * namespace finalizers, and no grace period still running (a pod the kubelet has to stop).
 */
export function releasable(rt: Pick<ResourceType, 'storageKey'>, o: Obj): boolean {
  if (!o.metadata?.deletionTimestamp || finalizersOf(o).length > 0) return false;
  if (rt.storageKey === '/namespaces' && Array.isArray(o.spec?.finalizers) && o.spec.finalizers.length > 0) return false;
  if ((o.metadata.deletionGracePeriodSeconds ?? 0) > 0) return false;
  return true;
}

