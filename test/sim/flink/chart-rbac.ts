// The Flink operator chart's ServiceAccounts and RBAC (templates/rbac.yaml, serviceaccount.yaml).
// With watchNamespaces the operator gets a Role per watched namespace (plus one for its leases
// at home) and the job account `flink` with its Role and RoleBinding is created in EACH watched
// namespace and nowhere else; without it the operator gets a ClusterRole and `flink` lives in
// the release namespace only. The job objects carry helm.sh/resource-policy: keep.
import type { KubeObject } from '../api-client.ts';
import { compact, get, map } from '../tools/chart-kit.ts';
import type { FlinkChartCtx } from './chart.ts';

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const KEEP = { 'helm.sh/resource-policy': 'keep' };

function operatorRules(nodes: boolean): Record<string, unknown>[] {
  return [
    { apiGroups: [''], resources: ['pods', 'services', 'events', 'configmaps', 'secrets'], verbs: [...ALL, 'deletecollection'] },
    ...(nodes ? [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] : []),
    { apiGroups: ['apps'], resources: ['deployments', 'deployments/finalizers', 'replicasets'], verbs: ALL },
    { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: ['extensions'], resources: ['deployments', 'ingresses'], verbs: ALL },
    {
      apiGroups: ['flink.apache.org'],
      resources: ['flinkdeployments', 'flinkdeployments/finalizers', 'flinksessionjobs', 'flinksessionjobs/finalizers', 'flinkstatesnapshots', 'flinkstatesnapshots/finalizers'],
      verbs: ALL,
    },
    { apiGroups: ['flink.apache.org'], resources: ['flinkdeployments/status', 'flinksessionjobs/status', 'flinkstatesnapshots/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ALL },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ALL },
  ];
}

const JOB_RULES = [
  { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ALL },
  { apiGroups: ['apps'], resources: ['deployments', 'deployments/finalizers'], verbs: ALL },
];

export function flinkRbac(c: FlinkChartCtx): KubeObject[] {
  const v = c.values;
  const out: KubeObject[] = [];
  const operatorSa = get(v, 'operatorServiceAccount.create', true) ? get(v, 'operatorServiceAccount.name', '') || c.name : get(v, 'operatorServiceAccount.name', '') || 'default';
  const jobSa = get(v, 'jobServiceAccount.create', true) ? get(v, 'jobServiceAccount.name', '') || c.name : get(v, 'jobServiceAccount.name', '') || 'default';
  const roleName = get(v, 'rbac.operatorRole.name', '') || c.name;
  const bindingName = get(v, 'rbac.operatorRoleBinding.name', '') || c.name;
  const jobRole = get(v, 'rbac.jobRole.name', '') || c.name;
  const jobBinding = get(v, 'rbac.jobRoleBinding.name', '') || c.name;
  const nodes = get(v, 'rbac.nodesRule.create', false);
  const meta = (name: string, namespace?: string, annotations?: Record<string, string>): Record<string, unknown> => compact({ name, namespace, labels: c.labels, annotations });
  const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, namespace: string | undefined, roleKind: string, role: string, sa: string, saNs: string, keep: boolean): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: meta(name, namespace, keep ? KEEP : undefined),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: saNs }],
  });

  if (get(v, 'operatorServiceAccount.create', true)) {
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(operatorSa, c.ns, nonEmpty(map(v, 'operatorServiceAccount.annotations'))) });
  }
  const jobNamespaces = c.watched.length ? c.watched : [c.ns];
  if (get(v, 'jobServiceAccount.create', true)) {
    for (const ns of jobNamespaces) out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(jobSa, ns, nonEmpty(map(v, 'jobServiceAccount.annotations'))) });
  }
  if (!get(v, 'rbac.create', true)) return out;

  const role = (name: string, namespace: string | undefined, rules: Record<string, unknown>[], keep = false): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: namespace ? 'Role' : 'ClusterRole',
    metadata: meta(name, namespace, keep ? KEEP : undefined),
    rules,
  });
  const opRole = get(v, 'rbac.operatorRole.create', true);
  const opBinding = get(v, 'rbac.operatorRoleBinding.create', true);
  const jRole = get(v, 'rbac.jobRole.create', true);
  const jBinding = get(v, 'rbac.jobRoleBinding.create', true);
  if (c.watched.length) {
    for (const ns of c.watched) {
      if (opRole) out.push(role(roleName, ns, operatorRules(nodes)));
      if (jRole) out.push(role(jobRole, ns, JOB_RULES, true));
      if (opBinding) out.push(binding('RoleBinding', bindingName, ns, 'Role', roleName, operatorSa, c.ns, false));
      if (jBinding) out.push(binding('RoleBinding', jobBinding, ns, 'Role', jobRole, jobSa, ns, true));
    }
    // The operator's leader-election leases live at home, which may not be watched.
    if (opRole && !c.watched.includes(c.ns)) {
      out.push(role(roleName, c.ns, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ALL }]));
      out.push(binding('RoleBinding', bindingName, c.ns, 'Role', roleName, operatorSa, c.ns, false));
    }
    return out;
  }
  if (opRole) out.push(role(roleName, undefined, operatorRules(nodes)));
  if (jRole) out.push(role(jobRole, c.ns, JOB_RULES, true));
  if (opBinding) out.push(binding('ClusterRoleBinding', bindingName, undefined, 'ClusterRole', roleName, operatorSa, c.ns, false));
  if (jBinding) out.push(binding('RoleBinding', jobBinding, c.ns, 'Role', jobRole, jobSa, c.ns, true));
  return out;
}

function nonEmpty(m: Record<string, unknown>): Record<string, string> | undefined {
  return Object.keys(m).length ? (m as Record<string, string>) : undefined;
}
