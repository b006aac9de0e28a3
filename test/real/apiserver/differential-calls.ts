// The request sequence of the differential test: what the CLI and the simulated controllers
// ask of an API server, in the order that exercises field ownership, no-op applies, conflicts,
// dry runs, validation, status subresources, finalizers and deletion. Every call is sent to the
// fake and to the real server alike.
import type { Call } from './differential.ts';

export const NS = 'diff';
const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';
const cmPath = (name: string): string => `/api/v1/namespaces/${NS}/configmaps/${name}`;
const cm = (name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): object => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, ...extra },
  data,
});
const apply = (label: string, path: string, body: object, manager: string, query: Record<string, string> = {}): Call => ({
  label,
  method: 'PATCH',
  path,
  query: { fieldManager: manager, fieldValidation: 'Strict', ...query },
  body,
  contentType: APPLY,
});
const merge = (label: string, path: string, body: object, manager: string, query: Record<string, string> = {}): Call => ({
  label,
  method: 'PATCH',
  path,
  query: { fieldManager: manager, ...query },
  body,
  contentType: MERGE,
});

const deployment = (replicas: number): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'registry.example/web:1', ports: [{ containerPort: 8080 }] }] } },
  },
});
const deployPath = `/apis/apps/v1/namespaces/${NS}/deployments/web`;

export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.diff.flink-sandbox.dev' },
  spec: {
    group: 'diff.flink-sandbox.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', default: 3 }, mode: { type: 'string', enum: ['fast', 'safe'] } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};
const widget = (spec: object): object => ({ apiVersion: 'diff.flink-sandbox.dev/v1', kind: 'Widget', metadata: { name: 'w', namespace: NS }, spec });
const widgetPath = `/apis/diff.flink-sandbox.dev/v1/namespaces/${NS}/widgets/w`;

