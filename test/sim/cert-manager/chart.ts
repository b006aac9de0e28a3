// jetstack/cert-manager (charts.jetstack.io, also oci://quay.io/jetstack/charts/cert-manager):
// the controller, cainjector and webhook Deployments with their ServiceAccounts, Services,
// RBAC and the two webhook configurations named `cert-manager-webhook`, as chart v1.21 renders
// them. With `crds.enabled=true` (or the deprecated `installCRDs=true`) the CRDs come from
// the chart's TEMPLATES (not crds/), so they are part of the release; `crds.keep` (default
// true) marks them helm.sh/resource-policy: keep. The startupapicheck Job is a Helm hook and
// is left out (the fake helm runs no hooks).
import type { KubeObject } from '../api-client.ts';
import type { Values } from '../tools/helm-values.ts';
import { ACME, CM, CONTAINER_SECURITY, RUN_AS_NON_ROOT, type Component, type Ctx, image, labels, name, selector, serviceAccount, v } from './chart-parts.ts';
import { rbac } from './chart-rbac.ts';
import { type ChartRecipe, compact, fullname, get, map, referenceCrds } from '../tools/chart-kit.ts';

const defaults: Values = {
  global: { imagePullSecrets: [], commonLabels: {}, priorityClassName: '', logLevel: 2, leaderElection: { namespace: 'kube-system' } },
  installCRDs: false,
  crds: { enabled: false, keep: true },
  replicaCount: 1,
  namespace: '',
  fullnameOverride: '',
  nameOverride: '',
  image: { repository: 'quay.io/jetstack/cert-manager-controller', tag: '', pullPolicy: 'IfNotPresent' },
  clusterResourceNamespace: '',
  serviceAccount: { create: true, name: '', automountServiceAccountToken: true },
  extraArgs: [],
  extraEnv: [],
  resources: {},
  securityContext: RUN_AS_NON_ROOT,
  containerSecurityContext: CONTAINER_SECURITY,
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [],
  podLabels: {},
  enableServiceLinks: false,
  maxConcurrentChallenges: 60,
  prometheus: { enabled: true },
  webhook: {
    replicaCount: 1,
    timeoutSeconds: 30,
    securePort: 10250,
    hostNetwork: false,
    serviceType: 'ClusterIP',
    image: { repository: 'quay.io/jetstack/cert-manager-webhook', tag: '', pullPolicy: 'IfNotPresent' },
    serviceAccount: { create: true, name: '', automountServiceAccountToken: true },
    extraArgs: [],
    resources: {},
    securityContext: RUN_AS_NON_ROOT,
    containerSecurityContext: CONTAINER_SECURITY,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [],
    podLabels: {},
    livenessProbe: { failureThreshold: 3, initialDelaySeconds: 60, periodSeconds: 10, successThreshold: 1, timeoutSeconds: 1 },
    readinessProbe: { failureThreshold: 3, initialDelaySeconds: 5, periodSeconds: 5, successThreshold: 1, timeoutSeconds: 1 },
    validatingWebhookConfiguration: {
      namespaceSelector: { matchExpressions: [{ key: 'cert-manager.io/disable-validation', operator: 'NotIn', values: ['true'] }] },
    },
    mutatingWebhookConfiguration: { namespaceSelector: {} },
    enableServiceLinks: false,
  },
  cainjector: {
    enabled: true,
    replicaCount: 1,
    image: { repository: 'quay.io/jetstack/cert-manager-cainjector', tag: '', pullPolicy: 'IfNotPresent' },
    serviceAccount: { create: true, name: '', automountServiceAccountToken: true },
    extraArgs: [],
    resources: {},
    securityContext: RUN_AS_NON_ROOT,
    containerSecurityContext: CONTAINER_SECURITY,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [],
    podLabels: {},
    enableServiceLinks: false,
  },
  acmesolver: { image: { repository: 'quay.io/jetstack/cert-manager-acmesolver', tag: '', pullPolicy: 'IfNotPresent' } },
  startupapicheck: { enabled: true },
};

