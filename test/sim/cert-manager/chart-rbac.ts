// cert-manager's RBAC as chart v1.21 names it: one ClusterRole/ClusterRoleBinding pair per
// controller concern, leader-election Roles in kube-system, the webhook's dynamic-serving Role
// in the release namespace, and the aggregated view/edit roles.
import type { KubeObject } from '../api-client.ts';
import { compact, get } from '../tools/chart-kit.ts';
import { ACME, CM, type Component, type Ctx, READ, RW, labels, name, rule, serviceAccount } from './chart-parts.ts';

/** ClusterRoles/Roles and their bindings, one pair per controller concern, as the chart names them. */
export function rbac(c: Ctx): KubeObject[] {
  const leaderNs = get(c.values, 'global.leaderElection.namespace', 'kube-system');
  const ctl = name(c, 'controller');
  const subject = (component: Component): Record<string, string> => ({ kind: 'ServiceAccount', name: serviceAccount(c, component), namespace: c.ns });
  const out: KubeObject[] = [];
  const pair = (component: Component, roleName: string, rules: Record<string, unknown>[], namespace?: string): void => {
    const kind = namespace ? 'Role' : 'ClusterRole';
    const meta = compact({ name: roleName, namespace, labels: labels(c, component) });
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: meta, rules });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: `${kind}Binding`,
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
      subjects: [subject(component)],
    });
  };
  const leases = [rule(['coordination.k8s.io'], ['leases'], ['get', 'update', 'patch'], [`${ctl}-controller`]), rule(['coordination.k8s.io'], ['leases'], ['create'])];
  if (get(c.values, 'cainjector.enabled', true)) {
    const inj = name(c, 'cainjector');
    pair('cainjector', inj, [
      rule(CM, ['certificates'], READ),
      rule([''], ['secrets'], READ),
      rule([''], ['events'], ['get', 'create', 'update', 'patch']),
      rule(['admissionregistration.k8s.io'], ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'], [...READ, 'update', 'patch']),
      rule(['apiregistration.k8s.io'], ['apiservices'], [...READ, 'update', 'patch']),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], [...READ, 'update', 'patch']),
    ]);
    pair('cainjector', `${inj}:leaderelection`, [
      rule(['coordination.k8s.io'], ['leases'], ['get', 'update', 'patch'], ['cert-manager-cainjector-leader-election', 'cert-manager-cainjector-leader-election-core']),
      rule(['coordination.k8s.io'], ['leases'], ['create']),
    ], leaderNs);
  }
  pair('controller', `${ctl}:leaderelection`, leases, leaderNs);
  pair('controller', `${ctl}-tokenrequest`, [rule([''], ['serviceaccounts/token'], ['create'], [serviceAccount(c, 'controller')])], c.ns);
  const events = rule([''], ['events'], ['create', 'patch']);
  pair('controller', `${ctl}-controller-issuers`, [rule(CM, ['issuers', 'issuers/status'], ['update', 'patch']), rule(CM, ['issuers'], READ), rule([''], ['secrets'], [...READ, 'create', 'update', 'delete']), events]);
  pair('controller', `${ctl}-controller-clusterissuers`, [rule(CM, ['clusterissuers', 'clusterissuers/status'], ['update', 'patch']), rule(CM, ['clusterissuers'], READ), rule([''], ['secrets'], [...READ, 'create', 'update', 'delete']), events]);
  pair('controller', `${ctl}-controller-certificates`, [
    rule(CM, ['certificates', 'certificates/status', 'certificaterequests', 'certificaterequests/status'], ['update', 'patch']),
    rule(CM, ['certificates', 'certificaterequests', 'clusterissuers', 'issuers'], READ),
    rule(CM, ['certificates/finalizers', 'certificaterequests/finalizers'], ['update']),
    rule(ACME, ['orders'], ['create', 'delete', ...READ]),
    rule([''], ['secrets'], [...READ, 'create', 'update', 'delete', 'patch']),
    events,
  ]);
  pair('controller', `${ctl}-controller-orders`, [
    rule(ACME, ['orders', 'orders/status'], ['update', 'patch']),
    rule(ACME, ['orders', 'challenges'], READ),
    rule(CM, ['clusterissuers', 'issuers'], READ),
    rule(ACME, ['challenges'], ['create', 'delete']),
    rule(ACME, ['orders/finalizers'], ['update']),
    rule([''], ['secrets'], READ),
    events,
  ]);
  pair('controller', `${ctl}-controller-challenges`, [
    rule(ACME, ['challenges', 'challenges/status'], ['update', 'patch']),
    rule(ACME, ['challenges'], READ),
    rule(CM, ['issuers', 'clusterissuers'], READ),
    rule([''], ['secrets'], READ),
    events,
    rule([''], ['pods', 'services'], [...READ, 'create', 'delete']),
    rule(['networking.k8s.io'], ['ingresses'], [...READ, 'create', 'delete', 'update']),
    rule(['gateway.networking.k8s.io'], ['httproutes'], [...READ, 'create', 'delete', 'update']),
    rule(['route.openshift.io'], ['routes/custom-host'], ['create']),
    rule(ACME, ['challenges/finalizers'], ['update']),
  ]);
  pair('controller', `${ctl}-controller-ingress-shim`, [
    rule(CM, ['certificates', 'certificaterequests'], ['create', 'update', 'delete']),
    rule(CM, ['certificates', 'certificaterequests', 'issuers', 'clusterissuers'], READ),
    rule(['networking.k8s.io'], ['ingresses'], READ),
    rule(['networking.k8s.io'], ['ingresses/finalizers'], ['update']),
    rule(['gateway.networking.k8s.io'], ['gateways', 'httproutes'], READ),
    rule(['gateway.networking.k8s.io'], ['gateways/finalizers', 'httproutes/finalizers'], ['update']),
    events,
  ]);
  pair('controller', `${ctl}-controller-approve:cert-manager-io`, [rule(CM, ['signers'], ['approve'], ['issuers.cert-manager.io/*', 'clusterissuers.cert-manager.io/*'])]);
  pair('controller', `${ctl}-controller-certificatesigningrequests`, [
    rule(['certificates.k8s.io'], ['certificatesigningrequests'], ['get', 'list', 'watch', 'update']),
    rule(['certificates.k8s.io'], ['certificatesigningrequests/status'], ['update', 'patch']),
    rule(['certificates.k8s.io'], ['signers'], ['sign'], ['issuers.cert-manager.io/*', 'clusterissuers.cert-manager.io/*']),
    rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
  ]);
  const wh = name(c, 'webhook');
  pair('webhook', `${wh}:subjectaccessreviews`, [rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create'])]);
  pair('webhook', `${wh}:dynamic-serving`, [rule([''], ['secrets'], ['get', 'list', 'watch', 'update'], [`${wh}-ca`]), rule([''], ['secrets'], ['create'])], c.ns);
  // Aggregated roles users get through view/edit/admin; nothing binds them here.
  const aggregate = (role: string, to: string[], rules: Record<string, unknown>[]): void => {
    const extra = Object.fromEntries(to.map((t) => [`rbac.authorization.k8s.io/aggregate-to-${t}`, 'true']));
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role, labels: { ...labels(c, 'controller'), ...extra } }, rules });
  };
  aggregate(`${ctl}-cluster-view`, ['cluster-reader'], [rule(CM, ['clusterissuers'], READ)]);
  aggregate(`${ctl}-view`, ['view', 'edit', 'admin', 'cluster-reader'], [rule(CM, ['certificates', 'certificaterequests', 'issuers'], READ), rule(ACME, ['challenges', 'orders'], READ)]);
  aggregate(`${ctl}-edit`, ['edit', 'admin'], [
    rule(CM, ['certificates', 'certificaterequests', 'issuers'], RW),
    rule(CM, ['certificates/status'], ['update']),
    rule(ACME, ['challenges', 'orders'], RW),
  ]);
  return out;
}
