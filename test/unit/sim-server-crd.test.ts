// Custom resources and admission in the fake API server: a CRD is served only once it is
// Established, its schema validates every write (unknown fields refused), its status
// subresource is honoured, deleting it removes its instances, and admission webhooks answer
// only when a ready pod backs their Service.
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kubeConfigFor } from '../sim/api/test-client.ts';
import { type SimServer, startSimServer } from '../sim/api/server.ts';

let sim: SimServer;

beforeAll(async () => {
  sim = await startSimServer();
});
afterAll(async () => {
  await sim.close();
});

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] },
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
                required: ['size'],
                properties: {
                  size: { type: 'integer' },
                  color: { type: 'string', enum: ['red', 'blue'] },
                  parts: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

const widget = (name: string, spec: Record<string, unknown>): any => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec });

async function establish(name: string): Promise<void> {
  const r = await call(sim.url, 'PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}/status`, {
    actor: 'apiextensions-controller',
    contentType: 'application/merge-patch+json',
    body: { status: { conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] } },
  });
  expect(r.status).toBe(200);
}

describe('CRD lifecycle and discovery', () => {
  it('serves the resource only after Established=True, then through discovery and KubernetesObjectApi', async () => {
    const created = await call(sim.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
    expect(created.status).toBe(201);
    expect((await call(sim.url, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status).toBe(404);
    expect((await call(sim.url, 'GET', '/apis')).body.groups.map((g: any) => g.name)).not.toContain('example.com');
    const dry = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets?dryRun=All', { body: widget('early', { size: 1 }) });
    expect(dry.status).toBe(404);

    await establish('widgets.example.com');
    const groups = (await call(sim.url, 'GET', '/apis')).body.groups;
    expect(groups.find((g: any) => g.name === 'example.com')).toMatchObject({ preferredVersion: { groupVersion: 'example.com/v1', version: 'v1' } });
    const list = (await call(sim.url, 'GET', '/apis/example.com/v1')).body;
    expect(list.resources.map((r: any) => r.name)).toEqual(['widgets', 'widgets/status']);
    expect(list.resources[0]).toMatchObject({ kind: 'Widget', namespaced: true, singularName: 'widget', shortNames: ['wd'] });

    const objects = KubernetesObjectApi.makeApiClient(kubeConfigFor(sim.url));
    const applied = (await objects.patch(widget('w1', { size: 2, parts: [{ name: 'a', n: 1 }] }), undefined, undefined, 'sandbox', true, PatchStrategy.ServerSideApply)) as any;
    expect(applied.spec.size).toBe(2);
    const again = (await objects.patch(widget('w1', { size: 2, parts: [{ name: 'a', n: 1 }] }), undefined, undefined, 'sandbox', true, PatchStrategy.ServerSideApply)) as any;
    expect(again.metadata.resourceVersion).toBe(applied.metadata.resourceVersion);
    const items = (await call(sim.url, 'GET', '/apis/example.com/v1/widgets')).body;
    expect(items.kind).toBe('WidgetList');
    expect(items.items[0]).toMatchObject({ apiVersion: 'example.com/v1', kind: 'Widget' });
  });

  it('validates writes against the schema: strict unknown fields, invalid values, SSA typed-patch failure', async () => {
    const unknown = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets?fieldValidation=Strict', { body: widget('u', { size: 1, colour: 'red' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.colour"');
    // Warn is what the server does when the client names no fieldValidation.
    const pruned = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('warned', { size: 1, colour: 'red' }) });
    expect(pruned.status).toBe(201);
    expect(pruned.body.spec).toEqual({ size: 1 });
    expect(pruned.headers.get('warning')).toContain('unknown field \\"spec.colour\\"');
    const preserved = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('free', { size: 1, extra: { anything: { goes: true } } }) });
    expect(preserved.status).toBe(201);

    const invalid = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('bad', { size: 'big', color: 'green' }) });
    expect(invalid.status).toBe(422);
    expect(invalid.body.reason).toBe('Invalid');
    expect(invalid.body.message).toMatch(/^Widget\.example\.com "bad" is invalid: \[spec\.size: .*, spec\.color: Unsupported value/);
    expect(invalid.body.details.causes.map((c: any) => c.field).sort()).toEqual(['spec.color', 'spec.size']);
    const missing = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('req', {}) });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toContain('spec.size: Required value');

    const ssa = await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1?fieldManager=sandbox&force=true', {
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(widget('w1', { size: 2, sizee: 3 })),
    });
    expect(ssa.status).toBe(500);
    expect(ssa.body.message).toBe('failed to create typed patch object (default/w1; example.com/v1, Kind=Widget): .spec.sizee: field not declared in schema');

    const patched = await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/merge-patch+json', body: { spec: { size: 'x' } } });
    expect(patched.status).toBe(422);
    const smp = await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/strategic-merge-patch+json', body: { spec: { size: 3 } } });
    expect(smp.status).toBe(415);
    const w1 = (await call(sim.url, 'GET', '/apis/example.com/v1/namespaces/default/widgets/w1')).body;
    delete w1.metadata.resourceVersion;
    const unconditional = await call(sim.url, 'PUT', '/apis/example.com/v1/namespaces/default/widgets/w1', { body: w1 });
    expect(unconditional.status).toBe(422);
    expect(unconditional.body.message).toContain('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
  });

  it('honours the CRD status subresource and keeps generation for status writes', async () => {
    const st = await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1/status', { contentType: 'application/merge-patch+json', body: { status: { phase: 'Ready' }, spec: { size: 99 } } });
    expect(st.status).toBe(200);
    expect(st.body.status).toEqual({ phase: 'Ready' });
    expect(st.body.spec.size).toBe(2);
    expect(st.body.metadata.generation).toBe(1);
    const main = await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/merge-patch+json', body: { status: { phase: 'Hacked' }, spec: { size: 4 } } });
    expect(main.body.status).toEqual({ phase: 'Ready' });
    expect(main.body.metadata.generation).toBe(2);
  });

  it('deletes the instances of a deleted CRD, then the CRD and its API', async () => {
    await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: ['example.com/hold'] } } });
    const del = await call(sim.url, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    const refused = await call(sim.url, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('late', { size: 1 }) });
    expect(refused.status).toBe(405);
    await new Promise((r) => setTimeout(r, 20));
    const left = (await call(sim.url, 'GET', '/apis/example.com/v1/widgets')).body.items;
    expect(left.map((w: any) => w.metadata.name)).toEqual(['w1']);
    expect(left[0].metadata.deletionTimestamp).toBeTruthy();
    await call(sim.url, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
    await new Promise((r) => setTimeout(r, 20));
    expect((await call(sim.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).status).toBe(404);
    expect((await call(sim.url, 'GET', '/apis/example.com/v1/widgets')).status).toBe(404);
  });

  it('refuses a CRD whose name does not match its names and group', async () => {
    const bad = await call(sim.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: { ...crd, metadata: { name: 'gadgets.example.com' } } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('must be spec.names.plural+"."+spec.group');
  });
});

