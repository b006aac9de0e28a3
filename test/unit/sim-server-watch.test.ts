// Watch streams of the fake API server through client-node's Watch and raw HTTP (initial
// events, resume from a resourceVersion, 410 Expired, bookmarks, timeouts, selectors), and
// the fault knobs the server enforces (api500, watchDrop, latencyMs, actors exempt).
import { ApiException, CoreV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kubeConfigFor } from '../sim/api/test-client.ts';
import { type SimServer, startSimServer } from '../sim/api/server.ts';

let sim: SimServer;
let watch: Watch;
let core: CoreV1Api;

beforeAll(async () => {
  sim = await startSimServer({ bookmarkIntervalMs: 50 });
  const kc = kubeConfigFor(sim.url);
  watch = new Watch(kc);
  core = kc.makeApiClient(CoreV1Api);
  await call(sim.url, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'w' } } });
});
afterAll(async () => {
  await sim.close();
});

interface Seen {
  type: string;
  name: string;
  rv: string;
  obj: any;
}

/** Starts a client-node watch and collects its events until `done` fires. */
async function collect(path: string, query: Record<string, string | number | boolean | undefined>): Promise<{ events: Seen[]; ended: Promise<unknown>; abort(): void }> {
  const events: Seen[] = [];
  let endedResolve: (v: unknown) => void = () => {};
  const ended = new Promise((r) => (endedResolve = r));
  const controller = await watch.watch(
    path,
    query,
    (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
    (err) => endedResolve(err ?? 'clean'),
  );
  return { events, ended, abort: () => controller.abort() };
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, data: { v: '1' } });

