// The CLI's Kubernetes layer (scripts/lib/kube) against a real API server: server-side apply
// with our field manager, conflicts with another manager reported (and forced on request),
// merge patches and the status
// subresource, dry-run creates, discovery of a CRD applied in the same batch, deletion held by
// a finalizer, and a watch that outlives a 410 Gone forced by compacting etcd.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TimeoutError } from '../../../scripts/lib/errors.ts';
import { createKube } from '../../../scripts/lib/kube/api.ts';
import { createTransport, type Transport } from '../../../scripts/lib/kube/client.ts';
import { BUILT_IN, groupVersionPath } from '../../../scripts/lib/kube/discovery.ts';
import { ApplyConflictError, isApiError, parseManifests, refOf, type Kube, type KubeObject } from '../../../scripts/lib/kube/kube.ts';
import { Wait } from '../../../scripts/lib/wait/wait.ts';
import { loadManifest } from '../../../scripts/steps/kit.ts';
import { crdFixtureFile } from '../../fixtures/crds/location.ts';
import { readFileSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

/**
 * A transport that lets the test cut the watch stream and hold the reconnect back, and that
 * notes what the server answered on each watch; everything else passes through unchanged.
 */
function interceptingTransport(inner: Transport) {
  let gate: Promise<void> = Promise.resolve();
  let openGate = (): void => {};
  const streams = new Set<AbortController>();
  /** 'HTTP 410', or 'ERROR <code>' for an error event inside a watch stream. */
  const watchErrors: string[] = [];

  async function record(body: ReadableStream<Uint8Array>): Promise<void> {
    let buf = '';
    try {
      for await (const text of body.pipeThrough(new TextDecoderStream())) {
        buf += text;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const ev = JSON.parse(buf.slice(0, nl)) as { type: string; object?: { code?: number } };
          buf = buf.slice(nl + 1);
          if (ev.type === 'ERROR') watchErrors.push(`ERROR ${ev.object?.code}`);
        }
      }
    } catch {
      // cut by the test or closed by the layer
    }
  }

  const transport: Transport = {
    server: inner.server,
    kc: inner.kc,
    json: (method, path, opts) => inner.json(method, path, opts),
    text: (method, path, opts) => inner.text(method, path, opts),
    async stream(method, path, opts = {}) {
      await gate;
      const cut = new AbortController();
      streams.add(cut);
      try {
        const body = await inner.stream(method, path, { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, cut.signal]) : cut.signal });
        const [mine, theirs] = body.tee();
        void record(mine);
        return theirs;
      } catch (err) {
        if (isApiError(err)) watchErrors.push(`HTTP ${err.code}`);
        throw err;
      }
    },
  };
  return {
    transport,
    watchErrors,
    /** Breaks every open stream; reconnects wait until `release`. */
    cutAndHold(): void {
      gate = new Promise((resolve) => (openGate = resolve));
      for (const c of streams) c.abort();
      streams.clear();
    },
    release(): void {
      openGate();
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const configMap = (namespace: string, name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data,
});

// Labelled as ensureNamespace labels the sandbox's namespaces (see the bare case below).
const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/part-of': 'flink-sandbox' } } });

describe("the CLI's Kubernetes layer against a real API server", () => {
  const bins = inject('controlPlaneBinaries');
  let plane: ControlPlane;
  let kube: Kube;
  let raw: Transport;
  let intercept: ReturnType<typeof interceptingTransport>;

  beforeAll(async () => {
    // Without the watch cache, watches are served from etcd itself, so compacting etcd makes
    // an old resourceVersion answer 410 Gone (the cache would keep serving it from memory).
    plane = await startControlPlane(bins, { apiserverArgs: ['--watch-cache=false'] });
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    raw = createTransport(kc, plane.context);
    intercept = interceptingTransport(raw);
    kube = createKube(intercept.transport, { context: plane.context, namespace: 'default' });
    await kube.apply(parseManifests(readFileSync(crdFixtureFile('flink-flinkdeployments.yaml'), 'utf8')));
    await Wait.forCondition(kube, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'flinkdeployments.flink.apache.org' }, 'Established', { timeoutMs: 30_000 });
  });
  afterAll(async () => plane?.stop());

  it("kube-apiserver serves every built-in kind the CLI knows without discovery at the CLI's path and scope", async () => {
    for (const [apiVersion, kinds] of Object.entries(BUILT_IN)) {
      const served = (await raw.json<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>('GET', groupVersionPath(apiVersion))).resources;
      for (const k of kinds) expect(served.find((r) => r.kind === k.kind && !r.name.includes('/')), `${apiVersion} ${k.kind}`).toMatchObject(k);
    }
  });

  it('a re-apply of unchanged objects changes nothing: same resourceVersion, same managedFields', async () => {
    const objects = [namespace('noop'), configMap('noop', 'settings', { a: '1' }), ...(await loadManifest('flink/hello-ha.yaml')).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'noop' } }))];
    const first = await kube.apply(objects);
    const again = await kube.apply(objects);
    expect(again.map((o) => o.metadata.resourceVersion)).toEqual(first.map((o) => o.metadata.resourceVersion));
    expect(again.map((o) => o.metadata.managedFields)).toEqual(first.map((o) => o.metadata.managedFields));
    // The check is not vacuous: a real change moves the resourceVersion.
    const [, changed] = await kube.apply([objects[0]!, configMap('noop', 'settings', { a: '2' })]);
    expect(changed!.metadata.resourceVersion).not.toBe(first[1]!.metadata.resourceVersion);
  });

  it('an object that declares only its name is bumped once, by the second apply, then settles', async () => {
    // The first apply leaves no managedFields entry (ours would be empty), so the second one
    // finds an object "never applied" and records its defaulted fields as before-first-apply.
    const bare: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } };
    const [first] = await kube.apply([bare]);
    const [second] = await kube.apply([bare]);
    const [third] = await kube.apply([bare]);
    expect(first!.metadata.managedFields).toBeUndefined();
    expect(second!.metadata.resourceVersion).not.toBe(first!.metadata.resourceVersion);
    expect(second!.metadata.managedFields.map((m: { manager: string }) => m.manager)).toEqual(['before-first-apply']);
    expect(third!.metadata.resourceVersion).toBe(second!.metadata.resourceVersion);
  });

  it('reports a field another manager changed, naming it and the field, and changes nothing; force takes it over', async () => {
    await kube.apply([namespace('shared')]);
    const applyAs = (manager: string, data: Record<string, string>) =>
      raw.json('PATCH', '/api/v1/namespaces/shared/configmaps/cfg', {
        query: { fieldManager: manager, fieldValidation: 'Strict' },
        body: configMap('shared', 'cfg', data),
        contentType: 'application/apply-patch+yaml',
        retry: 'none',
      });
    await applyAs('helm', { owner: 'helm', size: '1' });
    const before = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', namespace: 'shared' });

    const err = await kube.apply([configMap('shared', 'cfg', { owner: 'sandbox', size: '1' })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyConflictError);
    expect((err as ApplyConflictError).conflicts).toEqual([{ manager: 'helm', field: '.data.owner' }]);
    expect((err as Error).message).toBe('apply ConfigMap shared/cfg: fields the sandbox sets were changed by another manager: "helm" holds .data.owner');
    expect((err as ApplyConflictError).hint).toMatch(/sandbox up --force/);
    expect(isApiError(err, 409)).toBe(true);
    const after = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', namespace: 'shared' });
    expect(after!.metadata.resourceVersion).toBe(before!.metadata.resourceVersion);

    const [mine] = await kube.apply([configMap('shared', 'cfg', { owner: 'sandbox', size: '1' })], { force: true });
    expect(mine!.data.owner).toBe('sandbox');
    const owners = (field: string) =>
      (mine!.metadata.managedFields as Array<{ manager: string; fieldsV1?: { 'f:data'?: Record<string, unknown> } }>)
        .filter((m) => m.fieldsV1?.['f:data']?.[`f:${field}`] !== undefined)
        .map((m) => m.manager)
        .sort();
    expect(owners('owner')).toEqual(['sandbox']);
    // A field both set to the same value is shared, never a conflict.
    expect(owners('size')).toEqual(['helm', 'sandbox']);

    const theirs = await applyAs('helm', { owner: 'helm', size: '1' }).catch((e: unknown) => e);
    expect(isApiError(theirs, 409)).toBe(true);
    expect((theirs as Error).message).toMatch(/conflict with "sandbox"/);
  });

  it("a field changed by the sandbox's own merge patch is no conflict: the next apply puts the declared value back", async () => {
    await kube.apply([namespace('own'), configMap('own', 'state', { job: 'running' })]);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'state', namespace: 'own' };
    const patched = await kube.patchMerge(ref, { data: { job: 'suspended' } });
    const managers = (patched.metadata.managedFields as Array<{ manager: string; operation: string }>).map((m) => `${m.manager} ${m.operation}`).sort();
    // The patched field moved from the sandbox's Apply entry (now empty, so gone) to its Update entry.
    expect(managers).toEqual(['sandbox Update']);
    const [reapplied] = await kube.apply([configMap('own', 'state', { job: 'running' })]);
    expect(reapplied!.data.job).toBe('running');
    // A change by anyone else is still reported.
    await raw.json('PATCH', '/api/v1/namespaces/own/configmaps/state', {
      query: { fieldManager: 'kubectl-edit' },
      body: { data: { job: 'suspended' } },
      contentType: 'application/merge-patch+json',
    });
    const err = await kube.apply([configMap('own', 'state', { job: 'running' })]).catch((e: unknown) => e);
    expect((err as ApplyConflictError).conflicts).toEqual([{ manager: 'kubectl-edit', field: '.data.job' }]);
  });

  it('with forceConflicts on the connection (up --force), every apply takes over', async () => {
    const forcing = createKube(raw, { context: plane.context, namespace: 'default', forceConflicts: true });
    await raw.json('PATCH', '/api/v1/namespaces/own/configmaps/state', {
      query: { fieldManager: 'kubectl-edit' },
      body: { data: { job: 'stopped' } },
      contentType: 'application/merge-patch+json',
    });
    const [taken] = await forcing.apply([configMap('own', 'state', { job: 'running' })]);
    expect(taken!.data.job).toBe('running');
  });

  it('suspends and resumes with merge patches; the status subresource is written apart from the spec', async () => {
    await kube.apply([namespace('jobs')]);
    const [fd] = await kube.apply((await loadManifest('flink/hello-ha.yaml')).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'jobs' } })));
    const ref = refOf(fd!);
    const suspended = await kube.patchMerge(ref, { spec: { job: { state: 'suspended' } } });
    expect(suspended.spec.job.state).toBe('suspended');
    expect(suspended.metadata.generation).toBe(fd!.metadata.generation + 1);
    expect(suspended.spec.job.upgradeMode).toBe('savepoint');

    const withStatus = await kube.patchMerge(ref, { status: { lifecycleState: 'SUSPENDED' } }, { subresource: 'status' });
    expect(withStatus.status.lifecycleState).toBe('SUSPENDED');
    expect(withStatus.metadata.generation).toBe(suspended.metadata.generation);
    // Through the main resource, status is ignored: only the controller's subresource writes it.
    const ignored = await kube.patchMerge(ref, { status: { lifecycleState: 'STABLE' } });
    expect(ignored.status.lifecycleState).toBe('SUSPENDED');

    const resumed = await kube.patchMerge(ref, { spec: { job: { state: 'running' } } });
    expect(resumed.spec.job.state).toBe('running');
  });

  it('a dry-run create is judged in full and persists nothing', async () => {
    const [fd] = (await loadManifest('flink/hello-no-ha.yaml')).map((o): KubeObject => ({ ...o, metadata: { ...o.metadata, name: 'dry', namespace: 'default' } }));
    await kube.createDryRun(fd!);
    expect(await kube.get(refOf(fd!))).toBeUndefined();
    fd!.spec.job.upgradeMode = 'sometimes';
    const err = await kube.createDryRun(fd!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isApiError(err, 422)).toBe(true);
    expect((err as Error).message).toMatch(/Unsupported value: "sometimes"/);
  });

  it('serves a custom resource in the same apply as its CRD, and waits for Established', async () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'probes.test.flink-sandbox.dev' },
      spec: {
        group: 'test.flink-sandbox.dev',
        scope: 'Namespaced',
        names: { plural: 'probes', singular: 'probe', kind: 'Probe' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', default: 3 } } } } } } }],
      },
    };
    const probe: KubeObject = { apiVersion: 'test.flink-sandbox.dev/v1', kind: 'Probe', metadata: { name: 'p', namespace: 'default' }, spec: {} };
    expect(await kube.get(refOf(probe))).toBeUndefined();
    const [, applied] = await kube.apply([crd, probe]);
    // The schema's default was applied by the server.
    expect(applied!.spec.size).toBe(3);
    const established = await Wait.forCondition(kube, refOf(crd), 'Established', { timeoutMs: 10_000 });
    expect(established.status.acceptedNames.kind).toBe('Probe');
  });

  it('a delete held by a finalizer is seen as "being deleted" until the finalizer goes', async () => {
    const cm: KubeObject = { ...configMap('default', 'held'), metadata: { name: 'held', namespace: 'default', finalizers: ['flink-sandbox.dev/hold'] } };
    await kube.apply([cm]);
    const err = await kube.delete(refOf(cm), { wait: true, timeoutMs: 1_500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/being deleted/);
    expect((await kube.get(refOf(cm)))?.metadata.deletionTimestamp).toBeDefined();
    await kube.patchMerge(refOf(cm), { metadata: { finalizers: null } });
    expect(await kube.get(refOf(cm))).toBeUndefined();
  });

  it('a watch resumes after its stream breaks, and after a 410 Gone it lists again and reports what it missed', async () => {
    await kube.apply([namespace('watched'), configMap('watched', 'a', { v: '1' }), configMap('watched', 'b')]);
    const seen: string[] = [];
    const watch = await kube.watch('v1', 'ConfigMap', { namespace: 'watched' }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`));
    try {
      expect(seen.sort()).toEqual(['ADDED a', 'ADDED b']);
      await kube.apply([configMap('watched', 'c')]);
      await until('ADDED c', () => seen.includes('ADDED c'));

      // The stream breaks; while the layer waits to reconnect, objects change and etcd
      // forgets the history the layer would resume from.
      intercept.cutAndHold();
      await kube.apply([configMap('watched', 'a', { v: '2' }), configMap('watched', 'd')]);
      await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', namespace: 'watched' });
      await plane.compactEtcd();
      intercept.release();

      await until('the missed changes', () => ['MODIFIED a', 'ADDED d', 'DELETED b'].every((e) => seen.includes(e)));
      expect(intercept.watchErrors.some((e) => /^(HTTP|ERROR) 410$/.test(e)), `watch errors seen: ${intercept.watchErrors.join(', ')}`).toBe(true);
      // And it keeps watching.
      await kube.apply([configMap('watched', 'e')]);
      await until('ADDED e', () => seen.includes('ADDED e'));
      expect(seen.filter((e) => e === 'ADDED c')).toHaveLength(1);
    } finally {
      watch.close();
    }
  });
});
