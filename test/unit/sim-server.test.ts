// The fake API server's object semantics, driven through @kubernetes/client-node itself and
// through plain HTTP: discovery, CRUD and errors, selectors, the patch types, server-side
// apply, dry-run, the status subresource, finalizers, namespace deletion and garbage collection.
import { ApiException, AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kubeConfigFor } from '../sim/api/test-client.ts';
import { BUILT_IN, groupVersionPath } from '../../scripts/lib/kube/discovery.ts';
import { type SimServer, startSimServer } from '../sim/api/server.ts';

let sim: SimServer;
let core: CoreV1Api;
let apps: AppsV1Api;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  sim = await startSimServer();
  const kc = kubeConfigFor(sim.url);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
});
afterAll(async () => {
  await sim.close();
});

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
    throw err;
  }
  throw new Error('expected the call to fail');
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function exists(path: string): Promise<boolean> {
  return (await call(sim.url, 'GET', path)).status === 200;
}

const deployment = (name: string, image = 'nginx:1.27'): any => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
  },
});

describe('discovery', () => {
  it('serves version, groups and resource lists with subresources after their parent', async () => {
    expect((await call(sim.url, 'GET', '/version')).body.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect((await call(sim.url, 'GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await call(sim.url, 'GET', '/apis')).body;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'apiextensions.k8s.io', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'policy', 'events.k8s.io']));
    const appsV1 = (await call(sim.url, 'GET', '/apis/apps/v1')).body;
    const names = appsV1.resources.map((r: any) => r.name);
    expect(names.indexOf('deployments')).toBeLessThan(names.indexOf('deployments/status'));
    expect(appsV1.resources.find((r: any) => r.name === 'deployments')).toMatchObject({ singularName: 'deployment', namespaced: true, kind: 'Deployment', shortNames: ['deploy'] });
    const v1 = (await call(sim.url, 'GET', '/api/v1')).body.resources.map((r: any) => r.name);
    expect(v1).toEqual(expect.arrayContaining(['pods', 'pods/log', 'pods/status', 'pods/portforward', 'namespaces', 'nodes']));
    expect((await call(sim.url, 'GET', '/apis/nope.example.com/v1')).status).toBe(404);
  });

  it("serves every built-in kind the CLI knows without discovery at the CLI's path and scope", async () => {
    for (const [apiVersion, kinds] of Object.entries(BUILT_IN)) {
      const served = (await call(sim.url, 'GET', groupVersionPath(apiVersion))).body.resources as Array<{ name: string; kind: string; namespaced: boolean }>;
      for (const k of kinds) expect(served.find((r) => r.kind === k.kind && !r.name.includes('/')), `${apiVersion} ${k.kind}`).toMatchObject(k);
    }
  });

  it('lets KubernetesObjectApi resolve kinds and scopes through discovery', async () => {
    const created = await objects.create(deployment('disco'));
    expect(created.metadata?.namespace).toBe('default');
    const ns = await objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
    expect(ns.metadata?.uid).toBeTruthy();
  });
});

describe('CRUD', () => {
  it('fills metadata on create and answers typed errors', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'one' }, data: { a: '1' } } });
    expect(cm.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(cm.metadata?.resourceVersion).toMatch(/^\d+$/);
    // Like kube-apiserver, ConfigMaps carry no generation (workloads and custom resources do).
    expect(cm.metadata?.generation).toBeUndefined();
    expect(cm.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(cm.metadata?.managedFields?.[0]?.manager).toBeTruthy();

    const dup = await apiError(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'one' } } }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', message: 'configmaps "one" already exists' });

    const missing = await apiError(core.readNamespacedConfigMap({ namespace: 'default', name: 'nope' }));
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', details: { name: 'nope', kind: 'configmaps' } } });

    const noNs = await apiError(core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'x' } } }));
    expect(noNs.code).toBe(404);
    expect(noNs.body.message).toBe('namespaces "ghost" not found');

    const bad = await apiError(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }));
    expect(bad.code).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.message).toContain('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value');

    const generated = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    expect(generated.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('rejects an update with a stale resourceVersion (409) and bumps the version on a real change', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'rv' }, data: { a: '1' } } });
    const updated = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: { ...cm, data: { a: '2' } } });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const stale = await apiError(core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: { ...cm, data: { a: '3' } } }));
    expect(stale.code).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toContain('the object has been modified');
    const same = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: updated });
    expect(same.metadata?.resourceVersion).toBe(updated.metadata?.resourceVersion);
  });

  it('lists with a List kind, a resourceVersion and items without per-item kind, across namespaces too', async () => {
    const list = (await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps')).body;
    expect(list.kind).toBe('ConfigMapList');
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(list.items[0].kind).toBeUndefined();
    const all = await core.listConfigMapForAllNamespaces();
    expect(all.items.length).toBeGreaterThanOrEqual(list.items.length);
    const paged = (await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps?limit=1')).body;
    expect(paged.items).toHaveLength(1);
    const next = (await call(sim.url, 'GET', `/api/v1/namespaces/default/configmaps?limit=1&continue=${encodeURIComponent(paged.metadata.continue)}`)).body;
    expect(next.items[0].metadata.name).not.toBe(paged.items[0].metadata.name);
  });
});

