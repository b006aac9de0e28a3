// What `kind create cluster` leaves in a new cluster, written through the API: Nodes named
// like kind names its containers, the default namespaces, the control-plane static pods,
// kindnet and kube-proxy, CoreDNS, and the local-path provisioner with the default
// StorageClass `standard`. The simulated controllers then run all of it.
import type { KubeObject, SimClient } from '../api-client.ts';
import { REAL_KUBECONFIG_ENV } from '../real-underlay.ts';

export const KIND_VERSION = 'v0.32.0';
export const DEFAULT_NODE_IMAGE = 'kindest/node:v1.36.1';

export interface KindNode {
  role: 'control-plane' | 'worker';
  image?: string;
  labels?: Record<string, string>;
  kubeadmConfigPatches?: string[];
  extraPortMappings?: unknown[];
  extraMounts?: unknown[];
}

export interface NodeResources {
  cpus: number;
  memBytes: number;
}

/** Node names the way kind names its containers: N-control-plane, N-control-plane2, N-worker, N-worker2. */
export function nodeNames(cluster: string, nodes: KindNode[]): string[] {
  const counts = { 'control-plane': 0, worker: 0 };
  return nodes.map((n) => {
    counts[n.role] += 1;
    return `${cluster}-${n.role}${counts[n.role] > 1 ? counts[n.role] : ''}`;
  });
}

/** `node-labels: "a=b,c=d"` from kubeadm patches (how kind configs labelled nodes before `labels:`). */
function kubeadmNodeLabels(patches: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of patches ?? []) {
    for (const m of p.matchAll(/node-labels:\s*["']?([^"'\n]+)["']?/g)) {
      for (const pair of m[1]!.split(',')) {
        const [k, v] = pair.split('=');
        if (k?.trim()) out[k.trim()] = (v ?? '').trim();
      }
    }
  }
  return out;
}

function kubeletVersion(image: string): string {
  return /:(v\d+\.\d+\.\d+)/.exec(image)?.[1] ?? 'v1.36.1';
}

const PRELOADED = [
  'docker.io/kindest/kindnetd:v20250512-df8de77b',
  'docker.io/kindest/local-path-helper:v20250414-4b2b1e5a',
  'docker.io/kindest/local-path-provisioner:v20250414-4b2b1e5a',
  'registry.k8s.io/coredns/coredns:v1.12.1',
  'registry.k8s.io/etcd:3.6.4-0',
  'registry.k8s.io/pause:3.10.1',
];

/**
 * Where kube-apiserver finds the nodes' kubelet when the simulation runs on a real one: the
 * simulation's kubelet endpoint (test/sim/controllers/kubelet-endpoint.ts), as `host:port`.
 */
export const KUBELET_ENDPOINT_ENV = 'SIM_KUBELET_ENDPOINT';

function kubeletEndpoint(): { host: string; port: number } | undefined {
  const m = /^([\d.]+):(\d+)$/.exec(process.env[KUBELET_ENDPOINT_ENV] ?? '');
  if (m) return { host: m[1]!, port: Number(m[2]) };
  // On a real API server without the endpoint, kube-apiserver must still find nothing but
  // loopback to dial when asked for a pod's log: never the kind network's addresses.
  return process.env[REAL_KUBECONFIG_ENV] ? { host: '127.0.0.1', port: 10250 } : undefined;
}

export function nodeObjects(cluster: string, spec: KindNode, name: string, index: number, image: string, res: NodeResources): { node: KubeObject; status: Record<string, unknown> } {
  const version = kubeletVersion(image);
  const controlPlane = spec.role === 'control-plane';
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
    ...kubeadmNodeLabels(spec.kubeadmConfigPatches),
    ...(spec.labels ?? {}),
  };
  const capacity = {
    cpu: String(res.cpus),
    'ephemeral-storage': '102626232Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(res.memBytes / 1024)}Ki`,
    pods: '110',
  };
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  // A kind node's kubelet listens on its container's address, port 10250; the simulation's
  // kubelet endpoint, when there is one, is where kube-apiserver must go instead.
  const kubelet = kubeletEndpoint() ?? { host: `172.18.0.${index + 2}`, port: 10250 };
  const images = [
    ...PRELOADED,
    ...['kube-apiserver', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler'].map((c) => `registry.k8s.io/${c}:${version}`),
  ].map((n, i) => ({ names: [n], sizeBytes: 20_000_000 + i * 7_340_033 }));
  const condition = (type: string, status: string, reason: string, message: string): Record<string, string> => ({
    type,
    status,
    lastHeartbeatTime: at,
    lastTransitionTime: at,
    reason,
    message,
  });
  return {
    node: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels,
        annotations: {
          'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: {
        podCIDR: `10.244.${index}.0/24`,
        podCIDRs: [`10.244.${index}.0/24`],
        providerID: `kind://docker/${cluster}/${name}`,
        ...(controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}),
      },
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: kubelet.host },
        { type: 'Hostname', address: name },
      ],
      allocatable: capacity,
      capacity,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } },
      images,
      nodeInfo: {
        architecture: arch,
        bootID: crypto.randomUUID(),
        containerRuntimeVersion: 'containerd://2.1.4',
        kernelVersion: '6.8.0-generic',
        kubeProxyVersion: version,
        kubeletVersion: version,
        machineID: crypto.randomUUID().replace(/-/g, ''),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: crypto.randomUUID(),
      },
    },
  };
}

