// Calibration of the fake API server's typed round trip (test/sim/api/typed.ts): objects with
// empty strings, false, zeros, empty lists and maps, pointer zeros and unknown nested fields
// are created and applied on the fake and on kube-apiserver, and what each returns is
// compared (server-set metadata aside). kube-apiserver decodes built-in objects into Go
// structs and writes them back, so `omitempty` zeros vanish there; the fake must do the same,
// or the CLI's "already in place" check passes on the fake and loops on a real cluster (it
// did, for Heimdall's `value: ""`). A custom resource keeps what was sent, on both.
import { expect, it } from 'vitest';
import { bothServers, differences, observe, send, type Call, type Endpoint } from './differential.ts';

const NS = 'typed';
const APPLY = 'application/apply-patch+yaml';

/** Differences this test is not about, each listed in DIFFERENCES.md. */
const DELIBERATE: RegExp[] = [
  // The two servers' Service IP ranges.
  /^(create|apply) a Service \.object\.spec\.clusterIPs?(\[0\])?:/,
  // Fields the real server sets after its field manager ran (allocators, admission, the Job's
  // generated selector) are nobody's there; the fake counts its defaults as the creator's.
  /^create a Service \.object\.fields\.typed-create Update\.f:spec\.f:(clusterIPs?|ipFamilies|ipFamilyPolicy):/,
  /^create a Pod \.object\.fields\.typed-create Update\.f:spec\.f:(preemptionPolicy|priority|serviceAccount|serviceAccountName):/,
  /^create a Job \.object\.fields\.typed-create Update\.f:(metadata|spec\.f:(selector|template\.f:metadata)):/,
  /^create a Job \.object\.spec\.(selector\.matchLabels|template\.metadata\.labels)\.(batch\.kubernetes\.io\/)?controller-uid:/,
  /^create a Job \.object\.metadata\.labels\.(batch\.kubernetes\.io\/)?controller-uid:/,
  // The apiserver tier runs without the ServiceAccount admission plugin (no controller makes the
  // default ServiceAccount); the fake always names it.
  /^create a Pod \.object\.spec\.serviceAccount(Name)?:/,
  // The DefaultTolerationSeconds admission plugin; the fake has no such plugin.
  /^create a Pod \.object\.spec\.tolerations:/,
];

const deployment = (name: string): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS, labels: {}, annotations: {} },
  spec: {
    replicas: 0,
    paused: false,
    minReadySeconds: 0,
    revisionHistoryLimit: 0,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        hostNetwork: false,
        automountServiceAccountToken: false,
        nodeSelector: {},
        containers: [
          {
            name: 'main',
            image: 'example/typed:1',
            args: [],
            env: [
              { name: 'EMPTY', value: '' },
              { name: 'FULL', value: 'x' },
            ],
            ports: [{ containerPort: 8080, hostPort: 0, name: '' }],
            stdin: false,
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 0, timeoutSeconds: 0 },
          },
        ],
      },
    },
  },
});

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'typed', namespace: NS },
  spec: { publishNotReadyAddresses: false, selector: { app: 'typed' }, ports: [{ name: '', port: 80, nodePort: 0 }] },
};
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed', namespace: NS, generateName: '' }, immutable: false, data: { empty: '' }, binaryData: {} };
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'typed', namespace: NS }, type: '', stringData: { empty: '' } };
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'typed', namespace: NS, finalizers: [] },
  spec: {
    hostPID: false,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 0,
    imagePullSecrets: [],
    containers: [{ name: 'main', image: 'example/typed:1', tty: false, command: [], workingDir: '', resources: { limits: {} }, livenessProbe: { exec: { command: ['true'] }, failureThreshold: 0 } }],
  },
};
const job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'typed', namespace: NS },
  spec: { backoffLimit: 0, suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example/typed:1', env: [{ name: 'E', value: '' }] }] } } },
};
const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'typed', namespace: NS }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: [] }] };

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.typed.flink-sandbox.dev' },
  spec: {
    group: 'typed.flink-sandbox.dev',
    scope: 'Namespaced',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { s: { type: 'string' }, b: { type: 'boolean' }, n: { type: 'integer' }, l: { type: 'array', items: { type: 'string' } }, m: { type: 'object', additionalProperties: { type: 'string' } } } } },
          },
        },
      },
    ],
  },
};
const gadget = { apiVersion: 'typed.flink-sandbox.dev/v1', kind: 'Gadget', metadata: { name: 'g', namespace: NS }, spec: { s: '', b: false, n: 0, l: [], m: {}, undeclared: '' } };

