// The Kubernetes layer against the fake API server: apply, get, list, patch, delete, dry run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyConflictError, KubeApiError, type KubeObject } from '../../scripts/lib/kube/kube.ts';
import { namespace, simKube, type SimKube } from './kube-fixture.ts';

const NS = 'crud';
let s: SimKube;
let establisher: { close(): void } | undefined;
beforeAll(async () => {
  s = await simKube();
  await s.kube.apply([namespace(NS)]);
  // The bare API server runs no controllers; play apiextensions' part: mark new CRDs Established.
  establisher = await s.kube.watch('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {}, (type, crd) => {
    if (type === 'DELETED' || crd.status?.conditions?.some((c: { type: string }) => c.type === 'Established')) return;
    const ref = { apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name };
    const conditions = [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted' }];
    setTimeout(() => void s.kube.patchMerge(ref, { status: { conditions, acceptedNames: crd.spec.names } }, { subresource: 'status' }), 50);
  });
});
afterAll(async () => {
  establisher?.close();
  await s?.close();
});

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels },
  data,
});

const widgetCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.demo.sandbox.test' },
  spec: {
    group: 'demo.sandbox.test',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
      },
    ],
  },
};

describe('apply', () => {
  it('creates, and applying the same objects again changes nothing', async () => {
    const [created] = await s.kube.apply([configMap('settings', { rate: '10' })]);
    expect(created.metadata.uid).toBeTruthy();
    const before = await s.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: NS });
    expect(before?.data).toEqual({ rate: '10' });
    const [again] = await s.kube.apply([configMap('settings', { rate: '10' })]);
    expect(again.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    const [changed] = await s.kube.apply([configMap('settings', { rate: '20' })]);
    expect(changed.metadata.resourceVersion).not.toBe(before?.metadata.resourceVersion);
    expect(changed.data).toEqual({ rate: '20' });
  });

  it('applies a CRD and its custom resource in one batch, and the API rejects an undeclared field', async () => {
    const widget = (spec: object): KubeObject => ({ apiVersion: 'demo.sandbox.test/v1', kind: 'Widget', metadata: { name: 'w1', namespace: NS }, spec });
    const applied = await s.kube.apply([widgetCrd, widget({ size: 3 })]);
    expect(applied[1].spec).toEqual({ size: 3 });
    const started = performance.now();
    const err = await s.kube.apply([widget({ size: 3, colour: 'red' })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    const apiMessage = ((err as KubeApiError).status as { message: string }).message;
    expect(apiMessage).toMatch(/\.spec\.colour: field not declared in schema/);
    expect((err as KubeApiError).message).toBe(`apply Widget ${NS}/w1: ${apiMessage}`);
    // Like kube-apiserver, the sim answers 500 with no reason; it is not transient, so no retries.
    expect((err as KubeApiError).code).toBe(500);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('reports a field another manager changed and leaves it; its own merge patch is no conflict; force takes over', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owned', namespace: NS };
    await s.kube.apply([configMap('owned', { job: 'running', rate: '5' })]);
    await s.kube.patchMerge(ref, { data: { job: 'suspended' } });
    const [back] = await s.kube.apply([configMap('owned', { job: 'running', rate: '5' })]);
    expect(back.data.job).toBe('running');

    await s.sim('PATCH', `/api/v1/namespaces/${NS}/configmaps/owned?fieldManager=kubectl-edit`, { data: { job: 'stopped', rate: '9' } });
    const err = await s.kube.apply([configMap('owned', { job: 'running', rate: '5' })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyConflictError);
    expect((err as ApplyConflictError).conflicts).toEqual([
      { manager: 'kubectl-edit', field: '.data.job' },
      { manager: 'kubectl-edit', field: '.data.rate' },
    ]);
    expect((err as Error).message).toBe(`apply ConfigMap ${NS}/owned: fields the sandbox sets were changed by another manager: "kubectl-edit" holds .data.job, .data.rate`);
    expect((await s.kube.get(ref))?.data).toEqual({ job: 'stopped', rate: '9' });

    const [taken] = await s.kube.apply([configMap('owned', { job: 'running', rate: '5' })], { force: true });
    expect(taken.data).toEqual({ job: 'running', rate: '5' });
  });

  it('with dryRun persists nothing', async () => {
    const [dry] = await s.kube.apply([configMap('dry', { a: 'b' })], { dryRun: true });
    expect(dry.data).toEqual({ a: 'b' });
    expect(await s.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'dry', namespace: NS })).toBeUndefined();
  });
});

describe('get and list', () => {
  it('get returns undefined for an absent object and for a kind the server does not serve', async () => {
    expect(await s.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', namespace: NS })).toBeUndefined();
    expect(await s.kube.get({ apiVersion: 'nothing.example/v1', kind: 'Thing', name: 'x', namespace: NS })).toBeUndefined();
  });

  it('list filters by label selector and returns whole objects', async () => {
    await s.kube.apply([configMap('a', {}, { tier: 'web' }), configMap('b', {}, { tier: 'db' }), configMap('c', {}, { tier: 'web' })]);
    const web = await s.kube.list('v1', 'ConfigMap', { namespace: NS, labelSelector: 'tier=web' });
    expect(web.map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    expect(web.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap')).toBe(true);
    const notWeb = await s.kube.list('v1', 'ConfigMap', { namespace: NS, labelSelector: 'tier,tier!=web' });
    expect(notWeb.map((o) => o.metadata.name)).toEqual(['b']);
  });

  it('lists cluster-scoped kinds', async () => {
    const namespaces = await s.kube.list('v1', 'Namespace');
    expect(namespaces.map((n) => n.metadata.name)).toContain(NS);
  });
});

describe('patchMerge and delete', () => {
  it('merges a patch into the object', async () => {
    await s.kube.apply([configMap('patched', { keep: 'yes', drop: 'me' })]);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'patched', namespace: NS };
    const after = await s.kube.patchMerge(ref, { metadata: { labels: { suspended: 'true' } }, data: { drop: null } });
    expect(after.metadata.labels).toEqual({ suspended: 'true' });
    expect(after.data).toEqual({ keep: 'yes' });
  });

  it('patching an absent object surfaces the API 404 with its message', async () => {
    const err = await s.kube.patchMerge({ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', namespace: NS }, { data: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(404);
    expect((err as KubeApiError).message).toMatch(/^patch ConfigMap crud\/ghost: .*ghost.*not found/);
  });

  it('delete with wait returns only once a finalizer let the object go', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'held', namespace: NS };
    await s.kube.apply([{ ...configMap('held', {}), metadata: { ...configMap('held', {}).metadata, finalizers: ['sandbox.test/hold'] } }]);
    let resolved = false;
    const deleting = s.kube.delete(ref, { wait: true, timeoutMs: 5000 }).then((r) => ((resolved = true), r));
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    expect((await s.kube.get(ref))?.metadata.deletionTimestamp).toBeTruthy();
    await s.kube.patchMerge(ref, { metadata: { finalizers: null } });
    expect(await deleting).toBe(true);
    expect(await s.kube.get(ref)).toBeUndefined();
    expect(await s.kube.delete(ref)).toBe(false);
  });

  it('delete with wait times out naming the object', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'stuck', namespace: NS };
    await s.kube.apply([{ ...configMap('stuck', {}), metadata: { ...configMap('stuck', {}).metadata, finalizers: ['sandbox.test/hold'] } }]);
    await expect(s.kube.delete(ref, { wait: true, timeoutMs: 300 })).rejects.toThrow(
      'timed out after 300ms waiting for ConfigMap crud/stuck to be deleted; last seen: still there, being deleted',
    );
    await s.kube.patchMerge(ref, { metadata: { finalizers: null } });
  });
});

describe('createDryRun', () => {
  it('checks an object with the server and persists nothing', async () => {
    await s.kube.createDryRun(configMap('probe', { x: 'y' }));
    expect(await s.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'probe', namespace: NS })).toBeUndefined();
  });

  it('throws the API refusal', async () => {
    const err = await s.kube
      .createDryRun({ apiVersion: 'demo.sandbox.test/v1', kind: 'Widget', metadata: { name: 'bad', namespace: NS }, spec: { size: 'large' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as Error).message).toMatch(/^dry-run create Widget crud\/bad: .*size/);
  });
});
