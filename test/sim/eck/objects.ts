// The objects ECK renders for an Elasticsearch and a Kibana, as the real operator names and
// labels them (cloud-on-k8s pkg/controller/elasticsearch/nodespec, .../kibana): one StatefulSet
// `<es>-es-<nodeSet>` per node set, the http/transport/internal-http Services, the elastic
// user's Secret, and for Kibana a Deployment `<kb>-kb` with its `<kb>-kb-http` Service.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api-client.ts';
import { controllerRef } from '../controllers/operator-kit.ts';

export const ES_TYPE = 'common.k8s.elastic.co/type';
export const ES_CLUSTER = 'elasticsearch.k8s.elastic.co/cluster-name';
export const ES_STS = 'elasticsearch.k8s.elastic.co/statefulset-name';
export const KB_NAME = 'kibana.k8s.elastic.co/name';

interface Container {
  name: string;
  env?: { name: string }[];
  [key: string]: unknown;
}

/** A default container with the user's podTemplate container of the same name laid over it. */
function mergeContainer(base: Container, user: Container | undefined): Container {
  if (!user) return base;
  const env = [...(base.env ?? []).filter((e) => !(user.env ?? []).some((u) => u.name === e.name)), ...(user.env ?? [])];
  return { ...base, ...user, env };
}

/** The podTemplate's containers merged into ours (ours first, by name), plus the user's extra ones. */
function containers(defaults: Container[], template: KubeObject | undefined): Container[] {
  const user = (template?.spec?.containers ?? []) as Container[];
  const merged = defaults.map((c) => mergeContainer(c, user.find((u) => u.name === c.name)));
  return [...merged, ...user.filter((u) => !defaults.some((d) => d.name === u.name))];
}

function service(owner: KubeObject, name: string, labels: Record<string, string>, selector: Record<string, string>, ports: Record<string, unknown>[], headless = false): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: owner.metadata.namespace, labels, ownerReferences: [controllerRef(owner)] },
    spec: { type: 'ClusterIP', ...(headless ? { clusterIP: 'None', publishNotReadyAddresses: true } : {}), selector, ports },
  };
}

export function esImage(es: KubeObject): string {
  return (es.spec?.image as string | undefined) ?? `docker.elastic.co/elasticsearch/elasticsearch:${es.spec?.version}`;
}

export function kibanaImage(kb: KubeObject): string {
  return (kb.spec?.image as string | undefined) ?? `docker.elastic.co/kibana/kibana:${kb.spec?.version}`;
}

export function esServices(es: KubeObject): KubeObject[] {
  const name = es.metadata.name!;
  const labels = { [ES_TYPE]: 'elasticsearch', [ES_CLUSTER]: name };
  const https = [{ name: 'https', port: 9200, protocol: 'TCP', targetPort: 9200 }];
  return [
    service(es, `${name}-es-http`, labels, labels, https),
    service(es, `${name}-es-internal-http`, labels, labels, https),
    service(es, `${name}-es-transport`, labels, labels, [{ name: 'tls-transport', port: 9300, protocol: 'TCP', targetPort: 9300 }], true),
    ...((es.spec?.nodeSets ?? []) as { name: string }[]).map((ns) => {
      const sts = `${name}-es-${ns.name}`;
      return service(es, sts, { ...labels, [ES_STS]: sts }, { [ES_CLUSTER]: name, [ES_STS]: sts }, https, true);
    }),
  ];
}

/** Created once: ECK never rotates the elastic user's password by itself. */
export function elasticUserSecret(es: KubeObject): KubeObject {
  const password = randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `${es.metadata.name}-es-elastic-user`,
      namespace: es.metadata.namespace,
      labels: { [ES_TYPE]: 'elasticsearch', [ES_CLUSTER]: es.metadata.name!, 'eck.k8s.elastic.co/credentials': 'true', 'eck.k8s.elastic.co/owner-kind': 'Elasticsearch' },
      ownerReferences: [controllerRef(es)],
    },
    type: 'Opaque',
    data: { elastic: Buffer.from(password).toString('base64') },
  };
}

export interface NodeSet {
  name: string;
  count?: number;
  config?: Record<string, unknown>;
  podTemplate?: KubeObject;
  volumeClaimTemplates?: KubeObject[];
}