const post = (label: string, path: string, body: object, query: Record<string, string> = {}): Call => ({ label, method: 'POST', path, body, query: { fieldManager: 'typed-create', ...query } });
const apply = (label: string, path: string, body: object): Call => ({ label, method: 'PATCH', path, body, contentType: APPLY, query: { fieldManager: 'sandbox', fieldValidation: 'Strict' } });
const core = (r: string): string => `/api/v1/namespaces/${NS}/${r}`;
const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;

const CALLS: Call[] = [
  post('create a Deployment', apps, deployment('created')),
  apply('apply a Deployment', `${apps}/applied`, deployment('applied')),
  apply('apply the same Deployment again', `${apps}/applied`, deployment('applied')),
  { label: 'merge-patch an omitempty field to its zero', method: 'PATCH', path: `${apps}/created`, body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'example/typed:1', env: [{ name: 'FULL', value: '' }] }] } } } }, contentType: 'application/strategic-merge-patch+json' },
  post('create a Service', core('services'), service),
  apply('apply a Service', `${core('services')}/applied`, { ...service, metadata: { name: 'applied', namespace: NS } }),
  post('create a ConfigMap', core('configmaps'), configMap),
  post('create a Secret', core('secrets'), secret),
  post('create a Pod', core('pods'), pod),
  post('create a Job', `/apis/batch/v1/namespaces/${NS}/jobs`, job),
  post('create a Role', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, role),
  post('an unknown nested field, Strict', apps, { ...deployment('strict'), spec: { ...(deployment('strict') as any).spec, colour: 'red' } }, { fieldValidation: 'Strict' }),
  post('an unknown nested field, no fieldValidation', apps, { ...deployment('warned'), spec: { ...(deployment('warned') as any).spec, colour: 'red' } }),
  apply('an apply with an unknown nested field', `${apps}/nested`, { ...deployment('nested'), spec: { ...(deployment('nested') as any).spec, colour: 'red' } }),
  post('create a custom resource', `/apis/typed.flink-sandbox.dev/v1/namespaces/${NS}/gadgets`, gadget),
];

const servers = bothServers();

async function run(ep: Endpoint): Promise<Array<Record<string, unknown>>> {
  expect((await send(ep, { label: 'namespace', method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } })).status).toBe(201);
  // Without kube-controller-manager no one makes the default ServiceAccount a Pod needs (the fake makes it itself).
  const sa = await send(ep, { label: 'sa', method: 'POST', path: core('serviceaccounts'), body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } } });
  expect([201, 409]).toContain(sa.status);
  expect((await send(ep, apply('CRD', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD.metadata.name}`, CRD))).status).toBeLessThan(300);
  if (ep === servers.fake) {
    const conditions = [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }];
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD.metadata.name}/status`;
    expect((await send(ep, { label: 'establish', method: 'PATCH', path, body: { status: { conditions, acceptedNames: CRD.spec.names } }, contentType: 'application/merge-patch+json' })).status).toBe(200);
  }
  for (let i = 0; i < 100; i++) {
    if ((await send(ep, { label: 'probe', method: 'GET', path: `/apis/typed.flink-sandbox.dev/v1/namespaces/${NS}/gadgets` })).status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const lastRv = new Map<string, string>();
  const out: Array<Record<string, unknown>> = [];
  for (const call of CALLS) out.push(observe(await send(ep, call), lastRv));
  return out;
}

it('the fake returns built-in objects as their Go types write them, and custom resources as sent, like kube-apiserver', async () => {
  const f = await run(servers.fake);
  const r = await run(servers.real);
  // The point of it, seen on the real server first: the empty env value is gone, replicas 0 kept.
  const created = r[0].object as any;
  expect(created.spec.template.spec.containers[0].env[0]).toEqual({ name: 'EMPTY' });
  expect(created.spec.replicas).toBe(0);
  expect((r[CALLS.length - 1].object as any).spec).toEqual({ s: '', b: false, n: 0, l: [], m: {} });
  const found: string[] = [];
  CALLS.forEach((call, i) => {
    for (const d of differences(f[i], r[i])) found.push(`${call.label} ${d}`);
  });
  expect(found.filter((d) => !DELIBERATE.some((re) => re.test(d)))).toEqual([]);
  // Every listed difference still shows up; one that no longer does is taken off the list.
  expect(DELIBERATE.filter((re) => !found.some((d) => re.test(d))).map(String)).toEqual([]);
}, 120_000);
