// The simulated ECK operator against the fake API server: what it renders for an Elasticsearch
// and a Kibana, the status transitions the CLI waits on, the knob that keeps a cluster red, and
// that it does nothing until its own StatefulSet has a Ready pod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../sim/api-client.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';
import type { Sim } from '../sim/harness.ts';
import { condition, crdDir, ensureNamespace, installOperator, operatorSim } from './sim-operators-fixture.ts';

const ES = '/apis/elasticsearch.k8s.elastic.co/v1/namespaces/logging/elasticsearches';
const KB = '/apis/kibana.k8s.elastic.co/v1/namespaces/logging/kibanas';

function elasticsearch(name: string): KubeObject {
  return {
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name, namespace: 'logging' },
    spec: {
      version: '8.19.21',
      nodeSets: [
        {
          name: 'default',
          count: 1,
          config: { 'node.store.allow_mmap': false },
          podTemplate: { spec: { containers: [{ name: 'elasticsearch', env: [{ name: 'ES_JAVA_OPTS', value: '-Xms512m -Xmx512m' }], resources: { requests: { memory: '1Gi', cpu: '500m' }, limits: { memory: '1Gi' } } }] } },
        },
      ],
    },
  };
}

function kibana(name: string, es: string): KubeObject {
  return { apiVersion: 'kibana.k8s.elastic.co/v1', kind: 'Kibana', metadata: { name, namespace: 'logging' }, spec: { version: '8.19.21', count: 1, elasticsearchRef: { name: es } } };
}

