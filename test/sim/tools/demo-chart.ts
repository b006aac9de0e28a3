// `helm create`'s starter chart as a recipe: the smallest chart, used by the fake helm's tests.
import type { KubeObject } from '../api-client.ts';
import type { ChartRecipe } from './chart-kit.ts';
import { chartLabels, fullname, get } from './chart-kit.ts';

/** `helm create`'s starter chart, trimmed: a Deployment, a Service and a ServiceAccount. */
export const demo: ChartRecipe = {
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
