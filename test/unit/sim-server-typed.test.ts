// The fake API server writes built-in objects as kube-apiserver's Go types do
// (test/sim/api/typed.ts, from test/fixtures/omitempty/types.json): zero values under
// `omitempty` are left out, pointers keep their zeros, struct fields are always written,
// unknown nested fields are unknown; custom resources keep what was sent. And the CLI's
// check-then-act converges on it where kube-apiserver once made it re-apply forever.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsDesired } from '../../scripts/lib/kube/desired.ts';
import { parseManifests } from '../../scripts/lib/kube/kube.ts';
import { pinnedKubernetesVersion } from '../real/apiserver/binaries.ts';
import { BUILTIN_TYPES } from '../sim/api/resources.ts';
import { call } from '../sim/api/test-client.ts';
import { goTypeOf, typeTable } from '../sim/api/typed.ts';
import { type SimKube, simKube } from './kube-fixture.ts';

let sk: SimKube;
beforeAll(async () => {
  sk = await simKube();
});
afterAll(async () => {
  await sk.close();
});

const NS = 'default';
const field = (type: string, name: string): string[] | undefined => typeTable.types[type]?.find((f) => f[0] === name);

describe('the table of Go types', () => {
  it('is of the Kubernetes the apiserver tier builds, and covers every built-in kind the fake serves', async () => {
    expect(typeTable.kubernetesVersion).toBe(await pinnedKubernetesVersion());
    expect(BUILTIN_TYPES.filter((rt) => goTypeOf(rt) === undefined).map((rt) => rt.kind)).toEqual([]);
    // The fields this is about, as k8s.io/api declares them.
    expect(field('core/v1.EnvVar', 'value')).toEqual(['value', 'o', 'string']);
    expect(field('apps/v1.DeploymentSpec', 'replicas')).toEqual(['replicas', 'op', 'int']);
    expect(field('core/v1.PodSpec', 'containers')).toEqual(['containers', '', '[]core/v1.Container']);
  });
});

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'typed', namespace: NS },
  spec: {
    replicas: 0,
    paused: false,
    minReadySeconds: 0,
    selector: { matchLabels: { app: 'typed' } },
    template: {
      metadata: { labels: { app: 'typed' } },
      spec: {
        hostNetwork: false,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'main',
            image: 'example/typed:1',
            args: [],
            imagePullPolicy: '',
            env: [{ name: 'EMPTY', value: '' }, { name: 'FULL', value: 'x' }],
            ports: [{ containerPort: 8080, hostPort: 0 }],
          },
        ],
      },
    },
  },
};