function deployment(c: Ctx, component: Component, args: string[], ports: Record<string, unknown>[], probes: Record<string, unknown>): KubeObject {
  const nodeSelector = { ...map(c.values, 'global.nodeSelector'), ...(v(c, component, 'nodeSelector', {}) as Record<string, string>) };
  const priorityClassName = get(c.values, 'global.priorityClassName', '');
  const tolerations = v<unknown[]>(c, component, 'tolerations', []);
  const resources = v<Record<string, unknown>>(c, component, 'resources', {});
  const extraEnv = v<unknown[]>(c, component, 'extraEnv', []);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name(c, component), namespace: c.ns, labels: labels(c, component) },
    spec: {
      replicas: v(c, component, 'replicaCount', 1),
      selector: { matchLabels: selector(c, component) },
      template: {
        metadata: {
          labels: { ...labels(c, component), ...(v(c, component, 'podLabels', {}) as Record<string, string>) },
          ...(get(c.values, 'prometheus.enabled', true) && component !== 'webhook'
            ? { annotations: { 'prometheus.io/path': '/metrics', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9402' } }
            : {}),
        },
        spec: compact({
          serviceAccountName: serviceAccount(c, component),
          enableServiceLinks: v(c, component, 'enableServiceLinks', false),
          priorityClassName: priorityClassName || undefined,
          securityContext: v(c, component, 'securityContext', RUN_AS_NON_ROOT),
          hostNetwork: component === 'webhook' && get(c.values, 'webhook.hostNetwork', false) ? true : undefined,
          containers: [
            compact({
              name: `${c.chart.name}-${component}`,
              image: image(c, component === 'controller' ? 'image' : `${component}.image`),
              imagePullPolicy: v(c, component, 'image.pullPolicy', 'IfNotPresent'),
              args: [...args, ...v<string[]>(c, component, 'extraArgs', [])],
              ports,
              ...probes,
              securityContext: v(c, component, 'containerSecurityContext', CONTAINER_SECURITY),
              env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }, ...extraEnv],
              resources: Object.keys(resources).length ? resources : undefined,
            }),
          ],
          nodeSelector: Object.keys(nodeSelector).length ? nodeSelector : undefined,
          tolerations: tolerations.length ? tolerations : undefined,
        }),
      },
    },
  };
}

function controllerObjects(c: Ctx): KubeObject[] {
  const leaderNs = get(c.values, 'global.leaderElection.namespace', 'kube-system');
  const metrics = get(c.values, 'prometheus.enabled', true);
  const args = [
    `--v=${get(c.values, 'global.logLevel', 2)}`,
    `--cluster-resource-namespace=${get(c.values, 'clusterResourceNamespace', '') || '$(POD_NAMESPACE)'}`,
    `--leader-election-namespace=${leaderNs}`,
    `--acme-http01-solver-image=${image(c, 'acmesolver.image')}`,
    `--max-concurrent-challenges=${get(c.values, 'maxConcurrentChallenges', 60)}`,
  ];
  const ports = [
    ...(metrics ? [{ containerPort: 9402, name: 'http-metrics', protocol: 'TCP' }] : []),
    { containerPort: 9403, name: 'http-healthz', protocol: 'TCP' },
  ];
  const liveness = { livenessProbe: { httpGet: { port: 'http-healthz', path: '/livez', scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, successThreshold: 1, failureThreshold: 8 } };
  return [
    deployment(c, 'controller', args, ports, liveness),
    ...(metrics
      ? [{
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: name(c, 'controller'), namespace: c.ns, labels: labels(c, 'controller') },
          spec: { type: 'ClusterIP', ports: [{ protocol: 'TCP', port: 9402, name: 'tcp-prometheus-servicemonitor', targetPort: 'http-metrics' }], selector: selector(c, 'controller') },
        }]
      : []),
  ];
}

function cainjectorObjects(c: Ctx): KubeObject[] {
  if (!get(c.values, 'cainjector.enabled', true)) return [];
  const args = [`--v=${get(c.values, 'global.logLevel', 2)}`, `--leader-election-namespace=${get(c.values, 'global.leaderElection.namespace', 'kube-system')}`];
  const metrics = get(c.values, 'prometheus.enabled', true);
  return [
    deployment(c, 'cainjector', args, metrics ? [{ containerPort: 9402, name: 'http-metrics', protocol: 'TCP' }] : [], {}),
    ...(metrics
      ? [{
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: name(c, 'cainjector'), namespace: c.ns, labels: labels(c, 'cainjector') },
          spec: { type: 'ClusterIP', ports: [{ protocol: 'TCP', port: 9402, name: 'http-metrics' }], selector: selector(c, 'cainjector') },
        }]
      : []),
  ];
}

