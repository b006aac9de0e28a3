// ECK's published operator.yaml (download.elastic.co/downloads/eck/<V>/operator.yaml), as the
// eck-operator chart renders it for the all-in-one distribution: namespace elastic-system, the
// operator's ServiceAccount, webhook Secret, ConfigMap `elastic-operator` (eck.yaml), RBAC,
// Service elastic-webhook-server, StatefulSet elastic-operator and the
// ValidatingWebhookConfiguration elastic-webhook.k8s.elastic.co (failurePolicy Ignore: ECK's
// webhook being down never blocks a create).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../api-client.ts';

const NS = 'elastic-system';
const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

function eckYaml(): string {
  return [
    'log-verbosity: 0',
    'metrics-port: 0',
    'metrics-secure: false',
    'container-registry: docker.elastic.co',
    'max-concurrent-reconciles: 3',
    'ca-cert-validity: 8760h',
    'ca-cert-rotate-before: 24h',
    'cert-validity: 8760h',
    'cert-rotate-before: 24h',
    'disable-config-watch: false',
    'exposed-node-labels: [topology.kubernetes.io/.*,failure-domain.beta.kubernetes.io/.*]',
    'set-default-security-context: auto-detect',
    'kube-client-timeout: 60s',
    'elasticsearch-client-timeout: 180s',
    'disable-telemetry: false',
    'distribution-channel: all-in-one',
    'validate-storage-class: true',
    'enable-webhook: true',
    'webhook-name: elastic-webhook.k8s.elastic.co',
    'webhook-port: 9443',
    `operator-namespace: ${NS}`,
    'enable-leader-election: true',
    'elasticsearch-observation-interval: 10s',
    'ubi-only: false',
    'password-length: 24',
  ].join('\n');
}

/** [short name, group, versions, plural, kind] of every kind the webhook validates. */
const VALIDATED: [string, string, string[], string, string][] = [
  ['agent', 'agent.k8s.elastic.co', ['v1alpha1'], 'agents', 'agent'],
  ['apm', 'apm.k8s.elastic.co', ['v1', 'v1beta1'], 'apmservers', 'apmserver'],
  ['beat', 'beat.k8s.elastic.co', ['v1beta1'], 'beats', 'beat'],
  ['ent', 'enterprisesearch.k8s.elastic.co', ['v1', 'v1beta1'], 'enterprisesearches', 'enterprisesearch'],
  ['es', 'elasticsearch.k8s.elastic.co', ['v1', 'v1beta1'], 'elasticsearches', 'elasticsearch'],
  ['esa', 'autoscaling.k8s.elastic.co', ['v1alpha1'], 'elasticsearchautoscalers', 'elasticsearchautoscaler'],
  ['kb', 'kibana.k8s.elastic.co', ['v1', 'v1beta1'], 'kibanas', 'kibana'],
  ['ems', 'maps.k8s.elastic.co', ['v1alpha1'], 'elasticmapsservers', 'elasticmapsserver'],
  ['scp', 'stackconfigpolicy.k8s.elastic.co', ['v1alpha1'], 'stackconfigpolicies', 'stackconfigpolicy'],
  ['ls', 'logstash.k8s.elastic.co', ['v1alpha1'], 'logstashes', 'logstash'],
];

function webhooks(): Record<string, unknown>[] {
  return VALIDATED.flatMap(([short, group, versions, plural, kind]) =>
    versions.map((version) => ({
      clientConfig: { service: { name: 'elastic-webhook-server', namespace: NS, path: `/validate-${group.replaceAll('.', '-')}-${version}-${kind}` } },
      failurePolicy: 'Ignore',
      name: `elastic-${short}-validation-${version}.k8s.elastic.co`,
      matchPolicy: 'Exact',
      admissionReviewVersions: ['v1', 'v1beta1'],
      sideEffects: 'None',
      rules: [{ apiGroups: [group], apiVersions: [version], operations: ['CREATE', 'UPDATE'], resources: [plural] }],
    })),
  );
}

function operatorRules(): Record<string, unknown>[] {
  const crs = (group: string, plurals: string[]): Record<string, unknown> => ({
    apiGroups: [group],
    resources: plurals.flatMap((p) => [p, `${p}/status`, `${p}/finalizers`]),
    verbs: ALL,
  });
  return [
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['elastic-operator-leader'], verbs: ['get', 'watch', 'update'] },
    { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods', 'events', 'persistentvolumeclaims', 'secrets', 'services', 'configmaps'], verbs: ALL },
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ALL },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ALL },
    crs('elasticsearch.k8s.elastic.co', ['elasticsearches']),
    crs('autoscaling.k8s.elastic.co', ['elasticsearchautoscalers']),
    crs('kibana.k8s.elastic.co', ['kibanas']),
    crs('apm.k8s.elastic.co', ['apmservers']),
    crs('enterprisesearch.k8s.elastic.co', ['enterprisesearches']),
    crs('beat.k8s.elastic.co', ['beats']),
    crs('agent.k8s.elastic.co', ['agents']),
    crs('maps.k8s.elastic.co', ['elasticmapsservers']),
    crs('stackconfigpolicy.k8s.elastic.co', ['stackconfigpolicies']),
    crs('logstash.k8s.elastic.co', ['logstashes']),
    { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ALL },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  ];
}

