// Helpers shared by the cert-manager chart recipe's files: the per-component names and
// labels of the chart's _helpers.tpl (the webhook and cainjector are named
// <fullname>-webhook / -cainjector and labelled app=webhook / cainjector), values lookups and
// RBAC rule shorthands.
import type { Values } from '../tools/helm-values.ts';
import { type ChartMeta, type ReleaseInfo, compact, get, map } from '../tools/chart-kit.ts';

export type Component = 'controller' | 'cainjector' | 'webhook';

export const RUN_AS_NON_ROOT = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
export const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };

export interface Ctx {
  values: Values;
  release: ReleaseInfo;
  chart: ChartMeta;
  ns: string;
  base: string;
}

export function name(c: Ctx, component: Component): string {
  return component === 'controller' ? c.base : `${c.base.slice(0, component === 'webhook' ? 55 : 52).replace(/-$/, '')}-${component}`;
}

/** `app`/`app.kubernetes.io/name` are the component's short name, except the controller's. */
export function appName(c: Ctx, component: Component): string {
  return component === 'controller' ? get(c.values, 'nameOverride', '') || c.chart.name : component;
}

export function selector(c: Ctx, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': appName(c, component), 'app.kubernetes.io/instance': c.release.name, 'app.kubernetes.io/component': component };
}

export function labels(c: Ctx, component: Component): Record<string, string> {
  return {
    app: appName(c, component),
    ...selector(c, component),
    'app.kubernetes.io/version': c.chart.appVersion,
    'app.kubernetes.io/managed-by': 'Helm',
    'helm.sh/chart': `${c.chart.name}-${c.chart.version}`.replace(/\+/g, '_'),
    ...(map(c.values, 'global.commonLabels') as Record<string, string>),
  };
}

export function image(c: Ctx, path: string): string {
  const repo = get(c.values, `${path}.repository`, '');
  const tag = get(c.values, `${path}.tag`, '') || c.chart.appVersion;
  return `${repo}:${tag}`;
}

/** Component values: the controller's are top level, the others' under their key. */
export function v<T>(c: Ctx, component: Component, path: string, fallback: T): T {
  return get(c.values, component === 'controller' ? path : `${component}.${path}`, fallback);
}

export function serviceAccount(c: Ctx, component: Component): string {
  const create = v(c, component, 'serviceAccount.create', true);
  return v(c, component, 'serviceAccount.name', '') || (create ? name(c, component) : 'default');
}

export function rule(apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): Record<string, unknown> {
  return compact({ apiGroups, resources, verbs, resourceNames });
}

export const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
export const READ = ['get', 'list', 'watch'];
export const CM = ['cert-manager.io'];
export const ACME = ['acme.cert-manager.io'];
