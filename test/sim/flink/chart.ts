// apache/flink-kubernetes-operator's chart (helm/flink-kubernetes-operator), as release 1.15.0
// publishes it under https://downloads.apache.org/flink/flink-kubernetes-operator-<V>/ (only
// the newest release) and https://archive.apache.org/dist/flink/flink-kubernetes-operator-<V>/
// (every release). What it renders and where matters to the sandbox:
//  - the job ServiceAccount `flink` (+ Role/RoleBinding `flink`/`flink-role-binding`) exists
//    ONLY in each watchNamespaces entry, or in the release namespace when the list is unset;
//  - the webhook (Service flink-operator-webhook-service, both webhook configurations) needs a
//    cert-manager Certificate, so installing it before cert-manager's CRDs fails like helm;
//  - ConfigMap flink-operator-config carries flink-conf.yaml: the chart's built-in defaults
//    (when defaultConfiguration.append), then the user's text, then the watched namespaces.
// The operator image's tag in published charts is a commit id; the simulation uses the
// release version (the same image is also tagged with it).
import type { KubeObject } from '../api-client.ts';
import type { Values } from '../tools/helm-values.ts';
import { type ChartRecipe, compact, get, list, map, referenceCrdFiles, referenceCrds } from '../tools/chart-kit.ts';
import { flinkRbac } from './chart-rbac.ts';

// The chart's conf/flink-conf.yaml, which `append: true` puts first (operator keys commented out).
const BUILTIN_CONF = `# Flink job/cluster related configs
taskmanager.numberOfTaskSlots: 2
parallelism.default: 2

# Flink operator related configs
# kubernetes.operator.reconcile.interval: 60 s
# kubernetes.operator.watched.namespaces: ns1,ns2
`;
const BUILTIN_LOG4J_OPERATOR = 'rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\n';
const BUILTIN_LOG4J_CONSOLE = 'rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\n';

const defaults: Values = {
  image: { repository: 'ghcr.io/apache/flink-kubernetes-operator', pullPolicy: 'IfNotPresent', tag: '' },
  imagePullSecrets: [],
  replicas: 1,
  strategy: { type: 'Recreate' },
  rbac: {
    create: true,
    nodesRule: { create: false },
    operatorRole: { create: true, name: 'flink-operator' },
    operatorRoleBinding: { create: true, name: 'flink-operator-role-binding' },
    jobRole: { create: true, name: 'flink' },
    jobRoleBinding: { create: true, name: 'flink-role-binding' },
  },
  operatorPod: { annotations: {}, labels: {}, nodeSelector: {}, affinity: {}, tolerations: [], topologySpreadConstraints: [], resources: {}, webhook: { resources: {}, container: {} } },
  operatorServiceAccount: { create: true, annotations: {}, name: 'flink-operator' },
  jobServiceAccount: { create: true, annotations: { 'helm.sh/resource-policy': 'keep' }, name: 'flink' },
  operatorVolumeMounts: { create: false, data: [{ name: 'flink-artifacts', mountPath: '/opt/flink/artifacts' }] },
  operatorVolumes: { create: false, data: [{ name: 'flink-artifacts', hostPath: { path: '/tmp/flink/artifacts', type: 'DirectoryOrCreate' } }] },
  podSecurityContext: { runAsUser: 9999, runAsGroup: 9999 },
  operatorSecurityContext: {},
  webhookSecurityContext: {},
  webhook: { create: true, keystore: { useDefaultPassword: true } },
  defaultConfiguration: {
    create: true,
    append: true,
    'flink-conf.yaml': '# Flink Config Overrides\nkubernetes.operator.metrics.reporter.slf4j.factory.class: org.apache.flink.metrics.slf4j.Slf4jReporterFactory\nkubernetes.operator.metrics.reporter.slf4j.interval: 5 MINUTE\n\nkubernetes.operator.reconcile.interval: 15 s\nkubernetes.operator.observer.progress-check.interval: 5 s\n',
    'log4j-operator.properties': '# Flink Operator Logging Overrides\n# rootLogger.level = DEBUG\n',
    'log4j-console.properties': '# Flink Deployment Logging Overrides\n# rootLogger.level = DEBUG\n',
  },
  metrics: {},
  nameOverride: '',
  fullnameOverride: '',
  jvmArgs: { webhook: '', operator: '', logConfig: '-Dlog4j.configurationFile=/opt/flink/conf/log4j-operator.properties' },
  operatorHealth: { port: 8085, livenessProbe: { periodSeconds: 10, initialDelaySeconds: 30 }, startupProbe: { failureThreshold: 30, periodSeconds: 10 } },
  postStart: {},
  tls: { create: false, secretName: 'flink-operator-cert', secretKeyRef: { name: 'operator-certificate-password', key: 'password' } },
};