/** Polls an object's status and returns the distinct (phase, health) pairs seen until `done`. */
async function trackStatus(sim: Sim, path: string, done: (o: KubeObject) => boolean, timeoutMs = 10_000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await sim.kube.get(path);
    const key = `${o?.status?.phase ?? '-'}/${o?.status?.health ?? '-'}`;
    if (seen[seen.length - 1] !== key) seen.push(key);
    if (o && done(o)) return seen;
    if (Date.now() > deadline) throw new Error(`timed out; seen ${seen.join(' -> ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('simulated ECK operator', () => {
  let sim: Sim;
  const crds = loadCrdsFromDir(crdDir);

  beforeAll(async () => {
    sim = await operatorSim(['eck-all-crds.yaml']);
    await ensureNamespace(sim, 'logging');
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('leaves an Elasticsearch alone until the elastic-operator StatefulSet has a Ready pod', async () => {
    await sim.kube.create(ES, elasticsearch('early'));
    await new Promise((r) => setTimeout(r, 400));
    expect((await sim.kube.get(`${ES}/early`))?.status).toBeUndefined();
    expect(await sim.kube.get('/apis/apps/v1/namespaces/logging/statefulsets/early-es-default')).toBeUndefined();

    await installOperator(sim, { kind: 'StatefulSet', name: 'elastic-operator', namespace: 'elastic-system', image: 'docker.elastic.co/eck/eck-operator:3.5.0' });
    await sim.kube.waitFor<KubeObject>(`${ES}/early`, (o) => o.status?.phase === 'Ready');
  });

  it('renders an Elasticsearch and reports no phase -> ApplyingChanges/unknown -> Ready/yellow -> Ready/green', async () => {
    await sim.kube.create(ES, elasticsearch('quickstart'));
    const seen = await trackStatus(sim, `${ES}/quickstart`, (o) => o.status?.health === 'green');
    expect(seen[0]).toBe('-/-');
    expect(seen).toContain('ApplyingChanges/unknown');
    expect(seen.indexOf('ApplyingChanges/unknown')).toBeLessThan(seen.indexOf('Ready/yellow'));
    expect(seen.indexOf('Ready/yellow')).toBeLessThan(seen.indexOf('Ready/green'));

    const es = (await sim.kube.get(`${ES}/quickstart`))!;
    expect(es.status).toMatchObject({ phase: 'Ready', health: 'green', availableNodes: 1, version: '8.19.21', observedGeneration: 1 });
    expect(condition(es, 'ReconciliationComplete')?.status).toBe('True');
    expect(validatorForKind(crds, 'elasticsearch.k8s.elastic.co/v1', 'Elasticsearch')!(es)).toEqual([]);

    const sts = (await sim.kube.get('/apis/apps/v1/namespaces/logging/statefulsets/quickstart-es-default'))!;
    expect(sts.spec.replicas).toBe(1);
    expect(sts.metadata.ownerReferences).toMatchObject([{ kind: 'Elasticsearch', name: 'quickstart', controller: true }]);
    const main = sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'elasticsearch');
    expect(main.image).toBe('docker.elastic.co/elasticsearch/elasticsearch:8.19.21');
    expect(main.resources).toEqual({ requests: { memory: '1Gi', cpu: '500m' }, limits: { memory: '1Gi' } });
    expect(main.env).toEqual(expect.arrayContaining([{ name: 'ES_JAVA_OPTS', value: '-Xms512m -Xmx512m' }]));

    const [pod, ...more] = await sim.kube.list('/api/v1/namespaces/logging/pods', { labelSelector: 'elasticsearch.k8s.elastic.co/cluster-name=quickstart' });
    expect(more).toHaveLength(0);
    expect(pod!.metadata.name).toBe('quickstart-es-default-0');
    expect(pod!.metadata.labels).toMatchObject({ 'common.k8s.elastic.co/type': 'elasticsearch', 'elasticsearch.k8s.elastic.co/statefulset-name': 'quickstart-es-default' });

    const http = (await sim.kube.get('/api/v1/namespaces/logging/services/quickstart-es-http'))!;
    expect(http.spec.ports).toMatchObject([{ name: 'https', port: 9200 }]);
    expect(await sim.kube.get('/api/v1/namespaces/logging/services/quickstart-es-transport')).toBeDefined();
    expect(await sim.kube.get('/api/v1/namespaces/logging/services/quickstart-es-internal-http')).toBeDefined();

    // The elastic user's password is generated once and then left alone.
    const secret = (await sim.kube.get('/api/v1/namespaces/logging/secrets/quickstart-es-elastic-user'))!;
    const data = secret.data as Record<string, string>;
    const password = Buffer.from(data.elastic!, 'base64').toString();
    expect(password).toMatch(/^[A-Za-z0-9]{16,}$/);
    await new Promise((r) => setTimeout(r, 400));
    expect((await sim.kube.get('/api/v1/namespaces/logging/secrets/quickstart-es-elastic-user'))!.data).toEqual(data);
  });

  it('runs Kibana: Deployment and Service, health red until its pod is Ready on a usable Elasticsearch, then green', async () => {
    await sim.kube.create(KB, kibana('quickstart', 'quickstart'));
    const kb = await sim.kube.waitFor<KubeObject>(`${KB}/quickstart`, (o) => o.status?.health === 'green');
    expect(kb.status).toMatchObject({ associationStatus: 'Established', elasticsearchAssociationStatus: 'Established', availableNodes: 1, count: 1, version: '8.19.21', selector: 'common.k8s.elastic.co/type=kibana,kibana.k8s.elastic.co/name=quickstart' });
    expect(validatorForKind(crds, 'kibana.k8s.elastic.co/v1', 'Kibana')!(kb)).toEqual([]);
    const deploy = (await sim.kube.get('/apis/apps/v1/namespaces/logging/deployments/quickstart-kb'))!;
    expect(deploy.spec.template.spec.containers[0]).toMatchObject({ name: 'kibana', image: 'docker.elastic.co/kibana/kibana:8.19.21', resources: { requests: { memory: '1Gi' } } });
    expect((await sim.kube.get('/api/v1/namespaces/logging/services/quickstart-kb-http'))!.spec.ports).toMatchObject([{ port: 5601 }]);
  });

  it('keeps an Elasticsearch red with the `elasticsearch.health` knob, and its Kibana with it, until cleared', async () => {
    await sim.patchFaults({ elasticsearch: { health: 'red', name: '^stuck$' } });
    await sim.kube.create(ES, elasticsearch('stuck'));
    await sim.kube.create(KB, kibana('stuck', 'stuck'));
    await sim.kube.waitFor<KubeObject>(`${ES}/stuck`, (o) => o.status?.phase === 'Ready' && o.status?.health === 'red');
    await new Promise((r) => setTimeout(r, 600));
    expect((await sim.kube.get(`${ES}/stuck`))!.status.health).toBe('red');
    const kb = (await sim.kube.get(`${KB}/stuck`))!;
    expect(kb.status).toMatchObject({ health: 'red', associationStatus: 'Established' });
    expect(kb.status.availableNodes).toBeUndefined();
    // The knob only names `stuck`: the other cluster stays green.
    expect((await sim.kube.get(`${ES}/quickstart`))!.status.health).toBe('green');

    await sim.patchFaults({ elasticsearch: null });
    await sim.kube.waitFor<KubeObject>(`${ES}/stuck`, (o) => o.status?.health === 'green');
    await sim.kube.waitFor<KubeObject>(`${KB}/stuck`, (o) => o.status?.health === 'green');
  });
});
