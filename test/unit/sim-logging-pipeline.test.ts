// The simulated fluent-bit -> fluentd -> Elasticsearch path with the project's own manifests
// (manifests/eck, manifests/logging): a TaskManager-labelled pod's JSON lines arrive in the
// `fluentd` index parsed (message and ECS fields, fluent-bit's kubernetes metadata, the event
// time written back as @timestamp since the output asks for it with include_timestamp), not before the buffer's timekey_wait and
// not all at once; lines that are not JSON are dropped; a restarted fluent-bit sends lines
// again; the dropLines knob loses lines. Elasticsearch is read over HTTPS with the elastic
// user's password, at the address a port-forward to its pod's port 9200 leads to.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../sim/api-client.ts';
import type { Sim } from '../sim/harness.ts';
import { OutputBuffer } from '../sim/logging/buffer.ts';
import { ensureNamespace, installOperator, isReady, operatorSim } from './sim-operators-fixture.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const G = '/apis/logging.banzaicloud.io/v1beta1';

function manifests(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path.join(repo, 'manifests', file), 'utf8')).map((d) => d.toJS() as KubeObject).filter(Boolean);
}

function ecsLine(message: string, at = new Date()): string {
  return JSON.stringify({ '@timestamp': at.toISOString(), 'ecs.version': '1.2.0', 'log.level': 'INFO', message, 'process.thread.name': 'Map (1/2)#0', 'log.logger': 'dev.flinksandbox.hello.HelloJob' });
}

interface EsAnswer {
  status: number;
  body: any;
}