export interface FlinkChartCtx {
  values: Values;
  ns: string;
  name: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  /** watchNamespaces, possibly empty (= all namespaces). */
  watched: string[];
}

function webhookEnabled(values: Values, which?: 'validator' | 'mutator'): boolean {
  const kinds = which ? [which] : (['validator', 'mutator'] as const);
  return kinds.some((k) => {
    const own = map(values, `webhook.${k}`);
    return 'create' in own ? own.create === true : get(values, 'webhook.create', true) === true;
  });
}

function configMap(c: FlinkChartCtx): KubeObject {
  const append = get(c.values, 'defaultConfiguration.append', true);
  const part = (key: string, builtin: string): string => {
    const own = map(c.values, 'defaultConfiguration')[key];
    return [append ? builtin : '', typeof own === 'string' ? own : ''].filter(Boolean).map((t) => t.replace(/\n*$/, '\n')).join('');
  };
  let conf = part('flink-conf.yaml', BUILTIN_CONF);
  if (c.watched.length) conf += `kubernetes.operator.watched.namespaces: ${c.watched.join(',')}\n`;
  const health = map(c.values, 'operatorHealth');
  if (Object.keys(health).length) conf += `kubernetes.operator.health.probe.enabled: true\nkubernetes.operator.health.probe.port: ${get(c.values, 'operatorHealth.port', 8085)}\n`;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'flink-operator-config', namespace: c.ns, labels: c.labels },
    data: {
      'flink-conf.yaml': conf,
      'log4j-operator.properties': part('log4j-operator.properties', BUILTIN_LOG4J_OPERATOR),
      'log4j-console.properties': part('log4j-console.properties', BUILTIN_LOG4J_CONSOLE),
    },
  };
}

function imagePath(values: Values, appVersion: string): string {
  const repo = get(values, 'image.repository', 'ghcr.io/apache/flink-kubernetes-operator');
  const digest = get(values, 'image.digest', '');
  return digest ? `${repo}@${digest}` : `${repo}:${get(values, 'image.tag', '') || appVersion}`;
}

