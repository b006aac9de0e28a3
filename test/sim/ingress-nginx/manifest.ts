// ingress-nginx's kind provider manifest (deploy/static/provider/kind/deploy.yaml at tag
// controller-v<V>), as the chart renders it for kind: the controller runs only on nodes
// labelled ingress-ready=true, binds hostPorts 80/443, tolerates the control-plane taint, and
// mounts the admission Secret the `ingress-nginx-admission-create` Job writes; the `-patch` Job
// then injects the CA into the ValidatingWebhookConfiguration for Ingresses.
// The published manifest pins images by digest as well; the simulation uses tags only.
import type { KubeObject } from '../api-client.ts';

const NS = 'ingress-nginx';
/** kube-webhook-certgen as shipped with controller v1.15.x (UNCONFIRMED patch level). */
const CERTGEN_TAG = 'v1.6.5';

type Component = 'controller' | 'admission-webhook';

function labels(version: string, component?: Component): Record<string, string> {
  return {
    ...(component ? { 'app.kubernetes.io/component': component } : {}),
    'app.kubernetes.io/instance': 'ingress-nginx',
    'app.kubernetes.io/name': 'ingress-nginx',
    'app.kubernetes.io/part-of': 'ingress-nginx',
    'app.kubernetes.io/version': version,
  };
}