/** Before the watch opens: the namespace and the CRD (whose Established condition differs in timing only). */
export const SETUP: Call[] = [
  { label: 'create the namespace', method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } },
  apply('apply a CRD', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGET_CRD.metadata.name}`, WIDGET_CRD, 'sandbox'),
];

export const CALLS: Call[] = [
  // Server-side apply and field ownership.
  apply('apply creates a ConfigMap', cmPath('a'), cm('a', { x: '1', y: '1' }, { labels: { tier: 'web' } }), 'sandbox'),
  apply('the same apply again is a no-op', cmPath('a'), cm('a', { x: '1', y: '1' }, { labels: { tier: 'web' } }), 'sandbox'),
  apply('an apply that changes a value', cmPath('a'), cm('a', { x: '2', y: '1' }, { labels: { tier: 'web' } }), 'sandbox'),
  apply('another manager applies a different value, no force', cmPath('a'), cm('a', { x: '3' }), 'helm'),
  apply('another manager applies the same value: shared', cmPath('a'), cm('a', { y: '1' }), 'helm'),
  apply('another manager forces a different value', cmPath('a'), cm('a', { x: '3', y: '1' }), 'helm', { force: 'true' }),
  apply('sandbox applies its old value: conflict with helm', cmPath('a'), cm('a', { x: '2', y: '1' }, { labels: { tier: 'web' } }), 'sandbox'),
  apply('sandbox stops applying a field it shares', cmPath('a'), cm('a', { x: '3' }, { labels: { tier: 'web' } }), 'sandbox'),
  apply('sandbox stops applying its label: removed', cmPath('a'), cm('a', { x: '3' }), 'sandbox'),
  merge('a merge patch by the sandbox is an Update entry', cmPath('a'), { data: { z: '1' } }, 'sandbox'),
  apply('an apply conflicting only with its own Update', cmPath('a'), cm('a', { x: '3', z: '2' }), 'sandbox'),
  { label: 'a merge patch without a manager: the user agent names it', method: 'PATCH', path: cmPath('a'), body: { data: { w: '1' } }, contentType: MERGE },
  { label: 'a GET of the result', method: 'GET', path: cmPath('a') },

  // Create, conflicts, errors.
  { label: 'create', method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, query: { fieldManager: 'kubectl-create' }, body: cm('b', { k: 'v' }) },
  { label: 'create an existing name', method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, body: cm('b', { k: 'v' }) },
  { label: 'update with a stale resourceVersion', method: 'PUT', path: cmPath('b'), body: cm('b', { k: 'w' }, { resourceVersion: '1' }) },
  { label: 'get a missing object', method: 'GET', path: cmPath('nope') },
  { label: 'an unknown field with Strict validation', method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, query: { fieldValidation: 'Strict' }, body: { ...cm('c', {}), colour: 'red' } },
  { label: 'an unknown field, no fieldValidation given', method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, body: { ...cm('e', {}), colour: 'red' } },
  apply('an apply with an unknown field', cmPath('c'), { ...cm('c', {}), colour: 'red' }, 'sandbox'),
  apply('an apply with a stale resourceVersion', cmPath('a'), cm('a', { x: '3' }, { resourceVersion: '1' }), 'sandbox'),
  apply('an apply whose name differs from the URL', cmPath('d'), cm('other', {}), 'sandbox'),
  { label: 'an apply without a field manager', method: 'PATCH', path: cmPath('d'), body: cm('d', {}), contentType: APPLY },
  { label: 'a list with a label selector', method: 'GET', path: `/api/v1/namespaces/${NS}/configmaps`, query: { labelSelector: 'tier=web' } },

  // Dry runs persist nothing.
  { label: 'a dry-run create', method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, query: { dryRun: 'All', fieldManager: 'sandbox' }, body: cm('dry', { a: 'b' }) },
  { label: 'after the dry-run create: absent', method: 'GET', path: cmPath('dry') },
  apply('a dry-run apply', cmPath('dry'), cm('dry', { a: 'b' }), 'sandbox', { dryRun: 'All' }),
  { label: 'after the dry-run apply: absent', method: 'GET', path: cmPath('dry') },
  apply('a dry-run apply changing an object', cmPath('b'), cm('b', { k: 'dry' }), 'sandbox', { dryRun: 'All', force: 'true' }),
  { label: 'after it: unchanged', method: 'GET', path: cmPath('b') },

  // Workloads: defaults, generation, the status subresource.
  apply('apply a Deployment', deployPath, deployment(1), 'sandbox'),
  apply('the same Deployment again', deployPath, deployment(1), 'sandbox'),
  merge('a status write through the subresource', `${deployPath}/status`, { status: { observedGeneration: 1, replicas: 1 } }, 'kube-controller-manager'),
  merge('a status write through the main resource is ignored', deployPath, { status: { replicas: 5 } }, 'kubectl-edit'),
  apply('scale by apply: generation moves', deployPath, deployment(2), 'sandbox'),

  // Custom resources: schema defaults, enums, unknown fields, status.
  apply('apply a custom resource (schema default filled in)', widgetPath, widget({ mode: 'fast' }), 'sandbox'),
  apply('a value outside the enum', widgetPath, widget({ mode: 'reckless' }), 'sandbox'),
  apply('an undeclared field', widgetPath, widget({ mode: 'fast', colour: 'red' }), 'sandbox'),
  merge('status of a custom resource', `${widgetPath}/status`, { status: { phase: 'Ready' } }, 'widget-operator'),
  apply('the custom resource again: a no-op', widgetPath, widget({ mode: 'fast' }), 'sandbox'),

  // Finalizers and deletion.
  apply('an object with a finalizer', cmPath('held'), cm('held', {}, { finalizers: ['flink-sandbox.dev/hold'] }), 'sandbox'),
  { label: 'delete it: held', method: 'DELETE', path: cmPath('held') },
  { label: 'a held object is still there', method: 'GET', path: cmPath('held') },
  merge('remove the finalizer', cmPath('held'), { metadata: { finalizers: null } }, 'sandbox'),
  { label: 'then it is gone', method: 'GET', path: cmPath('held') },
  { label: 'delete a missing object', method: 'DELETE', path: cmPath('held') },
  { label: 'delete', method: 'DELETE', path: cmPath('b'), query: { propagationPolicy: 'Background' } },
];