function deployment(c: FlinkChartCtx, appVersion: string, chartName: string): KubeObject {
  const v = c.values;
  const image = imagePath(v, appVersion);
  const pullPolicy = get(v, 'image.pullPolicy', 'IfNotPresent');
  const logConfig = get(v, 'jvmArgs.logConfig', '-Dlog4j.configurationFile=/opt/flink/conf/log4j-operator.properties');
  const fieldEnv = (name: string, fieldPath: string): Record<string, unknown> => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const healthPort = get<number | undefined>(v, 'operatorHealth.port', undefined);
  const probe = (key: string): Record<string, unknown> | undefined => {
    const p = map(v, `operatorHealth.${key}`);
    return healthPort && Object.keys(p).length ? { ...p, httpGet: { path: '/', port: 'health-port' } } : undefined;
  };
  const operator = compact({
    name: chartName,
    image,
    imagePullPolicy: pullPolicy,
    command: ['/docker-entrypoint.sh', 'operator'],
    ports: [
      ...(get(v, 'metrics.port', undefined) ? [{ containerPort: get(v, 'metrics.port', 0), name: 'metrics', protocol: 'TCP' }] : []),
      ...(healthPort ? [{ containerPort: healthPort, name: 'health-port', protocol: 'TCP' }] : []),
    ],
    env: [
      fieldEnv('OPERATOR_NAMESPACE', 'metadata.namespace'),
      fieldEnv('HOST_IP', 'status.hostIP'),
      fieldEnv('POD_IP', 'status.podIP'),
      fieldEnv('POD_NAME', 'metadata.name'),
      { name: 'OPERATOR_NAME', value: c.name },
      { name: 'OPERATOR_IMAGE', value: image },
      { name: 'FLINK_CONF_DIR', value: '/opt/flink/conf' },
      { name: 'FLINK_PLUGINS_DIR', value: '/opt/flink/plugins' },
      { name: 'LOG_CONFIG', value: logConfig },
      { name: 'JVM_ARGS', value: get(v, 'jvmArgs.operator', '') },
      // Not in the real chart (the operator reads kubernetes.operator.watched.namespaces from
      // flink-conf.yaml above): the simulated Flink operator reads the same list from here.
      { name: 'WATCH_NAMESPACES', value: c.watched.join(',') },
      ...list(v, 'operatorPod.env'),
    ],
    resources: map(v, 'operatorPod.resources'),
    securityContext: map(v, 'operatorSecurityContext'),
    volumeMounts: [
      { name: 'flink-operator-config-volume', mountPath: '/opt/flink/conf' },
      ...(get(v, 'operatorVolumeMounts.create', false) ? list(v, 'operatorVolumeMounts.data') : [{ name: 'flink-artifacts-volume', mountPath: '/opt/flink/artifacts' }]),
    ],
    livenessProbe: probe('livenessProbe'),
    startupProbe: probe('startupProbe'),
  });
  const webhook = webhookEnabled(v)
    ? {
        name: 'flink-webhook',
        image,
        imagePullPolicy: pullPolicy,
        command: ['/docker-entrypoint.sh', 'webhook'],
        env: [
          {
            name: 'WEBHOOK_KEYSTORE_PASSWORD',
            valueFrom: { secretKeyRef: get(v, 'webhook.keystore.useDefaultPassword', true) ? { name: 'flink-operator-webhook-secret', key: 'password' } : map(v, 'webhook.keystore.passwordSecretRef') },
          },
          { name: 'WEBHOOK_KEYSTORE_FILE', value: '/certs/keystore.p12' },
          { name: 'WEBHOOK_KEYSTORE_TYPE', value: 'pkcs12' },
          { name: 'WEBHOOK_SERVER_PORT', value: '9443' },
          { name: 'LOG_CONFIG', value: logConfig },
          { name: 'JVM_ARGS', value: get(v, 'jvmArgs.webhook', '') },
          { name: 'FLINK_CONF_DIR', value: '/opt/flink/conf' },
          { name: 'FLINK_PLUGINS_DIR', value: '/opt/flink/plugins' },
          fieldEnv('OPERATOR_NAMESPACE', 'metadata.namespace'),
          ...list(v, 'operatorPod.webhook.container.env'),
        ],
        resources: map(v, 'operatorPod.webhook.resources'),
        securityContext: map(v, 'webhookSecurityContext'),
        volumeMounts: [
          { name: 'keystore', mountPath: '/certs', readOnly: true },
          { name: 'flink-operator-config-volume', mountPath: '/opt/flink/conf' },
        ],
      }
    : undefined;
  const podLabels = map(v, 'operatorPod.labels') as Record<string, string>;
  const nodeSelector = map(v, 'operatorPod.nodeSelector');
  const tolerations = list(v, 'operatorPod.tolerations');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: c.name, namespace: c.ns, labels: { ...c.labels, ...podLabels } },
    spec: {
      replicas: get(v, 'replicas', 1),
      strategy: map(v, 'strategy'),
      selector: { matchLabels: c.selector },
      template: {
        metadata: {
          labels: { ...c.selector, ...podLabels },
          annotations: { 'kubectl.kubernetes.io/default-container': chartName, ...(map(v, 'operatorPod.annotations') as Record<string, string>) },
        },
        spec: compact({
          securityContext: map(v, 'podSecurityContext'),
          nodeSelector: Object.keys(nodeSelector).length ? nodeSelector : undefined,
          tolerations: tolerations.length ? tolerations : undefined,
          serviceAccountName: get(v, 'operatorServiceAccount.create', true) ? get(v, 'operatorServiceAccount.name', '') || c.name : get(v, 'operatorServiceAccount.name', '') || 'default',
          containers: webhook ? [operator, webhook] : [operator],
          volumes: [
            {
              name: 'flink-operator-config-volume',
              configMap: {
                name: 'flink-operator-config',
                items: ['flink-conf.yaml', 'log4j-operator.properties', 'log4j-console.properties'].map((k) => ({ key: k, path: k })),
              },
            },
            ...(get(v, 'operatorVolumes.create', false) ? list(v, 'operatorVolumes.data') : [{ name: 'flink-artifacts-volume', emptyDir: {} }]),
            ...(webhook ? [{ name: 'keystore', secret: { secretName: 'webhook-server-cert', items: [{ key: 'keystore.p12', path: 'keystore.p12' }] } }] : []),
          ],
        }),
      },
    },
  };
}