/** The documents of operator.yaml for ECK `version`, in the published order. */
export function eckOperatorObjects(version: string): { source: string; obj: KubeObject }[] {
  const labels = { 'control-plane': 'elastic-operator', 'app.kubernetes.io/version': version };
  const clusterRoleLabels = (role: 'view' | 'edit'): Record<string, string> => ({
    ...(role === 'view' ? { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } : {}),
    'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
    'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
    ...labels,
  });
  const readOnly = ['get', 'list', 'watch'];
  const aggregatedGroups = ['elasticsearch', 'autoscaling', 'apm', 'kibana', 'enterprisesearch', 'beat', 'agent', 'maps', 'stackconfigpolicy', 'logstash'];
  const aggregated = (verbs: string[]): Record<string, unknown>[] =>
    aggregatedGroups.map((g) => ({ apiGroups: [`${g}.k8s.elastic.co`], resources: ['*'], verbs }));
  const image = `docker.elastic.co/eck/eck-operator:${version}`;
  return [
    { source: 'eck-operator/templates/operator-namespace.yaml', obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { name: NS } } } },
    { source: 'eck-operator/templates/service-account.yaml', obj: { apiVersion: 'v1', kind: 'ServiceAccount', automountServiceAccountToken: true, metadata: { name: 'elastic-operator', namespace: NS, labels } } },
    { source: 'eck-operator/templates/webhook.yaml', obj: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'elastic-webhook-server-cert', namespace: NS, labels } } },
    { source: 'eck-operator/templates/configmap.yaml', obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elastic-operator', namespace: NS, labels }, data: { 'eck.yaml': eckYaml() } } },
    { source: 'eck-operator/templates/cluster-roles.yaml', obj: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'elastic-operator', labels }, rules: operatorRules() } },
    { source: 'eck-operator/templates/cluster-roles.yaml', obj: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'elastic-operator-view', labels: clusterRoleLabels('view') }, rules: aggregated(readOnly) } },
    { source: 'eck-operator/templates/cluster-roles.yaml', obj: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'elastic-operator-edit', labels: clusterRoleLabels('edit') }, rules: aggregated(['create', 'delete', 'deletecollection', 'patch', 'update']) } },
    {
      source: 'eck-operator/templates/role-bindings.yaml',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'elastic-operator', labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'elastic-operator' },
        subjects: [{ kind: 'ServiceAccount', name: 'elastic-operator', namespace: NS }],
      },
    },
    {
      source: 'eck-operator/templates/webhook.yaml',
      obj: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'elastic-webhook-server', namespace: NS, labels },
        spec: { ports: [{ name: 'https', port: 443, targetPort: 9443 }], selector: { 'control-plane': 'elastic-operator' } },
      },
    },
    {
      source: 'eck-operator/templates/statefulset.yaml',
      obj: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'elastic-operator', namespace: NS, labels },
        spec: {
          selector: { matchLabels: { 'control-plane': 'elastic-operator' } },
          serviceName: 'elastic-operator',
          replicas: 1,
          template: {
            metadata: {
              annotations: {
                // Pods' JSON logs parsed as such by Filebeat/Elastic Agent.
                'co.elastic.logs/raw': '[{"type":"filestream","enabled":true,"id":"eck-container-logs-${data.kubernetes.container.id}","paths":["/var/log/containers/*${data.kubernetes.container.id}.log"],"parsers":[{"container":{}},{"ndjson":{"keys_under_root":true}}],"prospector.scanner.symlinks":true,"processors":[{"convert":{"mode":"rename","ignore_missing":true,"fields":[{"from":"error","to":"_error"}]}},{"convert":{"mode":"rename","ignore_missing":true,"fields":[{"from":"_error","to":"error.message"}]}},{"convert":{"mode":"rename","ignore_missing":true,"fields":[{"from":"source","to":"_source"}]}},{"convert":{"mode":"rename","ignore_missing":true,"fields":[{"from":"_source","to":"event.source"}]}}]}]',
                'checksum/config': createHash('sha256').update(eckYaml()).digest('hex'),
              },
              labels: { 'control-plane': 'elastic-operator' },
            },
            spec: {
              terminationGracePeriodSeconds: 10,
              serviceAccountName: 'elastic-operator',
              automountServiceAccountToken: true,
              securityContext: { runAsNonRoot: true },
              containers: [{
                image,
                imagePullPolicy: 'IfNotPresent',
                name: 'manager',
                args: ['manager', '--config=/conf/eck.yaml'],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
                env: [
                  { name: 'OPERATOR_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'WEBHOOK_SECRET', value: 'elastic-webhook-server-cert' },
                ],
                resources: { limits: { cpu: 1, memory: '1Gi' }, requests: { cpu: '100m', memory: '150Mi' } },
                ports: [{ containerPort: 9443, name: 'https-webhook', protocol: 'TCP' }],
                volumeMounts: [
                  { mountPath: '/conf', name: 'conf', readOnly: true },
                  { mountPath: '/tmp/k8s-webhook-server/serving-certs', name: 'cert', readOnly: true },
                ],
              }],
              volumes: [
                { name: 'conf', configMap: { name: 'elastic-operator' } },
                { name: 'cert', secret: { defaultMode: 420, secretName: 'elastic-webhook-server-cert' } },
              ],
            },
          },
        },
      },
    },
    {
      source: 'eck-operator/templates/webhook.yaml',
      obj: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'elastic-webhook.k8s.elastic.co', labels }, webhooks: webhooks() },
    },
  ];
}