function webhookObjects(c: Ctx): KubeObject[] {
  const wh = name(c, 'webhook');
  const port = get(c.values, 'webhook.securePort', 10250);
  const metrics = get(c.values, 'prometheus.enabled', true);
  const args = [
    `--v=${get(c.values, 'global.logLevel', 2)}`,
    `--secure-port=${port}`,
    '--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)',
    `--dynamic-serving-ca-secret-name=${wh}-ca`,
    `--dynamic-serving-dns-names=${wh},${wh}.$(POD_NAMESPACE),${wh}.$(POD_NAMESPACE).svc`,
  ];
  const ports = [
    { name: 'https', protocol: 'TCP', containerPort: port },
    { name: 'healthcheck', protocol: 'TCP', containerPort: 6080 },
    ...(metrics ? [{ containerPort: 9402, name: 'http-metrics', protocol: 'TCP' }] : []),
  ];
  const probes = {
    livenessProbe: { httpGet: { path: '/livez', port: 'healthcheck', scheme: 'HTTP' }, ...map(c.values, 'webhook.livenessProbe') },
    readinessProbe: { httpGet: { path: '/healthz', port: 'healthcheck', scheme: 'HTTP' }, ...map(c.values, 'webhook.readinessProbe') },
  };
  const service = (path: string): Record<string, unknown> => ({ service: { name: wh, namespace: c.ns, path } });
  const annotations = { 'cert-manager.io/inject-ca-from-secret': `${c.ns}/${wh}-ca` };
  return [
    deployment(c, 'webhook', args, ports, probes),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: wh, namespace: c.ns, labels: labels(c, 'webhook') },
      spec: {
        type: get(c.values, 'webhook.serviceType', 'ClusterIP'),
        ports: [
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' },
          ...(metrics ? [{ name: 'metrics', port: 9402, protocol: 'TCP', targetPort: 'http-metrics' }] : []),
        ],
        selector: selector(c, 'webhook'),
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: wh, labels: labels(c, 'webhook'), annotations },
      webhooks: [{
        name: 'webhook.cert-manager.io',
        rules: [{ apiGroups: CM, apiVersions: ['v1'], operations: ['CREATE'], resources: ['certificaterequests'] }],
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
        timeoutSeconds: get(c.values, 'webhook.timeoutSeconds', 30),
        failurePolicy: 'Fail',
        sideEffects: 'None',
        clientConfig: service('/mutate'),
        namespaceSelector: map(c.values, 'webhook.mutatingWebhookConfiguration.namespaceSelector'),
      }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: wh, labels: labels(c, 'webhook'), annotations },
      webhooks: [{
        name: 'webhook.cert-manager.io',
        namespaceSelector: map(c.values, 'webhook.validatingWebhookConfiguration.namespaceSelector'),
        rules: [{ apiGroups: [...CM, ...ACME], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['*/*'] }],
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
        timeoutSeconds: get(c.values, 'webhook.timeoutSeconds', 30),
        failurePolicy: 'Fail',
        sideEffects: 'None',
        clientConfig: service('/validate'),
      }],
    },
  ];
}

function serviceAccounts(c: Ctx): KubeObject[] {
  const out: KubeObject[] = [];
  for (const component of ['cainjector', 'controller', 'webhook'] as Component[]) {
    if (component === 'cainjector' && !get(c.values, 'cainjector.enabled', true)) continue;
    if (!v(c, component, 'serviceAccount.create', true)) continue;
    out.push({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      automountServiceAccountToken: v(c, component, 'serviceAccount.automountServiceAccountToken', true),
      metadata: { name: serviceAccount(c, component), namespace: c.ns, labels: labels(c, component) },
    });
  }
  return out;
}

function crdObjects(c: Ctx): KubeObject[] {
  if (!get(c.values, 'crds.enabled', false) && !get(c.values, 'installCRDs', false)) return [];
  const keep = get(c.values, 'crds.keep', true);
  return referenceCrds('certmanager-').map((crd) => {
    crd.metadata.labels = { ...(crd.metadata.labels ?? {}), app: c.chart.name, 'app.kubernetes.io/name': c.chart.name, 'app.kubernetes.io/instance': c.release.name, 'app.kubernetes.io/component': 'cert-manager', 'app.kubernetes.io/version': c.chart.appVersion, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${c.chart.name}-${c.chart.version}` };
    if (keep) crd.metadata.annotations = { ...(crd.metadata.annotations ?? {}), 'helm.sh/resource-policy': 'keep' };
    return crd;
  });
}

export const certManager: ChartRecipe = {
  name: 'cert-manager',
  description: 'A Helm chart for cert-manager',
  versions: ['v1.21.1', 'v1.21.0', 'v1.20.2', 'v1.19.4', 'v1.18.2'],
  appVersion: (version) => version,
  sources: [/^https:\/\/charts\.jetstack\.io\/?$/, /^oci:\/\/quay\.io\/jetstack\/charts\/cert-manager(:|$)/],
  defaults,
  render(values, release, chart) {
    const c: Ctx = { values, release, chart, ns: get(values, 'namespace', '') || release.namespace, base: fullname(release, chart, values) };
    return [...crdObjects(c), ...serviceAccounts(c), ...rbac(c), ...controllerObjects(c), ...cainjectorObjects(c), ...webhookObjects(c)];
  },
  notes(_values, _release, chart) {
    return `cert-manager ${chart.appVersion} has been deployed successfully!\n\nIn order to begin issuing certificates, you will need to set up a ClusterIssuer\nor Issuer resource.\n`;
  },
};
