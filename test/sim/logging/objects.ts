// What the logging operator renders into the control namespace (kube-logging/logging-operator
// pkg/resources/fluentd and pkg/resources/fluentbit): the fluentd StatefulSet `<logging>-fluentd`
// with its Services and ServiceAccount, and one fluent-bit DaemonSet `<agent>-fluentbit` per
// FluentbitAgent (or `<logging>-fluentbit` for the deprecated inline Logging.spec.fluentbit),
// with the ServiceAccount its pods run as.
import type { KubeObject } from '../api-client.ts';
import { controllerRef } from '../controllers/operator-kit.ts';

interface ImageSpec {
  repository?: string;
  tag?: string;
  pullPolicy?: string;
}

function imageOf(spec: ImageSpec | undefined, repository: string, tag: string): string {
  return `${spec?.repository ?? repository}:${spec?.tag ?? tag}`;
}

function serviceAccount(owner: KubeObject, namespace: string, name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels, ownerReferences: [controllerRef(owner)] } };
}

export function fluentdLabels(logging: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'fluentd', 'app.kubernetes.io/managed-by': logging, 'app.kubernetes.io/component': 'fluentd' };
}

export function fluentbitLabels(owner: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'fluentbit', 'app.kubernetes.io/managed-by': owner };
}

/** fluentd and its companions; `operatorVersion` picks the image tag, as the chart's defaults do. */
export function fluentdObjects(logging: KubeObject, operatorVersion: string, configText: string): KubeObject[] {
  const name = logging.metadata.name!;
  const ns = logging.spec.controlNamespace as string;
  const spec = (logging.spec.fluentd ?? {}) as { image?: ImageSpec; scaling?: { replicas?: number }; resources?: unknown; configReloaderImage?: ImageSpec; bufferStorageVolume?: { pvc?: { spec?: unknown } } };
  const labels = fluentdLabels(name);
  const sts = `${name}-fluentd`;
  const sa = `${name}-fluentd`;
  const port = [{ name: 'tcp-fluentd', port: 24240, protocol: 'TCP', targetPort: 24240 }];
  return [
    serviceAccount(logging, ns, sa, labels),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-fluentd-app`, namespace: ns, labels, ownerReferences: [controllerRef(logging)] },
      type: 'Opaque',
      data: { 'fluentd.conf': Buffer.from(configText).toString('base64') },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: sts, namespace: ns, labels, ownerReferences: [controllerRef(logging)] }, spec: { type: 'ClusterIP', selector: labels, ports: port } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${sts}-headless`, namespace: ns, labels, ownerReferences: [controllerRef(logging)] },
      spec: { type: 'ClusterIP', clusterIP: 'None', selector: labels, ports: port },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: sts, namespace: ns, labels, ownerReferences: [controllerRef(logging)] },
      spec: {
        replicas: spec.scaling?.replicas ?? 1,
        serviceName: `${sts}-headless`,
        podManagementPolicy: 'OrderedReady',
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: sa,
            containers: [
              {
                name: 'fluentd',
                image: imageOf(spec.image, 'ghcr.io/kube-logging/logging-operator/fluentd', `${operatorVersion}-full`),
                imagePullPolicy: spec.image?.pullPolicy ?? 'IfNotPresent',
                ports: [{ name: 'fluent-input', containerPort: 24240, protocol: 'TCP' }],
                resources: spec.resources ?? { limits: { cpu: '1', memory: '400M' }, requests: { cpu: '500m', memory: '100M' } },
                volumeMounts: [
                  { name: `${name}-fluentd-buffer`, mountPath: '/buffers' },
                  { name: 'app-config', mountPath: '/fluentd/app-config/' },
                ],
              },
              {
                name: 'config-reloader',
                image: imageOf(spec.configReloaderImage, 'ghcr.io/kube-logging/logging-operator/config-reloader', operatorVersion),
                args: ['-volume-dir=/fluentd/app-config/', '-webhook-url=http://127.0.0.1:24444/api/config.reload'],
              },
            ],
            volumes: [{ name: 'app-config', secret: { secretName: `${name}-fluentd-app` } }],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: `${name}-fluentd-buffer` },
            spec: (spec.bufferStorageVolume?.pvc?.spec as Record<string, unknown> | undefined) ?? { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } }, volumeMode: 'Filesystem' },
          },
        ],
      },
    },
  ];
}

/** A fluent-bit DaemonSet named after its owner (a FluentbitAgent, or the Logging itself). */
export function fluentbitObjects(owner: KubeObject, spec: Record<string, unknown>, controlNamespace: string): KubeObject[] {
  const name = owner.metadata.name!;
  const labels = { ...((spec.labels as Record<string, string> | undefined) ?? {}), ...fluentbitLabels(name) };
  const sa = ((spec.security as { serviceAccount?: string } | undefined)?.serviceAccount) || `${name}-fluentbit`;
  const image = spec.image as ImageSpec | undefined;
  return [
    serviceAccount(owner, controlNamespace, sa, labels),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: `${name}-fluentbit`, namespace: controlNamespace, labels, ownerReferences: [controllerRef(owner)] },
      spec: {
        selector: { matchLabels: fluentbitLabels(name) },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: sa,
            ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
            ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
            containers: [
              {
                name: 'fluent-bit',
                image: imageOf(image, 'fluent/fluent-bit', '3.2.10'),
                imagePullPolicy: image?.pullPolicy ?? 'IfNotPresent',
                ports: [{ name: 'monitor', containerPort: 2020, protocol: 'TCP' }],
                resources: spec.resources ?? { limits: { memory: '100M' }, requests: { cpu: '100m', memory: '50M' } },
                volumeMounts: [
                  { name: 'varlibcontainers', mountPath: '/var/lib/docker/containers', readOnly: true },
                  { name: 'varlogs', mountPath: '/var/log/', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'varlibcontainers', hostPath: { path: '/var/lib/docker/containers', type: '' } },
              { name: 'varlogs', hostPath: { path: '/var/log', type: '' } },
            ],
          },
        },
      },
    },
  ];
}
