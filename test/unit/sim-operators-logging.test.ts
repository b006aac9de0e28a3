// The simulated logging operator against the fake API server: fluentd and fluent-bit rendered
// into the control namespace, and the statuses the CLI's readiness gate reads (Flow and
// ClusterOutput active without problems), including the problems the real operator reports for
// a missing Secret and for a ClusterOutput outside the control namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../sim/api-client.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';
import type { Sim } from '../sim/harness.ts';
import { crdDir, ensureNamespace, installOperator, isReady, operatorSim } from './sim-operators-fixture.ts';

const G = '/apis/logging.banzaicloud.io/v1beta1';

function clusterOutput(name: string, namespace: string): KubeObject {
  return {
    apiVersion: 'logging.banzaicloud.io/v1beta1',
    kind: 'ClusterOutput',
    metadata: { name, namespace },
    spec: {
      elasticsearch: {
        host: 'quickstart-es-http.logging.svc.cluster.local',
        port: 9200,
        scheme: 'https',
        ssl_verify: false,
        user: 'elastic',
        password: { valueFrom: { secretKeyRef: { name: 'quickstart-es-elastic-user', key: 'elastic' } } },
        buffer: { timekey: '1m', timekey_wait: '30s' },
      },
    },
  };
}

function flow(name: string, refs: { global?: string[]; local?: string[] }): KubeObject {
  return {
    apiVersion: 'logging.banzaicloud.io/v1beta1',
    kind: 'Flow',
    metadata: { name, namespace: 'default' },
    spec: {
      filters: [{ tag_normaliser: {} }, { parser: { parse: { type: 'json', time_key: '@timestamp' } } }],
      match: [{ select: { labels: { component: 'taskmanager' } } }],
      ...(refs.global ? { globalOutputRefs: refs.global } : {}),
      ...(refs.local ? { localOutputRefs: refs.local } : {}),
    },
  };
}