export function esStatefulSet(es: KubeObject, nodeSet: NodeSet): KubeObject {
  const name = es.metadata.name!;
  const sts = `${name}-es-${nodeSet.name}`;
  const image = esImage(es);
  const selector = { [ES_CLUSTER]: name, [ES_STS]: sts };
  const roles = Object.fromEntries(['master', 'data', 'ingest', 'ml', 'transform', 'remote_cluster_client'].map((r) => [`elasticsearch.k8s.elastic.co/node-${r}`, 'true']));
  const template = nodeSet.podTemplate;
  const small = { limits: { cpu: '100m', memory: '50Mi' }, requests: { cpu: '100m', memory: '50Mi' } };
  const fieldEnv = (n: string, fieldPath: string): Record<string, unknown> => ({ name: n, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
  const main: Container = {
    name: 'elasticsearch',
    image,
    env: [
      fieldEnv('POD_IP', 'status.podIP'),
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('NODE_NAME', 'spec.nodeName'),
      fieldEnv('NAMESPACE', 'metadata.namespace'),
      { name: 'PROBE_PASSWORD_PATH', value: '/mnt/elastic-internal/probe-user/elastic-internal-probe' },
      { name: 'PROBE_USERNAME', value: 'elastic-internal-probe' },
      { name: 'READINESS_PROBE_PROTOCOL', value: 'https' },
      { name: 'HEADLESS_SERVICE_NAME', value: sts },
    ] as { name: string }[],
    ports: [
      { name: 'https', containerPort: 9200, protocol: 'TCP' },
      { name: 'transport', containerPort: 9300, protocol: 'TCP' },
    ],
    // ECK's defaults when the podTemplate sets none (FACTS: "ES 2 Gi memory").
    resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
    readinessProbe: { exec: { command: ['bash', '-c', '/mnt/elastic-internal/scripts/readiness-port-script.sh'] }, failureThreshold: 3, initialDelaySeconds: 10, periodSeconds: 5, successThreshold: 1, timeoutSeconds: 5 },
  };
  const userSpec = { ...(template?.spec ?? {}) } as Record<string, unknown>;
  delete userSpec.containers;
  delete userSpec.initContainers;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: sts, namespace: es.metadata.namespace, labels: { [ES_TYPE]: 'elasticsearch', ...selector }, ownerReferences: [controllerRef(es)] },
    spec: {
      replicas: nodeSet.count ?? 1,
      serviceName: sts,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...(template?.metadata?.labels ?? {}), [ES_TYPE]: 'elasticsearch', ...selector, ...roles, 'elasticsearch.k8s.elastic.co/http-scheme': 'https', 'elasticsearch.k8s.elastic.co/version': String(es.spec?.version ?? '') },
          annotations: { ...(template?.metadata?.annotations ?? {}), 'elasticsearch.k8s.elastic.co/config-hash': String(configHash(nodeSet.config)) },
        },
        spec: {
          terminationGracePeriodSeconds: 180,
          automountServiceAccountToken: false,
          ...userSpec,
          initContainers: [
            { name: 'elastic-internal-init-filesystem', image, command: ['bash', '-c', '/mnt/elastic-internal/scripts/prepare-fs.sh'], resources: small },
            { name: 'elastic-internal-suspend', image, command: ['bash', '-c', '/mnt/elastic-internal/scripts/suspend.sh'], resources: small },
            ...((template?.spec?.initContainers ?? []) as Container[]),
          ],
          containers: containers([main], template),
        },
      },
      volumeClaimTemplates: nodeSet.volumeClaimTemplates ?? [
        { metadata: { name: 'elasticsearch-data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

function configHash(config: unknown): number {
  let h = 0;
  for (const ch of JSON.stringify(config ?? {})) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h;
}

export function kibanaObjects(kb: KubeObject, esUrl: string | undefined): KubeObject[] {
  const name = kb.metadata.name!;
  const image = kibanaImage(kb);
  const selector = { [KB_NAME]: name };
  const labels = { [ES_TYPE]: 'kibana', ...selector };
  const template = kb.spec?.podTemplate as KubeObject | undefined;
  const config = [`server.name: ${name}`, 'server.host: "0.0.0.0"', 'server.ssl.enabled: true', ...(esUrl ? [`elasticsearch.hosts: ["${esUrl}"]`] : [])].join('\n');
  const userSpec = { ...(template?.spec ?? {}) } as Record<string, unknown>;
  delete userSpec.containers;
  const main: Container = {
    name: 'kibana',
    image,
    ports: [{ name: 'https', containerPort: 5601, protocol: 'TCP' }],
    // ECK's default when the podTemplate sets none (FACTS: "Kibana 1 Gi").
    resources: { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/login', port: 5601, scheme: 'HTTPS' }, failureThreshold: 3, initialDelaySeconds: 10, periodSeconds: 10, successThreshold: 1, timeoutSeconds: 5 },
  };
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-kb-config`, namespace: kb.metadata.namespace, labels, ownerReferences: [controllerRef(kb)] },
      type: 'Opaque',
      data: { 'kibana.yml': Buffer.from(config).toString('base64') },
    },
    service(kb, `${name}-kb-http`, labels, labels, [{ name: 'https', port: 5601, protocol: 'TCP', targetPort: 5601 }]),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${name}-kb`, namespace: kb.metadata.namespace, labels, ownerReferences: [controllerRef(kb)] },
      spec: {
        replicas: (kb.spec?.count as number | undefined) ?? 1,
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: { ...(template?.metadata?.labels ?? {}), ...labels, 'kibana.k8s.elastic.co/version': String(kb.spec?.version ?? '') },
            annotations: { ...(template?.metadata?.annotations ?? {}), 'kibana.k8s.elastic.co/config-hash': String(configHash(config)) },
          },
          spec: { automountServiceAccountToken: false, ...userSpec, containers: containers([main], template) },
        },
      },
    },
  ];
}
