// What a namespace still holds that the sandbox did not make, so that `down --context` does not
// delete a namespace it created once someone else keeps things in it: deleting a namespace
// deletes everything inside, whoever made it.
import type { Kube, KubeObject } from '../lib/kube/kube.ts';

/** The cluster's own components, e.g. the PVCs of a StatefulSet are kube-controller-manager's. */
const CONTROL_PLANE = new Set(['kube-controller-manager', 'kube-apiserver', 'kube-scheduler']);

/**
 * What the cluster puts in every namespace. The default ServiceAccount is created with nothing
 * but its name, so it has no managedFields to tell its maker by (checked on kube-apiserver 1.36).
 */
const PER_NAMESPACE = new Set(['ServiceAccount default', 'ConfigMap kube-root-ca.crt']);

/** Bookkeeping, never anyone's data: events and leader-election leases. */
const IGNORED_KINDS = new Set(['Event', 'Lease']);

/** Whether the object was made by someone other than the sandbox, a controller or the cluster itself. */
export function isForeign(o: KubeObject, isSandboxs: (o: KubeObject) => boolean): boolean {
  if (isSandboxs(o) || PER_NAMESPACE.has(`${o.kind} ${o.metadata.name}`)) return false;
  // Made by a controller from another object: it goes when that object goes.
  if ((o.metadata.ownerReferences ?? []).length > 0) return false;
  const managers = ((o.metadata.managedFields ?? []) as Array<{ manager?: string }>).map((m) => m.manager ?? '');
  // Without managedFields nobody can be told from anybody: count it as someone's.
  return managers.length === 0 || managers.some((m) => !CONTROL_PLANE.has(m));
}

/** "ConfigMap minio/users-notes", for each object in `namespace` that isForeign. */
export async function foreignObjects(kube: Kube, namespace: string, isSandboxs: (o: KubeObject) => boolean): Promise<string[]> {
  const kinds = (await kube.listableKinds()).filter((k) => k.namespaced && !IGNORED_KINDS.has(k.kind));
  const found = await Promise.all(
    kinds.map(async (k) => {
      const items = await kube.list(k.apiVersion, k.kind, { namespace }).catch(() => [] as KubeObject[]);
      return items.filter((o) => isForeign(o, isSandboxs)).map((o) => `${k.kind} ${namespace}/${o.metadata.name}`);
    }),
  );
  return found.flat().sort();
}