describe('selectors', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const mk = (name: string, labels: Record<string, string>, nodeName?: string) =>
      core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name, labels }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1' }] } } });
    await mk('a', { app: 'x', tier: 'web' }, 'worker');
    await mk('b', { app: 'y', tier: 'db' });
    await mk('c', { app: 'z' }, 'worker');
  });
  const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
    (await core.listNamespacedPod({ namespace: 'sel', labelSelector, fieldSelector })).items.map((p) => p.metadata!.name!);

  it('matches every label selector operator', async () => {
    expect(await names('app=x')).toEqual(['a']);
    expect(await names('app==y')).toEqual(['b']);
    expect(await names('app!=x')).toEqual(['b', 'c']);
    expect(await names('app in (x, z)')).toEqual(['a', 'c']);
    expect(await names('app notin (x)')).toEqual(['b', 'c']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!tier')).toEqual(['c']);
    expect(await names('tier,app=y')).toEqual(['b']);
  });

  it('matches field selectors and refuses unsupported fields', async () => {
    expect(await names(undefined, 'metadata.name=b')).toEqual(['b']);
    expect(await names(undefined, 'spec.nodeName=worker')).toEqual(['a', 'c']);
    expect(await names(undefined, 'spec.nodeName=')).toEqual(['b']);
    expect(await names(undefined, 'status.phase=Pending,metadata.name!=a')).toEqual(['b', 'c']);
    expect(await names(undefined, 'metadata.namespace=sel')).toHaveLength(3);
    const bad = await call(sim.url, 'GET', '/api/v1/namespaces/sel/pods?fieldSelector=spec.image%3Dx');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.image');
  });

  it('deletes a collection by label selector', async () => {
    const r = await call(sim.url, 'DELETE', '/api/v1/namespaces/sel/pods?labelSelector=app%3Dz');
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('PodList');
    expect(r.body.items.map((p: any) => p.metadata.name)).toEqual(['c']);
    expect(await names()).toEqual(['a', 'b']);
  });
});

