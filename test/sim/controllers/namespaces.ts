// The namespace side of kube-controller-manager: a new namespace gets status.phase Active,
// its `default` ServiceAccount (serviceaccount-controller) and the `kube-root-ca.crt`
// ConfigMap (root-ca-cert-publisher).
import type { ControllerContext } from './context.ts';
import { WorkQueue } from './informer.ts';

// A self-signed certificate shaped like kubeadm's cluster CA; nothing verifies it here.
const ROOT_CA = [
  '-----BEGIN CERTIFICATE-----',
  'MIIDBTCCAe2gAwIBAgIIbG9jYWwtc2ltMA0GCSqGSIb3DQEBCwUAMBUxEzARBgNV',
  'BAMTCmt1YmVybmV0ZXMwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAwWjAV',
  'MRMwEQYDVQQDEwprdWJlcm5ldGVzMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB',
  'CgKCAQEAc2ltdWxhdGVkLWNsdXN0ZXItY2Etbm90LWEtcmVhbC1rZXk=',
  '-----END CERTIFICATE-----',
  '',
].join('\n');

const CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IPs or DNS name (e.g. https://kubernetes.default.svc). No other usage is guaranteed across distributions of Kubernetes clusters.';

export function startNamespaces(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('namespace-controller');
  const { namespaces } = ctx.informers;
  // Namespaces (by uid) whose ServiceAccount and ConfigMap exist already.
  const seeded = new Set<string>();

  async function reconcile(name: string): Promise<void> {
    const ns = namespaces.get(undefined, name);
    if (!ns) return;
    // Termination (deleting the contents, then finalizing) is done by the API server's own sweep.
    if (ns.metadata.deletionTimestamp) return;
    if (ns.status?.phase !== 'Active') {
      namespaces.upsert(await api.mergePatch(`/api/v1/namespaces/${name}/status`, { status: { phase: 'Active' } }));
    }
    if (seeded.has(ns.metadata.uid ?? name)) return;
    await api.createIfAbsent(`/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    await api.createIfAbsent(`/api/v1/namespaces/${name}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: name, annotations: { 'kubernetes.io/description': CA_DESCRIPTION } },
      data: { 'ca.crt': ROOT_CA },
    });
    seeded.add(ns.metadata.uid ?? name);
  }

  const queue = new WorkQueue('namespace-controller', reconcile);
  namespaces.on((type, ns) => {
    if (type !== 'DELETED') queue.add(ns.metadata.name!);
  });
  for (const ns of namespaces.list()) queue.add(ns.metadata.name!);
  return queue;
}