function labelsFor(app: string): Record<string, string> {
  return { 'k8s-app': app };
}

const CONTROL_PLANE_TOLERATION = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** Objects of the add-ons kind installs, in apply order. */
export function addonObjects(controlPlane: string, version: string, controlPlaneIp: string): KubeObject[] {
  const staticPod = (component: string, image: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${component}-${controlPlane}`,
      namespace: 'kube-system',
      labels: { component, tier: 'control-plane' },
      annotations: { 'kubernetes.io/config.source': 'file' },
    },
    spec: {
      nodeName: controlPlane,
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      containers: [{ name: component, image, imagePullPolicy: 'IfNotPresent' }],
    },
  });
  const daemon = (name: string, image: string, hostNetwork: boolean): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system', labels: { app: name, 'k8s-app': name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'k8s-app': name } },
        spec: { hostNetwork, tolerations: [{ operator: 'Exists' }], containers: [{ name, image }] },
      },
    },
  });
  return [
    staticPod('etcd', 'registry.k8s.io/etcd:3.6.4-0'),
    staticPod('kube-apiserver', `registry.k8s.io/kube-apiserver:${version}`),
    staticPod('kube-controller-manager', `registry.k8s.io/kube-controller-manager:${version}`),
    staticPod('kube-scheduler', `registry.k8s.io/kube-scheduler:${version}`),
    daemon('kindnet', 'docker.io/kindest/kindnetd:v20250512-df8de77b', true),
    daemon('kube-proxy', `registry.k8s.io/kube-proxy:${version}`, true),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: '.:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n}\n' },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels: labelsFor('kube-dns') },
      spec: {
        replicas: 2,
        selector: { matchLabels: labelsFor('kube-dns') },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: labelsFor('kube-dns') },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, CONTROL_PLANE_TOLERATION],
            containers: [
              {
                name: 'coredns',
                image: 'registry.k8s.io/coredns/coredns:v1.12.1',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...labelsFor('kube-dns'), 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labelsFor('kube-dns'),
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'local-path-provisioner-service-account', namespace: 'local-path-storage' } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace: 'local-path-storage' },
      data: { 'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/var/local-path-provisioner'] }] }, null, 2) },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'local-path-provisioner', namespace: 'local-path-storage' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'local-path-provisioner' } },
        template: {
          metadata: { labels: { app: 'local-path-provisioner' } },
          spec: {
            serviceAccountName: 'local-path-provisioner-service-account',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [CONTROL_PLANE_TOLERATION],
            containers: [{ name: 'local-path-provisioner', image: 'docker.io/kindest/local-path-provisioner:v20250414-4b2b1e5a', imagePullPolicy: 'IfNotPresent' }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
      data: { ClusterConfiguration: `apiServer:\n  certSANs:\n  - ${controlPlaneIp}\nkubernetesVersion: ${version}\nnetworking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/16\n` },
    },
  ];
}

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

/** Creates everything; objects that exist already are left alone. */
export async function bootstrap(api: SimClient, cluster: string, nodes: KindNode[], image: string, res: NodeResources): Promise<string[]> {
  for (const ns of DEFAULT_NAMESPACES) await api.createIfAbsent('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const names = nodeNames(cluster, nodes);
  const workers = nodes.some((n) => n.role === 'worker');
  for (const [i, spec] of nodes.entries()) {
    const { node, status } = nodeObjects(cluster, spec, names[i]!, i, spec.image ?? image, res);
    // kind removes the control-plane taint when there is no worker to run workloads.
    if (!workers) delete node.spec.taints;
    await api.createIfAbsent('/api/v1/nodes', node);
    await api.mergePatch(`/api/v1/nodes/${names[i]}/status`, { status });
  }
  const cp = names[nodes.findIndex((n) => n.role === 'control-plane')]!;
  for (const obj of addonObjects(cp, kubeletVersion(image), '172.18.0.2')) {
    // A real API server made the `kubernetes` Service itself, and answers a second create of
    // it with 422 (its IP is taken) before it would say 409.
    if (await api.get(await api.objectPath(obj, obj.metadata.namespace))) continue;
    await api.createIfAbsent(await api.objectPath({ ...obj, metadata: { ...obj.metadata, name: undefined } }, obj.metadata.namespace), obj);
  }
  return names;
}