describe('simulated logging pipeline', () => {
  let sim: Sim;
  let es: { port: number; password: string };

  async function esCall(method: string, urlPath: string, body?: unknown, password = es.password): Promise<EsAnswer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: es.port, method, path: urlPath, rejectUnauthorized: false, headers: { authorization: `Basic ${Buffer.from(`elastic:${password}`).toString('base64')}`, ...(text ? { 'content-type': 'application/json' } : {}) } },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  async function messages(query: unknown): Promise<string[]> {
    const r = await esCall('POST', '/fluentd/_search', { query, size: 1000, sort: ['_doc'] });
    if (r.status === 404) return [];
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.hits.hits.map((h: { _source: { message: string } }) => h._source.message);
  }

  async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function appendLines(pod: string, lines: string[]): Promise<void> {
    const res = await fetch(`${sim.url}/_sim/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ namespace: 'default', pod, container: 'flink-main-container', attempt: 0, lines }) });
    expect(res.status).toBe(200);
  }

  async function taskManagerPod(name: string): Promise<void> {
    await sim.kube.create('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'hello-ha', component: 'taskmanager', type: 'flink-native-kubernetes' } },
      spec: { containers: [{ name: 'flink-main-container', image: 'docker.io/library/busybox:1.36' }] },
    });
    await sim.kube.waitFor<KubeObject>(`/api/v1/namespaces/default/pods/${name}`, isReady);
  }

  beforeAll(async () => {
    sim = await operatorSim(['eck-all-crds.yaml', 'logging-loggings.yaml', 'logging-fluentbitagents.yaml', 'logging-clusteroutputs.yaml', 'logging-outputs.yaml', 'logging-flows.yaml', 'logging-clusterflows.yaml']);
    await ensureNamespace(sim, 'logging');
    await installOperator(sim, { kind: 'StatefulSet', name: 'elastic-operator', namespace: 'elastic-system', image: 'docker.elastic.co/eck/eck-operator:3.5.0' });
    await installOperator(sim, { kind: 'Deployment', name: 'logging-operator', namespace: 'logging-operator', image: 'ghcr.io/kube-logging/logging-operator:6.7.0' });
    const [elasticsearch] = manifests('eck/elasticsearch.yaml');
    await sim.kube.create('/apis/elasticsearch.k8s.elastic.co/v1/namespaces/logging/elasticsearches', elasticsearch);
    for (const o of manifests('logging/logging.yaml')) await sim.kube.create(`${G}/${o.kind === 'Logging' ? 'loggings' : 'fluentbitagents'}`, o);
    await sim.kube.create(`${G}/namespaces/logging/clusteroutputs`, manifests('logging/cluster-output.yaml')[0]);
    await sim.kube.create(`${G}/namespaces/default/flows`, manifests('logging/flow.yaml')[0]);
    await sim.kube.waitFor<KubeObject>(`${G}/namespaces/default/flows/es-flow`, (f) => f.status?.active === true, 20_000);
    await sim.kube.waitFor<KubeObject>('/apis/elasticsearch.k8s.elastic.co/v1/namespaces/logging/elasticsearches/quickstart', (o) => o.status?.phase === 'Ready', 20_000);
    await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/logging/pods', (pods) => ['fluentd', 'fluentbit'].every((n) => pods.some((p) => p.metadata.labels?.['app.kubernetes.io/name'] === n && isReady(p))), 20_000);
    const [esPod] = await sim.kube.list('/api/v1/namespaces/logging/pods', { labelSelector: 'elasticsearch.k8s.elastic.co/cluster-name=quickstart' });
    const targets = (await (await fetch(`${sim.url}/_sim/portforward-targets`)).json()) as { pod: string; port: number; targetPort: number }[];
    const secret = await sim.kube.get('/api/v1/namespaces/logging/secrets/quickstart-es-elastic-user');
    es = { port: targets.find((t) => t.pod === esPod!.metadata.name && t.port === 9200)!.targetPort, password: Buffer.from((secret!.data as Record<string, string>).elastic!, 'base64').toString() };
  }, 60_000);

  afterAll(async () => {
    await sim?.close();
  });

  it('answers as Elasticsearch over HTTPS, only to the elastic user with its password', async () => {
    const info = await esCall('GET', '/');
    expect(info.body).toMatchObject({ cluster_name: 'quickstart', version: { number: '8.19.21' }, tagline: 'You Know, for Search' });
    const denied = await esCall('GET', '/_count', undefined, 'wrong');
    expect(denied.status).toBe(401);
    expect(denied.body.error).toMatchObject({ type: 'security_exception', reason: 'unable to authenticate user [elastic] for REST request [/_count]' });
  });

  it('indexes a TaskManager pod\'s JSON lines into fluentd, parsed, after the buffer delay; drops lines that are not JSON', async () => {
    await taskManagerPod('hello-ha-taskmanager-1-1');
    const sent = Date.now();
    await appendLines('hello-ha-taskmanager-1-1', [ecsLine('SEQ seq=1 subtask=0 attempt=0'), 'plain text, not JSON', ecsLine('SEQ seq=2 subtask=1 attempt=0')]);
    // timekey 1m and timekey_wait 30s on the simulation's clock (x0.02): 0.6 s to 1.8 s.
    await new Promise((r) => setTimeout(r, 400));
    expect(await messages({ match_phrase: { message: 'SEQ seq=' } })).toEqual([]);
    const got = await until('the record lines in Elasticsearch', () => messages({ match_phrase: { message: 'SEQ seq=' } }), (m) => m.length === 2);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(600);
    expect(got).toEqual(['SEQ seq=1 subtask=0 attempt=0', 'SEQ seq=2 subtask=1 attempt=0']);
    expect(await messages({ match_phrase: { message: 'plain text' } })).toEqual([]);

    const r = await esCall('POST', '/fluentd/_search', { query: { match_phrase: { message: 'seq=1' } } });
    const src = r.body.hits.hits[0]._source;
    expect(src).toMatchObject({ message: 'SEQ seq=1 subtask=0 attempt=0', 'log.level': 'INFO', 'ecs.version': '1.2.0', 'log.logger': 'dev.flinksandbox.hello.HelloJob', stream: 'stdout', logtag: 'F' });
    expect(src.kubernetes).toMatchObject({ pod_name: 'hello-ha-taskmanager-1-1', namespace_name: 'default', container_name: 'flink-main-container', host: 'c-worker', labels: { app: 'hello-ha', component: 'taskmanager' } });
    expect(src.kubernetes.pod_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(src.kubernetes.docker_id).toMatch(/^[0-9a-f]{64}$/);
    // The parser consumed @timestamp as the event time; include_timestamp writes that time back.
    expect(src).toHaveProperty('@timestamp');
    expect(Math.abs(Date.parse(src['@timestamp']) - sent)).toBeLessThan(5_000);
  });

  it('leaves out pods the Flow does not select', async () => {
    await sim.kube.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bystander', namespace: 'default', labels: { app: 'other' } }, spec: { containers: [{ name: 'flink-main-container', image: 'docker.io/library/busybox:1.36' }] } });
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/default/pods/bystander', isReady);
    await appendLines('bystander', [ecsLine('bystander line')]);
    await appendLines('hello-ha-taskmanager-1-1', [ecsLine('marker after bystander')]);
    await until('the marker', () => messages({ match_phrase: { message: 'marker after bystander' } }), (m) => m.length === 1);
    expect(await messages({ match_phrase: { message: 'bystander line' } })).toEqual([]);
  });

  it('sends lines again after fluent-bit restarts (its tail database trails delivery), and loses none', async () => {
    await taskManagerPod('hello-ha-taskmanager-1-2');
    const lines = Array.from({ length: 20 }, (_, i) => ecsLine(`SEQ seq=${100 + i} subtask=0 attempt=0`));
    await appendLines('hello-ha-taskmanager-1-2', lines);
    const q = { bool: { filter: [{ match_phrase: { message: 'SEQ seq=' } }, { term: { 'kubernetes.pod_name.keyword': 'hello-ha-taskmanager-1-2' } }] } };
    await until('the 20 lines', () => messages(q), (m) => m.length === 20);
    const [bit] = await sim.kube.list('/api/v1/namespaces/logging/pods', { labelSelector: 'app.kubernetes.io/name=fluentbit' });
    await sim.kube.delete(`/api/v1/namespaces/logging/pods/${bit!.metadata.name}`);
    await appendLines('hello-ha-taskmanager-1-2', [ecsLine('SEQ seq=120 subtask=0 attempt=0')]);
    const after = await until('line 120 through the new fluent-bit', () => messages(q), (m) => m.some((x) => x.includes('seq=120 ')));
    const counts = new Map<string, number>();
    for (const m of after) counts.set(m, (counts.get(m) ?? 0) + 1);
    expect([...counts.values()].some((n) => n > 1)).toBe(true);
    expect(new Set(after).size).toBe(21);
  });

  it('the dropLines knob loses matching lines on the way', async () => {
    await taskManagerPod('hello-ha-taskmanager-1-3');
    await sim.patchFaults({ logging: { dropLines: ['seq=203 '] } });
    // fluentd reads the knob with its configuration (every 5 simulated seconds).
    await new Promise((r) => setTimeout(r, 300));
    await appendLines('hello-ha-taskmanager-1-3', [202, 203, 204].map((n) => ecsLine(`SEQ seq=${n} subtask=0 attempt=0`)));
    const got = await until('lines 202 and 204', () => messages({ match: { message: '202 203 204' } }), (m) => m.length >= 2);
    expect(got.sort()).toEqual(['SEQ seq=202 subtask=0 attempt=0', 'SEQ seq=204 subtask=0 attempt=0']);
    await sim.patchFaults({ logging: null });
  });
});

describe('fluentd buffer', () => {
  const timing = { timekeyMs: 1000, waitMs: 500, retryMs: 100, maxRetryMs: 800 };
  const ev = (time: number, n: number) => ({ tag: 'default.tm.c', time, record: { message: `line ${n}` } });

  it('writes a chunk once its time window closed and the wait passed; retries failures with a doubling wait', () => {
    const b = new OutputBuffer();
    b.add('global/es-output', ev(10_100, 1), timing);
    b.add('global/es-output', ev(10_900, 2), timing);
    b.add('global/es-output', ev(11_100, 3), timing);
    expect(b.due(11_499, () => timing)).toEqual([]);
    const [first, ...rest] = b.due(11_500, () => timing);
    expect(rest).toEqual([]);
    expect(first!.events.map((e) => e.record.message)).toEqual(['line 1', 'line 2']);
    b.failed(first!, 11_500, timing);
    expect(b.due(11_599, () => timing)).toEqual([]);
    b.failed(first!, 11_600, timing);
    expect(b.due(11_799, () => timing)).toEqual([]);
    expect(b.due(11_800, () => timing)).toHaveLength(1);
  });

  it('a chunk written just before fluentd stopped is written again by the next one; an older one is not', () => {
    const b = new OutputBuffer();
    b.add('o', ev(10_000, 1), timing);
    b.add('o', ev(20_000, 2), timing);
    const [old] = b.due(12_000, () => timing);
    b.written(old!, 12_000, timing);
    const [recent] = b.due(22_000, () => timing);
    b.written(recent!, 22_000, timing);
    expect(b.pending).toBe(0);
    b.stopped(22_500, () => timing);
    expect(b.due(22_500, () => timing).map((c) => c.events.map((e) => e.record.message))).toEqual([['line 2']]);
  });
});