describe('built-in objects, as their Go types write them', () => {
  it('a Deployment: omitempty zeros gone, pointer zeros kept, an empty string defaulted as unset', async () => {
    const res = await call(sk.url, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, { body: deployment });
    expect(res.status).toBe(201);
    const spec = res.body.spec;
    expect(spec.replicas).toBe(0);
    expect(spec).not.toHaveProperty('paused');
    expect(spec).not.toHaveProperty('minReadySeconds');
    expect(spec.template.spec).not.toHaveProperty('hostNetwork');
    expect(spec.template.spec.automountServiceAccountToken).toBe(false);
    const c = spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: 'EMPTY' }, { name: 'FULL', value: 'x' }]);
    expect(c).not.toHaveProperty('args');
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    // imagePullPolicy "" decodes as unset, so the default applies.
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    // Stored so: a read gives the same.
    const read = await call(sk.url, 'GET', `/apis/apps/v1/namespaces/${NS}/deployments/typed`);
    expect(read.body.spec.template.spec.containers[0].env).toEqual([{ name: 'EMPTY' }, { name: 'FULL', value: 'x' }]);
  });

  it('a merge patch writing an omitempty zero removes the field; a re-apply of an empty value changes nothing', async () => {
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/typed`;
    const patched = await call(sk.url, 'PATCH', path, { body: { spec: { minReadySeconds: 5 } }, contentType: 'application/merge-patch+json' });
    expect(patched.body.spec.minReadySeconds).toBe(5);
    const zeroed = await call(sk.url, 'PATCH', path, { body: { spec: { minReadySeconds: 0 } }, contentType: 'application/merge-patch+json' });
    expect(zeroed.body.spec).not.toHaveProperty('minReadySeconds');

    // Without imagePullPolicy "": the creator owns the defaulted value, and "" would conflict with it.
    const config = structuredClone(deployment);
    delete (config.spec.template.spec.containers[0] as { imagePullPolicy?: string }).imagePullPolicy;
    const applyPath = `${path}?fieldManager=typed-test&fieldValidation=Strict`;
    const first = await call(sk.url, 'PATCH', applyPath, { body: config, contentType: 'application/apply-patch+yaml' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await call(sk.url, 'PATCH', applyPath, { body: config, contentType: 'application/apply-patch+yaml' });
    expect(again.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    expect(again.body.spec.template.spec.containers[0].env[0]).toEqual({ name: 'EMPTY' });
  });

  it('a Pod, a Service and a ConfigMap', async () => {
    const pod = await call(sk.url, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'typed', namespace: NS, finalizers: [] },
        spec: { hostPID: false, priority: 0, nodeSelector: {}, containers: [{ name: 'main', image: 'example/typed:1', stdin: false, command: [], livenessProbe: { periodSeconds: 0, exec: { command: ['true'] } } }] },
      },
    });
    expect(pod.status).toBe(201);
    expect(pod.body.metadata).not.toHaveProperty('finalizers');
    expect(pod.body.spec).not.toHaveProperty('hostPID');
    expect(pod.body.spec).not.toHaveProperty('nodeSelector');
    expect(pod.body.spec.priority).toBe(0);
    const c = pod.body.spec.containers[0];
    expect(c).not.toHaveProperty('stdin');
    expect(c).not.toHaveProperty('command');
    // periodSeconds 0 counts as unset: defaulted, as the other probe fields.
    expect(c.livenessProbe).toEqual({ exec: { command: ['true'] }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });

    const svc = await call(sk.url, 'POST', `/api/v1/namespaces/${NS}/services`, {
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'typed' }, spec: { publishNotReadyAddresses: false, selector: { app: 'typed' }, ports: [{ name: '', port: 80, nodePort: 0 }] } },
    });
    expect(svc.status).toBe(201);
    expect(svc.body.spec).not.toHaveProperty('publishNotReadyAddresses');
    expect(svc.body.spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 80 }]);

    const cm = await call(sk.url, 'POST', `/api/v1/namespaces/${NS}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed', generateName: '' }, immutable: false, data: { empty: '' } },
    });
    expect(cm.status).toBe(201);
    expect(cm.body.immutable).toBe(false);
    expect(cm.body.data).toEqual({ empty: '' });
    expect(cm.body.metadata).not.toHaveProperty('generateName');
  });

  it('an unknown nested field is refused with Strict, dropped with a warning otherwise, and fails an apply', async () => {
    const body = { ...deployment, metadata: { name: 'nested', namespace: NS }, spec: { ...deployment.spec, colour: 'red' } };
    const strict = await call(sk.url, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments?fieldValidation=Strict`, { body });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('strict decoding error: unknown field "spec.colour"');
    const warned = await call(sk.url, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, { body });
    expect(warned.status).toBe(201);
    expect(warned.headers.get('warning')).toContain('unknown field \\"spec.colour\\"');
    expect(warned.body.spec).not.toHaveProperty('colour');
    const applied = await call(sk.url, 'PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/nested?fieldManager=typed-test`, { body, contentType: 'application/apply-patch+yaml' });
    expect(applied.status).toBe(500);
    expect(applied.body.message).toContain('.spec.colour: field not declared in schema');
  });
});

describe('custom resources keep what was sent', () => {
  it('empty strings, false and zeros of a CRD object stay', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.typed.example' },
      spec: {
        group: 'typed.example',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { s: { type: 'string' }, b: { type: 'boolean' }, n: { type: 'integer' }, l: { type: 'array', items: { type: 'string' } } } } } } } }],
      },
    };
    expect((await call(sk.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).status).toBe(201);
    const conditions = [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: '' }];
    await call(sk.url, 'PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}/status`, { body: { status: { conditions, acceptedNames: crd.spec.names } }, contentType: 'application/merge-patch+json' });
    const spec = { s: '', b: false, n: 0, l: [] };
    const res = await call(sk.url, 'POST', `/apis/typed.example/v1/namespaces/${NS}/gadgets`, { body: { apiVersion: 'typed.example/v1', kind: 'Gadget', metadata: { name: 'g' }, spec } });
    expect(res.status).toBe(201);
    expect(res.body.spec).toEqual(spec);
  });
});

describe("the CLI's check-then-act on the fake (the Heimdall case)", () => {
  it('a Deployment with empty env values is in place after one apply, and a re-apply changes nothing', async () => {
    const objects = parseManifests(await readFile(new URL('../../manifests/ui/heimdall.yaml', import.meta.url), 'utf8'));
    const dep = objects.find((o) => o.kind === 'Deployment')!;
    const declared = (dep.spec as any).template.spec.containers[0].env.filter((e: { value?: string }) => e.value === '');
    expect(declared.length).toBeGreaterThan(0);
    await sk.kube.apply(objects);
    const live = await sk.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name, namespace: dep.metadata.namespace });
    // The fake dropped the empty values, as kube-apiserver does...
    const liveEnv: Array<Record<string, unknown>> = (live as any).spec.template.spec.containers[0].env;
    for (const d of declared) expect(liveEnv.find((e) => e.name === d.name)).toEqual({ name: d.name });
    // ...and the comparison still finds every object in place, so a re-run would not re-apply.
    for (const o of objects) {
      const l = await sk.kube.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
      const { status: _s, ...desired } = o;
      expect(containsDesired(desired, l), `${o.kind} ${o.metadata.name}`).toBe(true);
    }
    const before = live!.metadata.resourceVersion;
    await sk.kube.apply(objects);
    const after = await sk.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name, namespace: dep.metadata.namespace });
    expect(after!.metadata.resourceVersion).toBe(before);
  });
});