describe('patch types', () => {
  it('merge patch sets and deletes keys (null removes)', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'mp', labels: { a: '1', b: '2' } }, data: { x: '1', y: '2' } } });
    const r = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mp', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { b: null, c: '3' } }, data: { y: null, z: '3' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.metadata.labels).toEqual({ a: '1', c: '3' });
    expect(r.body.data).toEqual({ x: '1', z: '3' });
  });

  it('strategic merge patch merges containers by name; merge patch replaces the list', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: { ...deployment('smp'), spec: { ...deployment('smp').spec, template: { metadata: { labels: { app: 'smp' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }, { name: 'side', image: 'busybox:1' }] } } } } });
    const patched = await apps.patchNamespacedDeployment(
      { namespace: 'default', name: 'smp', body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:2', 'side=busybox:1']);
    expect(patched.metadata?.generation).toBe(2);
    const merged = await call(sim.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/smp', {
      contentType: 'application/merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:3' }] } } } },
    });
    expect(merged.body.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
  });

  it('json patch applies operations and fails a test op with 422', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'jp' }, data: { a: '1' } } });
    const ok = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', {
      contentType: 'application/json-patch+json',
      body: [{ op: 'test', path: '/data/a', value: '1' }, { op: 'replace', path: '/data/a', value: '2' }, { op: 'add', path: '/data/b~1c', value: '3' }],
    });
    expect(ok.body.data).toEqual({ a: '2', 'b/c': '3' });
    const failed = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', { contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/data/a', value: 'nope' }] });
    expect(failed.status).toBe(422);
    const unknownType = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', { contentType: 'application/xml', body: '<a/>' });
    expect(unknownType.status).toBe(415);
    const absent = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/absent', { contentType: 'application/merge-patch+json', body: {} });
    expect(absent.status).toBe(404);
  });
});

describe('server-side apply', () => {
  const apply = (obj: KubernetesObject, manager = 'sandbox', force = true): Promise<KubernetesObject> =>
    objects.patch(obj, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

  it('creates, then a second identical apply changes nothing (same resourceVersion and generation)', async () => {
    const first = (await apply(deployment('ssa'))) as any;
    expect(first.metadata.generation).toBe(1);
    expect(first.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'sandbox', operation: 'Apply' })]);
    expect(first.spec.replicas).toBe(1);
    const second = (await apply(deployment('ssa'))) as any;
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.metadata.generation).toBe(1);
    const changed = (await apply(deployment('ssa', 'nginx:1.28'))) as any;
    expect(Number(changed.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(changed.metadata.generation).toBe(2);
  });

  it('removes fields the manager stopped applying and reports conflicts with other managers unless forced', async () => {
    const withLabel = deployment('ssa2');
    withLabel.metadata.labels.extra = 'yes';
    await apply(withLabel);
    const without = (await apply(deployment('ssa2'))) as any;
    expect(without.metadata.labels).toEqual({ app: 'ssa2' });

    await call(sim.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/ssa2?fieldManager=kubectl-edit', {
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 3 } },
    });
    const mine = deployment('ssa2');
    mine.spec.replicas = 2;
    const refused = await apiError(apply(mine, 'sandbox', false));
    expect(refused.code).toBe(409);
    expect(refused.body.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
    const forced = (await apply(mine, 'sandbox', true)) as any;
    expect(forced.spec.replicas).toBe(2);
    expect(forced.metadata.managedFields.find((m: any) => m.manager === 'kubectl-edit')).toBeUndefined();
  });

  it('accepts YAML bodies and requires a fieldManager', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-cm\n  namespace: default\ndata:\n  k: v\n';
    const r = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/yaml-cm?fieldManager=t', { contentType: 'application/apply-patch+yaml', body: yaml });
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ k: 'v' });
    const noManager = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/yaml-cm', { contentType: 'application/apply-patch+yaml', body: yaml });
    // kube-apiserver: 422 Invalid, on PatchOptions' fieldManager.
    expect(noManager.status).toBe(422);
    expect(noManager.body.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
    const wrongKind = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/yaml-cm?fieldManager=t', { contentType: 'application/apply-patch+yaml', body: yaml.replace('ConfigMap', 'Secret') });
    expect(wrongKind.status).toBe(400);
  });
});