describe('admission webhooks', () => {
  const webhookConfig = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'guard' },
    webhooks: [
      {
        name: 'guard.example.com',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        clientConfig: { service: { namespace: 'hooks', name: 'guard', path: '/validate' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] }],
        objectSelector: { matchLabels: { guarded: 'yes' } },
      },
    ],
  };
  const guarded = (name: string) => ({ metadata: { name, labels: { guarded: 'yes' } } });

  it('fails calls until a ready pod backs the webhook Service; the webhookRefuse fault refuses client calls', async () => {
    await call(sim.url, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'hooks' } } });
    await call(sim.url, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', { body: webhookConfig });
    const noSvc = await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: guarded('a') });
    expect(noSvc.status).toBe(500);
    expect(noSvc.body.message).toBe('Internal error occurred: failed calling webhook "guard.example.com": failed to call webhook: Post "https://guard.hooks.svc:443/validate?timeout=10s": service "guard" not found');
    expect((await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'unguarded' } } })).status).toBe(201);

    await call(sim.url, 'POST', '/api/v1/namespaces/hooks/services', { body: { metadata: { name: 'guard' }, spec: { selector: { app: 'guard' }, ports: [{ port: 443, targetPort: 9443 }] } } });
    const noEndpoints = await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps', { body: guarded('a') });
    expect(noEndpoints.body.message).toContain('no endpoints available for service "guard"');

    await call(sim.url, 'POST', '/api/v1/namespaces/hooks/pods', { body: { metadata: { name: 'guard-1', labels: { app: 'guard' } }, spec: { containers: [{ name: 'c', image: 'guard:1' }] } } });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/hooks/pods/guard-1/status', { actor: 'kubelet', contentType: 'application/merge-patch+json', body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } });
    expect((await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: guarded('a') })).status).toBe(201);

    await call(sim.url, 'PUT', '/_sim/faults', { body: { webhookRefuse: { count: 1 } } });
    const refused = await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps', { body: guarded('b') });
    expect(refused.status).toBe(500);
    expect(refused.body.message).toMatch(/failed calling webhook "guard.example.com": .*connect: connection refused$/);
    expect((await call(sim.url, 'POST', '/api/v1/namespaces/default/configmaps', { body: guarded('b') })).status).toBe(201);
    expect((await call(sim.url, 'GET', '/_sim/faults')).body).toEqual({});
  });

  it('refuses pods whose ServiceAccount does not exist', async () => {
    const r = await call(sim.url, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'flink', containers: [{ name: 'c', image: 'x:1' }] } } });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('pods "p" is forbidden: error looking up service account default/flink: serviceaccount "flink" not found');
  });
});
