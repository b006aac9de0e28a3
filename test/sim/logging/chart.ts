// kube-logging/logging-operator's chart (oci://ghcr.io/kube-logging/helm-charts/logging-operator),
// as 6.x renders it: a Deployment, its ServiceAccount, a ClusterRole/ClusterRoleBinding and a
// headless Service, all named by the chart's fullname (`logging-operator` for a release of that
// name). CRDs sit in the chart's crds/ directory (the real schemas; `helm show crds` prints them).
// The optional in-chart Logging (`logging.enabled`) and test receiver are left out.
import type { KubeObject } from '../api-client.ts';
import type { Values } from '../tools/helm-values.ts';
import { type ChartRecipe, compact, fullname, get, list, map, referenceCrdFiles, referenceCrds } from '../tools/chart-kit.ts';

const defaults: Values = {
  replicaCount: 1,
  image: { repository: 'ghcr.io/kube-logging/logging-operator', tag: '', pullPolicy: 'IfNotPresent' },
  env: [],
  volumes: [],
  volumeMounts: [],
  extraArgs: ['-enable-leader-election=true'],
  imagePullSecrets: [],
  nameOverride: '',
  fullnameOverride: '',
  namespaceOverride: '',
  annotations: {},
  podLabels: {},
  resources: {},
  nodeSelector: {},
  tolerations: [],
  affinity: {},
  podSecurityContext: {},
  securityContext: {},
  http: { port: 8080, service: { type: 'ClusterIP', clusterIP: 'None', annotations: {}, labels: {} } },
  rbac: { enabled: true, retainOnDelete: false },
  serviceAccount: { annotations: {} },
  monitoring: { serviceMonitor: { enabled: false } },
  watchNamespace: '',
  watchLoggingName: '',
  logging: { enabled: false },
  testReceiver: { enabled: false },
};

const ALL = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

const RULES = [
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'serviceaccounts', 'services', 'persistentvolumeclaims'], verbs: ALL },
  { apiGroups: [''], resources: ['endpoints', 'namespaces', 'nodes', 'nodes/proxy', 'pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: ALL },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ALL },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ALL },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles'], verbs: ALL },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ALL },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ALL },
  { apiGroups: ['monitoring.coreos.com'], resources: ['prometheusrules', 'servicemonitors'], verbs: ALL },
  {
    apiGroups: ['logging.banzaicloud.io'],
    resources: ['clusterflows', 'clusteroutputs', 'flows', 'fluentbitagents', 'fluentdconfigs', 'loggings', 'nodeagents', 'outputs', 'syslogngclusterflows', 'syslogngclusteroutputs', 'syslogngconfigs', 'syslogngflows', 'syslogngoutputs', 'loggingroutes'],
    verbs: ALL,
  },
  {
    apiGroups: ['logging.banzaicloud.io'],
    resources: ['clusterflows/status', 'clusteroutputs/status', 'flows/status', 'fluentbitagents/status', 'fluentdconfigs/status', 'loggings/status', 'outputs/status', 'syslogngclusterflows/status', 'syslogngclusteroutputs/status', 'syslogngconfigs/status', 'syslogngflows/status', 'syslogngoutputs/status', 'loggingroutes/status'],
    verbs: ['get', 'patch', 'update'],
  },
  { apiGroups: ['logging-extensions.banzaicloud.io'], resources: ['eventtailers', 'hosttailers'], verbs: ALL },
];

export const loggingOperator: ChartRecipe = {
  name: 'logging-operator',
  description: 'Logging operator for Kubernetes based on Fluentd and Fluent-bit.',
  versions: ['6.7.0', '6.6.1', '6.5.0', '5.4.0'],
  appVersion: (version) => version,
  sources: [/^oci:\/\/ghcr\.io\/kube-logging\/helm-charts\/logging-operator(:|$)/, /^https:\/\/kube-logging\.github\.io\/helm-charts\/?$/],
  defaults,
  crds: () => referenceCrds('logging-'),
  crdFiles: () => referenceCrdFiles('logging-'),
  render(values, release, chart) {
    const name = fullname(release, chart, values);
    const ns = get(values, 'namespaceOverride', '') || release.namespace;
    const appName = (get(values, 'nameOverride', '') || chart.name).slice(0, 63);
    const selector = { 'app.kubernetes.io/name': appName, 'app.kubernetes.io/instance': release.name };
    const labels = { 'app.kubernetes.io/name': appName, 'helm.sh/chart': `${chart.name}-${chart.version}`, 'app.kubernetes.io/instance': release.name, 'app.kubernetes.io/version': chart.appVersion, 'app.kubernetes.io/managed-by': 'Helm' };
    const rbac = get(values, 'rbac.enabled', true);
    const port = get(values, 'http.port', 8080);
    const env = list(values, 'env');
    const args = [...list<string>(values, 'extraArgs')];
    if (get(values, 'watchNamespace', '')) args.push(`-watch-namespace=${get(values, 'watchNamespace', '')}`);
    if (get(values, 'watchLoggingName', '')) args.push(`-watch-logging-name=${get(values, 'watchLoggingName', '')}`);
    const nonEmpty = (m: Record<string, unknown>): Record<string, string> | undefined => (Object.keys(m).length ? (m as Record<string, string>) : undefined);
    const objects: KubeObject[] = [];
    if (rbac) {
      const saAnnotations = { ...(get(values, 'rbac.retainOnDelete', false) ? { 'helm.sh/resource-policy': 'keep' } : {}), ...map(values, 'serviceAccount.annotations') };
      objects.push(
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: compact({ name, namespace: ns, labels, annotations: nonEmpty(saAnnotations) }) },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: RULES },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name, labels },
          subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        },
      );
    }
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns, labels },
        spec: compact({ type: 'ClusterIP', clusterIP: get(values, 'http.service.clusterIP', undefined) || undefined, ports: [{ port, targetPort: 'http', protocol: 'TCP', name: 'http' }], selector }),
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns, labels },
        spec: {
          replicas: get(values, 'replicaCount', 1),
          selector: { matchLabels: selector },
          template: {
            metadata: compact({ labels: { ...selector, ...(map(values, 'podLabels') as Record<string, string>) }, annotations: nonEmpty(map(values, 'annotations')) }),
            spec: compact({
              containers: [compact({
                name: chart.name,
                image: `${get(values, 'image.repository', '')}:${get(values, 'image.tag', '') || chart.appVersion}`,
                args,
                imagePullPolicy: get(values, 'image.pullPolicy', 'IfNotPresent'),
                resources: map(values, 'resources'),
                ports: [{ name: 'http', containerPort: port }],
                env: env.length ? env : undefined,
                securityContext: nonEmpty(map(values, 'securityContext')),
                volumeMounts: list(values, 'volumeMounts').length ? list(values, 'volumeMounts') : undefined,
              })],
              volumes: list(values, 'volumes').length ? list(values, 'volumes') : undefined,
              securityContext: nonEmpty(map(values, 'podSecurityContext')),
              nodeSelector: nonEmpty(map(values, 'nodeSelector')),
              tolerations: list(values, 'tolerations').length ? list(values, 'tolerations') : undefined,
              serviceAccountName: rbac ? name : undefined,
            }),
          },
        },
      },
    );
    return objects;
  },
};