describe('dry-run', () => {
  it('validates and answers fully but persists nothing and bumps no resourceVersion', async () => {
    const rv = (await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    const created = await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: { metadata: { name: 'dry' }, data: { a: '1' } } });
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toBeTruthy();
    expect(await exists('/api/v1/namespaces/default/configmaps/dry')).toBe(false);
    const invalid = await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: { metadata: { name: 'NO' } } });
    expect(invalid.status).toBe(422);
    const applied = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/dry2?dryRun=All&fieldManager=t', { contentType: 'application/apply-patch+yaml', body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry2"}}' });
    expect(applied.status).toBe(201);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'keep' }, data: { a: '1' } } });
    const rv2 = (await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    const patched = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/keep?dryRun=All', { contentType: 'application/merge-patch+json', body: { data: { a: '2' } } });
    expect(patched.body.data.a).toBe('2');
    const deleted = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/configmaps/keep?dryRun=All');
    expect(deleted.status).toBe(200);
    const after = await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps/keep');
    expect(after.body.data.a).toBe('1');
    expect(after.body.metadata.resourceVersion).toBe(rv2);
    expect(Number(rv2)).toBe(Number(rv) + 1);
    const audit = (await call(sim.url, 'GET', '/_sim/audit')).body.filter((e: any) => e.dryRun);
    expect(audit.map((e: any) => e.verb)).toEqual(expect.arrayContaining(['create', 'patch', 'delete']));
  });
});

describe('status subresource', () => {
  it('ignores status on the main resource and everything but status on /status', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: { ...deployment('st'), status: { replicas: 9 } } as any });
    // A Deployment starts with an empty status, whatever the create said.
    expect(d.status).toEqual({});
    const main = await call(sim.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/st', { contentType: 'application/merge-patch+json', body: { status: { replicas: 5 } } });
    expect(main.body.status).toEqual({});
    expect(main.body.metadata.resourceVersion).toBe(d.metadata?.resourceVersion);
    const st = await call(sim.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/st/status', {
      contentType: 'application/merge-patch+json',
      body: { status: { replicas: 1, readyReplicas: 1 }, spec: { replicas: 7 }, metadata: { labels: { hacked: 'yes' } } },
    });
    expect(st.body.status).toEqual({ replicas: 1, readyReplicas: 1 });
    expect(st.body.spec.replicas).toBe(1);
    expect(st.body.metadata.labels.hacked).toBeUndefined();
    expect(st.body.metadata.generation).toBe(1);
    const read = await apps.readNamespacedDeploymentStatus({ namespace: 'default', name: 'st' });
    expect(read.status?.readyReplicas).toBe(1);
    const put = await apps.replaceNamespacedDeploymentStatus({ namespace: 'default', name: 'st', body: { ...read, status: { replicas: 2 } } });
    expect(put.status?.replicas).toBe(2);
    expect((await call(sim.url, 'GET', '/api/v1/namespaces/default/configmaps/one/status')).status).toBe(404);
  });
});