function webhookObjects(c: FlinkChartCtx): KubeObject[] {
  if (!webhookEnabled(c.values)) return [];
  const out: KubeObject[] = [];
  if (get(c.values, 'webhook.keystore.useDefaultPassword', true)) {
    out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'flink-operator-webhook-secret', namespace: c.ns }, type: 'Opaque', data: { password: Buffer.from('password1234').toString('base64') } });
  }
  out.push(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'flink-operator-webhook-service', namespace: c.ns }, spec: { ports: [{ port: 443, targetPort: 9443 }], selector: c.selector } },
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'flink-operator-selfsigned-issuer', namespace: c.ns }, spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'flink-operator-serving-cert', namespace: c.ns },
      spec: {
        dnsNames: [`flink-operator-webhook-service.${c.ns}.svc`, `flink-operator-webhook-service.${c.ns}.svc.cluster.local`],
        keystores: { pkcs12: { create: true, passwordSecretRef: get(c.values, 'webhook.keystore.useDefaultPassword', true) ? { name: 'flink-operator-webhook-secret', key: 'password' } : map(c.values, 'webhook.keystore.passwordSecretRef') } },
        issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'flink-operator-selfsigned-issuer' },
        commonName: 'FlinkDeployment Validator',
        secretName: 'webhook-server-cert',
      },
    },
  );
  const namespaceSelector = c.watched.length ? { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: c.watched }] } : undefined;
  const hook = (kind: string, name: string, path: string, resources: string[]): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: `flink-operator-${c.ns}-webhook-configuration`, annotations: { 'cert-manager.io/inject-ca-from': `${c.ns}/flink-operator-serving-cert` } },
    webhooks: [compact({
      name,
      admissionReviewVersions: ['v1'],
      clientConfig: { service: { name: 'flink-operator-webhook-service', namespace: c.ns, path } },
      failurePolicy: 'Fail',
      rules: [{ apiGroups: ['flink.apache.org'], apiVersions: ['*'], scope: 'Namespaced', operations: ['CREATE', 'UPDATE'], resources }],
      sideEffects: 'None',
      namespaceSelector,
    })],
  });
  if (webhookEnabled(c.values, 'validator')) out.push(hook('ValidatingWebhookConfiguration', 'validationwebhook.flink.apache.org', '/validate', ['flinkdeployments', 'flinksessionjobs', 'flinkstatesnapshots']));
  if (webhookEnabled(c.values, 'mutator')) out.push(hook('MutatingWebhookConfiguration', 'mutationwebhook.flink.apache.org', '/mutate', ['flinksessionjobs', 'flinkdeployments']));
  return out;
}

const VERSIONS = ['1.15.0', '1.14.0', '1.13.0', '1.12.1'];

export const flinkOperator: ChartRecipe = {
  name: 'flink-kubernetes-operator',
  description: 'A Helm chart for the Apache Flink Kubernetes Operator',
  versions: VERSIONS,
  appVersion: (version) => version,
  sources: [
    /^https:\/\/downloads\.apache\.org\/flink\/flink-kubernetes-operator-\d+\.\d+\.\d+\/(flink-kubernetes-operator-\d+\.\d+\.\d+-helm\.tgz)?$/,
    /^https:\/\/archive\.apache\.org\/dist\/flink\/flink-kubernetes-operator-\d+\.\d+\.\d+\/(flink-kubernetes-operator-\d+\.\d+\.\d+-helm\.tgz)?$/,
  ],
  versionsAt(source) {
    // One directory per release; downloads.apache.org keeps only the newest release.
    const v = /flink-kubernetes-operator-(\d+\.\d+\.\d+)\//.exec(source)?.[1];
    if (!v || !VERSIONS.includes(v)) return [];
    return source.includes('downloads.apache.org') && v !== VERSIONS[0] ? [] : [v];
  },
  defaults,
  crds: () => referenceCrds('flink-'),
  crdFiles: () => referenceCrdFiles('flink-'),
  render(values, release, chart) {
    const name = (get(values, 'nameOverride', '') || chart.name).slice(0, 63).replace(/-$/, '');
    const selector = { 'app.kubernetes.io/name': name };
    const labels = { ...selector, 'app.kubernetes.io/version': chart.appVersion, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${chart.name}-${chart.version}` };
    const c: FlinkChartCtx = { values, ns: release.namespace, name, labels, selector, watched: list<string>(values, 'watchNamespaces').map(String) };
    return [
      ...flinkRbac(c),
      ...(get(values, 'defaultConfiguration.create', true) ? [configMap(c)] : []),
      ...webhookObjects(c),
      deployment(c, chart.appVersion, chart.name),
    ];
  },
};
