// Chart recipes for the fake helm: each renders the Kubernetes objects its real chart would
// install, from the merged values (chart defaults <- -f files <- --set). Recipes are code,
// not templates: they must only produce what the simulated cluster needs to behave like the
// real thing (names, labels, images, ports, the objects the CLI waits on).
//
// Extending: add a recipe to `charts` (keyed by chart name). Later: cert-manager,
// flink-kubernetes-operator, logging-operator, ingress-nginx.
import type { KubeObject } from './api-client.ts';
import type { Values } from './tools/helm-values.ts';

export interface ReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  isInstall: boolean;
}

export interface ChartMeta {
  name: string;
  version: string;
  appVersion: string;
  description: string;
}

export interface ChartRecipe {
  name: string;
  description: string;
  /** Versions the chart's repository serves, newest first; the first is the default. */
  versions: string[];
  appVersion(version: string): string;
  /**
   * Where the chart can be fetched from (repository URLs, OCI references, tarball URLs),
   * tested against the URL the chart came from; absent = any source serves it.
   */
  sources?: RegExp[];
  defaults: Values;
  render(values: Values, release: ReleaseInfo, chart: ChartMeta): KubeObject[];
  /** CRDs from the chart's crds/ directory: created on install when missing, never upgraded. */
  crds?(chart: ChartMeta): KubeObject[];
  notes?(values: Values, release: ReleaseInfo, chart: ChartMeta): string;
}

/** The `<chart>.fullname` helper most charts use. */
export function fullname(release: ReleaseInfo, chart: ChartMeta, values: Values): string {
  if (typeof values.fullnameOverride === 'string' && values.fullnameOverride) return values.fullnameOverride.slice(0, 63);
  const name = typeof values.nameOverride === 'string' && values.nameOverride ? values.nameOverride : chart.name;
  return (release.name.includes(name) ? release.name : `${release.name}-${name}`).slice(0, 63).replace(/-$/, '');
}

/** The standard `<chart>.labels` / `<chart>.selectorLabels` helpers. */
export function chartLabels(release: ReleaseInfo, chart: ChartMeta): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = { 'app.kubernetes.io/name': chart.name, 'app.kubernetes.io/instance': release.name };
  return {
    selector,
    labels: {
      'helm.sh/chart': `${chart.name}-${chart.version}`,
      ...selector,
      'app.kubernetes.io/version': chart.appVersion,
      'app.kubernetes.io/managed-by': 'Helm',
    },
  };
}

function get<T>(values: Values, path: string, fallback: T): T {
  let cur: unknown = values;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return fallback;
    cur = (cur as Record<string, unknown>)[p];
  }
  return (cur ?? fallback) as T;
}

/** `helm create`'s starter chart, trimmed: a Deployment, a Service and a ServiceAccount. */
const demo: ChartRecipe = {
  name: 'demo',
  description: 'A Helm chart for Kubernetes',
  versions: ['0.1.0'],
  appVersion: () => '1.27.0',
  defaults: {
    replicaCount: 1,
    image: { repository: 'nginx', pullPolicy: 'IfNotPresent', tag: '' },
    nameOverride: '',
    fullnameOverride: '',
    serviceAccount: { create: true, name: '' },
    podLabels: {},
    service: { type: 'ClusterIP', port: 80 },
    resources: {},
  },
  render(values, release, chart) {
    const name = fullname(release, chart, values);
    const { labels, selector } = chartLabels(release, chart);
    const saName = get(values, 'serviceAccount.create', true) ? get(values, 'serviceAccount.name', '') || name : get(values, 'serviceAccount.name', '') || 'default';
    const image = `${get(values, 'image.repository', 'nginx')}:${get(values, 'image.tag', '') || chart.appVersion}`;
    const port = get(values, 'service.port', 80);
    const objects: KubeObject[] = [];
    if (get(values, 'serviceAccount.create', true)) {
      objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: saName, labels }, automountServiceAccountToken: true });
    }
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, labels },
        spec: { type: get(values, 'service.type', 'ClusterIP'), ports: [{ port, targetPort: 'http', protocol: 'TCP', name: 'http' }], selector },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels },
        spec: {
          replicas: get(values, 'replicaCount', 1),
          selector: { matchLabels: selector },
          template: {
            metadata: { labels: { ...labels, ...get<Record<string, string>>(values, 'podLabels', {}) } },
            spec: {
              serviceAccountName: saName,
              containers: [
                {
                  name: chart.name,
                  image,
                  imagePullPolicy: get(values, 'image.pullPolicy', 'IfNotPresent'),
                  ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
                  livenessProbe: { httpGet: { path: '/', port: 'http' } },
                  readinessProbe: { httpGet: { path: '/', port: 'http' } },
                  resources: get(values, 'resources', {}),
                },
              ],
            },
          },
        },
      },
    );
    return objects;
  },
  notes(values, release, chart) {
    const name = fullname(release, chart, values);
    return `1. Get the application URL by running these commands:\n  export POD_NAME=$(kubectl get pods --namespace ${release.namespace} -l "app.kubernetes.io/name=${chart.name},app.kubernetes.io/instance=${release.name}" -o jsonpath="{.items[0].metadata.name}")\n  kubectl --namespace ${release.namespace} port-forward $POD_NAME 8080:80\n  # service: ${name}\n`;
  },
};

export const charts: Record<string, ChartRecipe> = { demo };