describe('simulated logging operator', () => {
  let sim: Sim;
  const crds = loadCrdsFromDir(crdDir);
  const valid = (o: KubeObject): string[] => validatorForKind(crds, 'logging.banzaicloud.io/v1beta1', o.kind!)!(o);

  beforeAll(async () => {
    sim = await operatorSim(['logging-loggings.yaml', 'logging-fluentbitagents.yaml', 'logging-clusteroutputs.yaml', 'logging-outputs.yaml', 'logging-flows.yaml', 'logging-clusterflows.yaml']);
    await ensureNamespace(sim, 'logging');
    await installOperator(sim, { kind: 'Deployment', name: 'logging-operator', namespace: 'logging-operator', image: 'ghcr.io/kube-logging/logging-operator:6.7.0' });
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('runs fluentd and the FluentbitAgent DaemonSet in the control namespace', async () => {
    await sim.kube.create(`${G}/loggings`, { apiVersion: 'logging.banzaicloud.io/v1beta1', kind: 'Logging', metadata: { name: 'sandbox' }, spec: { controlNamespace: 'logging', fluentd: {} } });
    await sim.kube.create(`${G}/fluentbitagents`, { apiVersion: 'logging.banzaicloud.io/v1beta1', kind: 'FluentbitAgent', metadata: { name: 'sandbox' }, spec: {} });

    const sts = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/logging/statefulsets/sandbox-fluentd', (s) => s.status?.readyReplicas === 1);
    expect(sts.spec.template.spec.containers[0]).toMatchObject({ name: 'fluentd', image: 'ghcr.io/kube-logging/logging-operator/fluentd:6.7.0-full' });
    expect(sts.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'fluentd', 'app.kubernetes.io/managed-by': 'sandbox' });
    expect((await sim.kube.get('/api/v1/namespaces/logging/services/sandbox-fluentd'))!.spec.ports).toMatchObject([{ port: 24240 }]);

    const ds = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/logging/daemonsets/sandbox-fluentbit', (d) => d.status?.numberReady === 1);
    expect(ds.spec.template.spec.containers[0].name).toBe('fluent-bit');
    expect(ds.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'fluentbit', 'app.kubernetes.io/managed-by': 'sandbox' });
    const pods = await sim.kube.list('/api/v1/namespaces/logging/pods', { labelSelector: 'app.kubernetes.io/name=fluentbit' });
    expect(pods.filter(isReady).map((p) => p.spec.nodeName)).toEqual(['c-worker']);
  });

  it('reports a ClusterOutput whose Secret is missing, activates it through a Flow, and clears the problem once the Secret exists', async () => {
    await sim.kube.create(`${G}/namespaces/logging/clusteroutputs`, clusterOutput('es-output', 'logging'));
    await sim.kube.create(`${G}/namespaces/default/flows`, flow('es-flow', { global: ['es-output'] }));
    const missing = 'failed to get kubernetes secret logging:quickstart-es-elastic-user: secrets "quickstart-es-elastic-user" not found';
    const out = await sim.kube.waitFor<KubeObject>(`${G}/namespaces/logging/clusteroutputs/es-output`, (o) => o.status?.active === true);
    expect(out.status).toEqual({ active: true, problems: [missing], problemsCount: 1 });
    expect(valid(out)).toEqual([]);
    expect((await sim.kube.get(`${G}/namespaces/default/flows/es-flow`))!.status).toEqual({ active: true });
    // Nothing new renders while an output cannot load its Secret: the configcheck results are
    // still those of the configuration without flows.
    const before = Object.keys((await sim.kube.get(`${G}/loggings/sandbox`))!.status?.configCheckResults ?? {});
    await new Promise((r) => setTimeout(r, 300));
    expect(Object.keys((await sim.kube.get(`${G}/loggings/sandbox`))!.status?.configCheckResults ?? {})).toEqual(before);

    await sim.kube.create('/api/v1/namespaces/logging/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'quickstart-es-elastic-user', namespace: 'logging' }, data: { elastic: Buffer.from('pw').toString('base64') } });
    await sim.kube.waitFor<KubeObject>(`${G}/namespaces/logging/clusteroutputs/es-output`, (o) => o.status?.problemsCount === undefined && o.status?.active === true);
    const logging = await sim.kube.waitFor<KubeObject>(`${G}/loggings/sandbox`, (l) => {
      const hashes = Object.keys(l.status?.configCheckResults ?? {});
      return hashes.length === 1 && !before.includes(hashes[0]!);
    });
    expect(Object.values(logging.status.configCheckResults)).toEqual([true]);
    expect(logging.status.problems).toBeUndefined();
    expect(valid(logging)).toEqual([]);
  });

  it('names a missing key in an existing Secret', async () => {
    await ensureNamespace(sim, 'other');
    const o = clusterOutput('wrong-key', 'logging');
    o.spec.elasticsearch.password.valueFrom.secretKeyRef.key = 'nope';
    await sim.kube.create(`${G}/namespaces/logging/clusteroutputs`, o);
    const got = await sim.kube.waitFor<KubeObject>(`${G}/namespaces/logging/clusteroutputs/wrong-key`, (x) => x.status !== undefined);
    expect(got.status).toEqual({ active: false, problems: ['key "nope" not found in secret "quickstart-es-elastic-user" in namespace "logging"'], problemsCount: 1 });
  });

  it('ignores a ClusterOutput outside the control namespace, so a Flow that uses it dangles', async () => {
    await sim.kube.create(`${G}/namespaces/default/clusteroutputs`, clusterOutput('elsewhere', 'default'));
    await sim.kube.create(`${G}/namespaces/default/flows`, flow('to-elsewhere', { global: ['elsewhere'], local: ['no-such-output'] }));
    const f = await sim.kube.waitFor<KubeObject>(`${G}/namespaces/default/flows/to-elsewhere`, (x) => x.status !== undefined);
    expect(f.status).toEqual({ active: false, problems: ['dangling global output reference: elsewhere', 'dangling local output reference: no-such-output'], problemsCount: 2 });
    expect(valid(f)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await sim.kube.get(`${G}/namespaces/default/clusteroutputs/elsewhere`))!.status).toBeUndefined();
  });

  it('renders the deprecated inline Logging.spec.fluentbit as `<logging>-fluentbit`', async () => {
    await ensureNamespace(sim, 'legacy');
    await sim.kube.create(`${G}/loggings`, { apiVersion: 'logging.banzaicloud.io/v1beta1', kind: 'Logging', metadata: { name: 'legacy' }, spec: { controlNamespace: 'legacy', loggingRef: 'legacy', fluentbit: {} } });
    const ds = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/legacy/daemonsets/legacy-fluentbit', (d) => d.status?.numberReady === 1);
    expect(ds.metadata.ownerReferences).toMatchObject([{ kind: 'Logging', name: 'legacy' }]);
    // Without fluentd there is nothing to aggregate into.
    expect(await sim.kube.get('/apis/apps/v1/namespaces/legacy/statefulsets/legacy-fluentd')).toBeUndefined();
  });
});