describe('watch', () => {
  it('starts with ADDED for existing objects, then streams changes in order', async () => {
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('pre') });
    const w = await collect('/api/v1/namespaces/w/configmaps', {});
    await until(() => w.events.length === 1, 'initial ADDED');
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'pre' });
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('new') });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/w/configmaps/new', { contentType: 'application/merge-patch+json', body: { data: { v: '2' } } });
    await call(sim.url, 'DELETE', '/api/v1/namespaces/w/configmaps/new');
    await until(() => w.events.length === 4, 'three changes');
    expect(w.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:pre', 'ADDED:new', 'MODIFIED:new', 'DELETED:new']);
    expect(w.events[2].obj.kind).toBe('ConfigMap');
    expect(Number(w.events[3].rv)).toBeGreaterThan(Number(w.events[2].rv));
    w.abort();
  });

  it('resumes after a resourceVersion, and answers 410 Expired for one that is no longer kept', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'w' });
    const rv = list.metadata!.resourceVersion!;
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('after') });
    const w = await collect('/api/v1/namespaces/w/configmaps', { resourceVersion: rv });
    await until(() => w.events.length === 1, 'replayed event');
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'after' });
    w.abort();

    await call(sim.url, 'POST', '/_sim/compact');
    const expired = await collect('/api/v1/namespaces/w/configmaps', { resourceVersion: rv });
    expect(await expired.ended).toBe('clean');
    expect(expired.events).toHaveLength(1);
    expect(expired.events[0].type).toBe('ERROR');
    expect(expired.events[0].obj).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(expired.events[0].obj.message).toMatch(new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`));
  });

  it('sends bookmarks when allowed and ends the stream after timeoutSeconds', async () => {
    const w = await collect('/api/v1/namespaces/w/configmaps', { allowWatchBookmarks: true, timeoutSeconds: 1, resourceVersion: String((await core.listNamespacedConfigMap({ namespace: 'w' })).metadata!.resourceVersion) });
    const started = Date.now();
    expect(await w.ended).toBe('clean');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const marks = w.events.filter((e) => e.type === 'BOOKMARK');
    expect(marks.length).toBeGreaterThan(3);
    expect(marks[0].obj).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
  });

  it('marks the end of initial events with sendInitialEvents', async () => {
    const w = await collect('/api/v1/namespaces/w/configmaps', { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'initial-events-end bookmark');
    const mark = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(mark.obj.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(w.events.indexOf(mark)).toBe(w.events.filter((e) => e.type === 'ADDED').length);
    w.abort();
  });

  it('filters by field and label selectors, turning objects leaving the selection into DELETED', async () => {
    const byName = await collect('/api/v1/namespaces/w/configmaps', { fieldSelector: 'metadata.name=target' });
    const byLabel = await collect('/api/v1/configmaps', { labelSelector: 'team=a' });
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('other', { team: 'b' }) });
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('target', { team: 'a' }) });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/w/configmaps/target', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'c' } } } });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/w/configmaps/other', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'a' } } } });
    await until(() => byName.events.length === 2 && byLabel.events.length === 3, 'filtered events');
    expect(byName.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:target', 'MODIFIED:target']);
    expect(byLabel.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:target', 'DELETED:target', 'ADDED:other']);
    byName.abort();
    byLabel.abort();
  });

  it('streams raw newline-delimited JSON with watch=1', async () => {
    const ac = new AbortController();
    const res = await fetch(`${sim.url}/api/v1/namespaces/w/configmaps?watch=1&fieldSelector=metadata.name%3Dpre`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('application/json');
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const line = new TextDecoder().decode(value);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'pre' } } });
    ac.abort();
  });
});

describe('fault knobs', () => {
  it('api500 answers the next matching client requests with 500 InternalError, never actors', async () => {
    await call(sim.url, 'PUT', '/_sim/faults', { body: { api500: { count: 2, pathRegex: '/configmaps', methods: ['GET'] }, slowReadinessMs: 5 } });
    const err = await core.listNamespacedConfigMap({ namespace: 'w' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(500);
    expect((await call(sim.url, 'GET', '/api/v1/namespaces/w/configmaps', { actor: 'kubelet' })).status).toBe(200);
    expect((await call(sim.url, 'GET', '/api/v1/namespaces/w/pods')).status).toBe(200);
    const second = await call(sim.url, 'GET', '/api/v1/namespaces/w/configmaps');
    expect(second.status).toBe(500);
    expect(second.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect((await call(sim.url, 'GET', '/api/v1/namespaces/w/configmaps')).status).toBe(200);
    expect((await call(sim.url, 'GET', '/_sim/faults')).body).toEqual({ slowReadinessMs: 5 });
  });

  it('watchDrop cuts client watches after N events or after a time; actors keep theirs', async () => {
    await call(sim.url, 'PATCH', '/_sim/faults', { contentType: 'application/merge-patch+json', body: { watchDrop: { afterEvents: 2 } } });
    const dropped = await collect('/api/v1/namespaces/w/configmaps', {});
    const result = await dropped.ended;
    expect(result).not.toBe('clean');
    expect(dropped.events).toHaveLength(2);

    await call(sim.url, 'PUT', '/_sim/faults', { body: { watchDrop: { afterMs: 100 } } });
    const timed = await collect('/api/v1/namespaces/w/pods', {});
    const started = Date.now();
    expect(await timed.ended).not.toBe('clean');
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);

    const ac = new AbortController();
    const rv = (await call(sim.url, 'GET', '/api/v1/namespaces/w/configmaps')).body.metadata.resourceVersion;
    const actorRes = await fetch(`${sim.url}/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${rv}`, { headers: { 'x-sim-actor': 'controller' }, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { actor: 'controller', body: cm('late-for-actor') });
    const chunk = await actorRes.body!.getReader().read();
    expect(JSON.parse(new TextDecoder().decode(chunk.value))).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'late-for-actor' } } });
    ac.abort();
    await call(sim.url, 'PUT', '/_sim/faults', { body: {} });
  });

  it('latencyMs delays client requests only', async () => {
    await call(sim.url, 'PUT', '/_sim/faults', { body: { latencyMs: 150 } });
    let t = Date.now();
    await call(sim.url, 'GET', '/api/v1/namespaces');
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    t = Date.now();
    await call(sim.url, 'GET', '/api/v1/namespaces', { actor: 'kubelet' });
    expect(Date.now() - t).toBeLessThan(100);
    await call(sim.url, 'PUT', '/_sim/faults', { body: {} });
  });
});

describe('sim control endpoints', () => {
  it('audits state-changing requests by actor and counts requests per verb', async () => {
    await call(sim.url, 'POST', '/_sim/audit/reset');
    await call(sim.url, 'POST', '/api/v1/namespaces/w/configmaps', { body: cm('audited') });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/w/configmaps/audited', { actor: 'operator', contentType: 'application/merge-patch+json', body: { data: { v: '2' } } });
    await call(sim.url, 'PATCH', '/api/v1/namespaces/w/configmaps/audited', { contentType: 'application/merge-patch+json', body: { data: { v: '2' } } });
    await call(sim.url, 'GET', '/api/v1/namespaces/w/configmaps/audited');
    const audit = (await call(sim.url, 'GET', '/_sim/audit')).body;
    expect(audit.map((e: any) => `${e.index}:${e.actor}:${e.verb}:${e.kind}:${e.name}`)).toEqual(['1:client:create:ConfigMap:audited', '2:operator:patch:ConfigMap:audited']);
    expect(audit[1]).toMatchObject({ method: 'PATCH', namespace: 'w', dryRun: false, patchType: 'merge', code: 200 });
    expect((await call(sim.url, 'GET', '/_sim/audit?since=1')).body).toHaveLength(1);
    const counts = (await call(sim.url, 'GET', '/_sim/audit/counts')).body;
    expect(counts.byActor.client).toMatchObject({ create: 1, patch: 1, get: 1 });
    expect(counts.byVerb.patch).toBe(2);
  });

  it('records fake tool calls and kind clusters; deleting a cluster wipes the objects', async () => {
    expect((await call(sim.url, 'POST', '/_sim/calls', { body: { tool: 'kind', argv: ['create', 'cluster'], cwd: '/tmp' } })).status).toBe(201);
    expect((await call(sim.url, 'GET', '/_sim/calls?tool=kind')).body).toEqual([expect.objectContaining({ index: 1, tool: 'kind', argv: ['create', 'cluster'], cwd: '/tmp' })]);
    expect((await call(sim.url, 'POST', '/_sim/clusters', { body: { name: 'flink-sandbox' } })).status).toBe(201);
    expect((await call(sim.url, 'POST', '/_sim/clusters', { body: { name: 'flink-sandbox' } })).status).toBe(409);
    expect((await call(sim.url, 'GET', '/_sim/clusters')).body.map((c: any) => c.name)).toEqual(['flink-sandbox']);
    const w = await collect('/api/v1/namespaces/w/configmaps', {});
    expect((await call(sim.url, 'DELETE', '/_sim/clusters/flink-sandbox')).status).toBe(200);
    expect(await w.ended).toBe('clean');
    expect((await call(sim.url, 'GET', '/api/v1/namespaces')).body.items).toEqual([]);
    expect((await call(sim.url, 'POST', '/_sim/clusters', { body: { name: 'again' } })).status).toBe(201);
    expect((await call(sim.url, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
    expect((await call(sim.url, 'GET', '/_sim/state')).body.clusters.map((c: any) => c.name)).toEqual(['again']);
  });
});