const SELECTOR = { 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/name': 'ingress-nginx' };
const READ = ['get', 'list', 'watch'];
const RBAC = 'rbac.authorization.k8s.io/v1';

function controllerRoleRules(): Record<string, unknown>[] {
  return [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    { apiGroups: [''], resources: ['configmaps', 'pods', 'secrets', 'endpoints'], verbs: READ },
    { apiGroups: [''], resources: ['services'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: READ },
    { apiGroups: ['coordination.k8s.io'], resourceNames: ['ingress-nginx-leader'], resources: ['leases'], verbs: ['get', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch', 'get'] },
  ];
}

function controllerClusterRoleRules(): Record<string, unknown>[] {
  return [
    { apiGroups: [''], resources: ['configmaps', 'endpoints', 'nodes', 'pods', 'secrets', 'namespaces'], verbs: ['list', 'watch'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    { apiGroups: [''], resources: ['services'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: READ },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch', 'get'] },
  ];
}

const JOB_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsGroup: 65532, runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } };

function admissionJob(version: string, name: 'create' | 'patch', args: string[]): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { labels: labels(version, 'admission-webhook'), name: `ingress-nginx-admission-${name}`, namespace: NS },
    spec: {
      template: {
        metadata: { labels: labels(version, 'admission-webhook'), name: `ingress-nginx-admission-${name}` },
        spec: {
          automountServiceAccountToken: true,
          containers: [{
            args,
            env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
            image: `registry.k8s.io/ingress-nginx/kube-webhook-certgen:${CERTGEN_TAG}`,
            imagePullPolicy: 'IfNotPresent',
            name,
            securityContext: JOB_SECURITY,
          }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          restartPolicy: 'OnFailure',
          serviceAccountName: 'ingress-nginx-admission',
        },
      },
    },
  };
}

function controllerDeployment(version: string): KubeObject {
  const probe = (failureThreshold: number): Record<string, unknown> => ({
    failureThreshold,
    httpGet: { path: '/healthz', port: 10254, scheme: 'HTTP' },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    successThreshold: 1,
    timeoutSeconds: 1,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { labels: labels(version, 'controller'), name: 'ingress-nginx-controller', namespace: NS },
    spec: {
      minReadySeconds: 0,
      revisionHistoryLimit: 10,
      selector: { matchLabels: SELECTOR },
      strategy: { rollingUpdate: { maxUnavailable: 1 }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: labels(version, 'controller') },
        spec: {
          containers: [{
            args: [
              '/nginx-ingress-controller',
              '--election-id=ingress-nginx-leader',
              '--controller-class=k8s.io/ingress-nginx',
              '--ingress-class=nginx',
              '--configmap=$(POD_NAMESPACE)/ingress-nginx-controller',
              '--validating-webhook=:8443',
              '--validating-webhook-certificate=/usr/local/certificates/cert',
              '--validating-webhook-key=/usr/local/certificates/key',
              '--watch-ingress-without-class=true',
              '--enable-metrics=false',
              '--publish-status-address=localhost',
            ],
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'LD_PRELOAD', value: '/usr/local/lib/libmimalloc.so' },
            ],
            image: `registry.k8s.io/ingress-nginx/controller:${version}`,
            imagePullPolicy: 'IfNotPresent',
            lifecycle: { preStop: { exec: { command: ['/wait-shutdown'] } } },
            livenessProbe: probe(5),
            name: 'controller',
            ports: [
              { containerPort: 80, hostPort: 80, name: 'http', protocol: 'TCP' },
              { containerPort: 443, hostPort: 443, name: 'https', protocol: 'TCP' },
              { containerPort: 8443, name: 'webhook', protocol: 'TCP' },
            ],
            readinessProbe: probe(3),
            resources: { requests: { cpu: '100m', memory: '90Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
              readOnlyRootFilesystem: false,
              runAsGroup: 82,
              runAsNonRoot: true,
              runAsUser: 101,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [{ mountPath: '/usr/local/certificates/', name: 'webhook-cert', readOnly: true }],
          }],
          dnsPolicy: 'ClusterFirst',
          nodeSelector: { 'ingress-ready': 'true', 'kubernetes.io/os': 'linux' },
          serviceAccountName: 'ingress-nginx',
          terminationGracePeriodSeconds: 0,
          tolerations: [
            { effect: 'NoSchedule', key: 'node-role.kubernetes.io/master', operator: 'Equal' },
            { effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane', operator: 'Equal' },
          ],
          volumes: [{ name: 'webhook-cert', secret: { secretName: 'ingress-nginx-admission' } }],
        },
      },
    },
  };
}

/** The documents of deploy.yaml for controller `version` (e.g. v1.15.1), in the published order. */
export function ingressNginxObjects(version: string): KubeObject[] {
  const sa = (name: string, component: Component): KubeObject => ({ apiVersion: 'v1', automountServiceAccountToken: true, kind: 'ServiceAccount', metadata: { labels: labels(version, component), name, namespace: NS } });
  const role = (kind: 'Role' | 'ClusterRole', name: string, component: Component, rules: Record<string, unknown>[]): KubeObject => ({
    apiVersion: RBAC,
    kind,
    metadata: { labels: labels(version, component), name, ...(kind === 'Role' ? { namespace: NS } : {}) },
    rules,
  });
  const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, component: Component): KubeObject => ({
    apiVersion: RBAC,
    kind,
    metadata: { labels: labels(version, component), name, ...(kind === 'RoleBinding' ? { namespace: NS } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
  });
  const admissionRules = [{ apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'update'] }];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { labels: { 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/name': 'ingress-nginx' }, name: NS } },
    sa('ingress-nginx', 'controller'),
    sa('ingress-nginx-admission', 'admission-webhook'),
    role('Role', 'ingress-nginx', 'controller', controllerRoleRules()),
    role('Role', 'ingress-nginx-admission', 'admission-webhook', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] }]),
    role('ClusterRole', 'ingress-nginx', 'controller', controllerClusterRoleRules()),
    role('ClusterRole', 'ingress-nginx-admission', 'admission-webhook', admissionRules),
    binding('RoleBinding', 'ingress-nginx', 'controller'),
    binding('RoleBinding', 'ingress-nginx-admission', 'admission-webhook'),
    binding('ClusterRoleBinding', 'ingress-nginx', 'controller'),
    binding('ClusterRoleBinding', 'ingress-nginx-admission', 'admission-webhook'),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { labels: labels(version, 'controller'), name: 'ingress-nginx-controller', namespace: NS } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { labels: labels(version, 'controller'), name: 'ingress-nginx-controller', namespace: NS },
      spec: {
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [
          { appProtocol: 'http', name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
          { appProtocol: 'https', name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' },
        ],
        selector: SELECTOR,
        type: 'NodePort',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { labels: labels(version, 'controller'), name: 'ingress-nginx-controller-admission', namespace: NS },
      spec: { ports: [{ appProtocol: 'https', name: 'https-webhook', port: 443, targetPort: 'webhook' }], selector: SELECTOR, type: 'ClusterIP' },
    },
    controllerDeployment(version),
    admissionJob(version, 'create', ['create', '--host=ingress-nginx-controller-admission,ingress-nginx-controller-admission.$(POD_NAMESPACE).svc', '--namespace=$(POD_NAMESPACE)', '--secret-name=ingress-nginx-admission']),
    admissionJob(version, 'patch', ['patch', '--webhook-name=ingress-nginx-admission', '--namespace=$(POD_NAMESPACE)', '--patch-mutating=false', '--secret-name=ingress-nginx-admission', '--patch-failure-policy=Fail']),
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { labels: labels(version, 'controller'), name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { labels: labels(version, 'admission-webhook'), name: 'ingress-nginx-admission' },
      webhooks: [{
        admissionReviewVersions: ['v1'],
        clientConfig: { service: { name: 'ingress-nginx-controller-admission', namespace: NS, path: '/networking/v1/ingresses', port: 443 } },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        name: 'validate.nginx.ingress.kubernetes.io',
        rules: [{ apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['ingresses'] }],
        sideEffects: 'None',
      }],
    },
  ];
}