describe('deletion', () => {
  it('waits for finalizers, then removes the object when the last one goes', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fin', finalizers: ['example.com/hold'] } } });
    const r = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(r.status).toBe(200);
    expect(r.body.metadata.deletionTimestamp).toBeTruthy();
    expect(await exists('/api/v1/namespaces/default/configmaps/fin')).toBe(true);
    const added = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: ['example.com/hold', 'more'] } } });
    expect(added.status).toBe(422);
    await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
    expect(await exists('/api/v1/namespaces/default/configmaps/fin')).toBe(false);
    const plain = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/configmaps/one');
    expect(plain.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'one', kind: 'configmaps' } });
  });

  it('deletes a pod on a live node gracefully: it stays until the kubelet deletes it with grace 0', async () => {
    await core.createNode({ body: { metadata: { name: 'node-1' } } });
    const mk = (name: string, nodeName: string) => core.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'c:1' }] } } });
    const p = await mk('graceful', 'node-1');
    const r = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/graceful');
    expect(r.body).toMatchObject({ kind: 'Pod', metadata: { deletionGracePeriodSeconds: 30 } });
    expect(Date.parse(r.body.metadata.deletionTimestamp)).toBeGreaterThan(Date.now() + 20_000);
    const st = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/pods/graceful/status', { actor: 'kubelet', contentType: 'application/merge-patch+json', body: { status: { phase: 'Running' } } });
    expect(st.status).toBe(200);
    expect(await exists('/api/v1/namespaces/default/pods/graceful')).toBe(true);
    const wrongUid = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/graceful', { actor: 'kubelet', body: { gracePeriodSeconds: 0, preconditions: { uid: 'other' } } });
    expect(wrongUid.status).toBe(409);
    const done = await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/graceful', { actor: 'kubelet', body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: p.metadata?.uid } } });
    expect(done.status).toBe(200);
    expect(await exists('/api/v1/namespaces/default/pods/graceful')).toBe(false);

    await mk('nodeless', 'no-such-node');
    await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/nodeless');
    expect(await exists('/api/v1/namespaces/default/pods/nodeless')).toBe(false);
    await mk('stranded', 'node-1');
    await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/stranded');
    await core.deleteNode({ name: 'node-1' });
    await eventually(async () => ((await exists('/api/v1/namespaces/default/pods/stranded')) ? undefined : true), 'pod of a deleted node collected');
  });

  it('terminates a namespace: no new content, contents deleted, then the namespace goes', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    expect((await core.readNamespacedServiceAccount({ namespace: 'doomed', name: 'default' })).metadata?.name).toBe('default');
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'plain' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    const ns = await call(sim.url, 'DELETE', '/api/v1/namespaces/doomed');
    expect(ns.body.status.phase).toBe('Terminating');
    const refused = await apiError(core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }));
    expect(refused.code).toBe(403);
    expect(refused.body.message).toContain('because it is being terminated');
    await eventually(async () => ((await exists('/api/v1/namespaces/doomed/configmaps/plain')) ? undefined : true), 'plain configmap deleted');
    expect((await core.readNamespace({ name: 'doomed' })).status?.phase).toBe('Terminating');
    await call(sim.url, 'PATCH', '/api/v1/namespaces/doomed/configmaps/held', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
    await eventually(async () => ((await exists('/api/v1/namespaces/doomed')) ? undefined : true), 'namespace gone');
  });

  it('collects dependents of a deleted owner in the background, orphans on request, waits on foreground', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner' } } });
    const ref = (o: any) => [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid }];
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'dep', ownerReferences: ref(owner) } } });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner' });
    await eventually(async () => ((await exists('/api/v1/namespaces/default/configmaps/dep')) ? undefined : true), 'dependent collected');

    const owner2 = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner2' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'dep2', ownerReferences: ref(owner2) } } });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner2', propagationPolicy: 'Orphan' });
    await eventually(async () => ((await exists('/api/v1/namespaces/default/configmaps/owner2')) ? undefined : true), 'orphaning owner gone');
    const orphan = await core.readNamespacedConfigMap({ namespace: 'default', name: 'dep2' });
    expect(orphan.metadata?.ownerReferences).toBeUndefined();

    const owner3 = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner3' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'dep3', ownerReferences: ref(owner3), finalizers: ['example.com/hold'] } } });
    await call(sim.url, 'DELETE', '/api/v1/namespaces/default/configmaps/owner3?propagationPolicy=Foreground');
    await eventually(async () => ((await core.readNamespacedConfigMap({ namespace: 'default', name: 'dep3' })).metadata?.deletionTimestamp ? true : undefined), 'dependent terminating');
    expect(await exists('/api/v1/namespaces/default/configmaps/owner3')).toBe(true);
    await call(sim.url, 'PATCH', '/api/v1/namespaces/default/configmaps/dep3', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
    await eventually(async () => ((await exists('/api/v1/namespaces/default/configmaps/owner3')) ? undefined : true), 'foreground owner gone');
  });
});
