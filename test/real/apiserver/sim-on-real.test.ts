// The simulation on a real kube-apiserver: the simulated controllers, kubelets and fake tools
// act through it (test/sim/real-underlay.ts), with kube-controller-manager doing only the
// cluster's housekeeping, and the built CLI runs `up`, `status` and `down` against it as
// against a kind cluster. A re-run of `up` is judged by the real server's resourceVersions.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { connectKube } from '../../../scripts/lib/kube/connect.ts';
import type { Kube } from '../../../scripts/lib/kube/kube.ts';
import { runCli } from '../../helpers/cli.ts';
import { startSim, type Sim } from '../../sim/harness.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

/**
 * The cluster's housekeeping; the simulation runs the workload controllers and the kubelets.
 * The protection controllers lift the finalizers the API server's admission puts on every
 * PVC and PV, without which a namespace holding a claim never finishes terminating.
 */
const HOUSEKEEPING = ['namespace', 'garbagecollector', 'serviceaccount', 'serviceaccount-token', 'root-ca-cert-publisher', 'pvc-protection', 'pv-protection'];
const STEPS = ['--only', 'preflight,cluster,minio'];

let plane: ControlPlane;
let sim: Sim;

beforeAll(async () => {
  plane = await startControlPlane(inject('controlPlaneBinaries'), {
    controllerManager: true,
    controllers: HOUSEKEEPING,
    // New nodes would get the not-ready taint, which only the node lifecycle controller lifts;
    // that controller also evicts pods of nodes without kubelet heartbeats, which the simulated
    // kubelets do not send. The fake API server makes nodes without the taint, so this does too.
    apiserverArgs: ['--disable-admission-plugins=TaintNodesByCondition'],
  });
  sim = await startSim({ realApiServer: plane.kubeconfig });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await plane?.stop();
});

/** "Kind ns/name" -> resourceVersion of every object that the sandbox's field manager wrote. */
async function sandboxObjects(kube: Kube): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await kube.listableKinds()) {
    if (k.kind === 'Event') continue;
    for (const o of await kube.list(k.apiVersion, k.kind)) {
      const managers = (o.metadata.managedFields ?? []) as Array<{ manager?: string }>;
      if (managers.some((m) => m.manager === 'sandbox')) out.set(`${k.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion);
    }
  }
  return out;
}

it('up, a re-run that changes nothing, status, down --context and down, on the real API server', async () => {
  const first = await runCli(['up', ...STEPS], { env: sim.env, timeoutMs: 150_000 });
  expect(first.code, first.stderr + first.stdout).toBe(0);

  const kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG, context: 'kind-flink-sandbox' });
  // The kind context the fake kind wrote is the real server.
  expect(kube.server).toBe(plane.server);
  const before = await sandboxObjects(kube);
  expect([...before.keys()]).toEqual(expect.arrayContaining(['Deployment minio/minio', 'Job minio/minio-make-bucket', 'Secret default/minio-credentials', 'Namespace /minio']));
  const job = await kube.get({ apiVersion: 'batch/v1', kind: 'Job', name: 'minio-make-bucket', namespace: 'minio' });
  expect(job?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));

  const again = await runCli(['up', ...STEPS, '--json'], { env: sim.env, timeoutMs: 90_000 });
  expect(again.code, again.stderr).toBe(0);
  const report = JSON.parse(again.stdout) as { steps: Array<{ id: string; outcome: string }> };
  expect(report.steps.map((s) => `${s.id} ${s.outcome}`)).toEqual(['preflight done', 'cluster already', 'minio already']);
  expect(await sandboxObjects(kube)).toEqual(before);

  const status = await runCli(['status', '--json', '--profile', 'minimal'], { env: sim.env, timeoutMs: 60_000 });
  const components = (JSON.parse(status.stdout) as { components: Array<{ component: string; health: string }> }).components;
  expect(components.filter((c) => ['cluster', 'minio'].includes(c.component)).map((c) => `${c.component} ${c.health}`)).toEqual(['cluster healthy', 'minio healthy']);

  const removed = await runCli(['down', '--context', 'kind-flink-sandbox', '--json'], { env: sim.env, timeoutMs: 150_000 });
  expect(removed.code, removed.stderr).toBe(0);
  expect((JSON.parse(removed.stdout) as { deleted: string[] }).deleted).toEqual(expect.arrayContaining(['Deployment minio/minio', 'Namespace minio']));
  expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'minio' })).toBeUndefined();
  expect(await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'minio-credentials', namespace: 'default' })).toBeUndefined();
  // The cluster's own objects stay: down --context never touches what the sandbox did not make.
  expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', namespace: 'kube-system' })).toBeDefined();

  const gone = await runCli(['down'], { env: sim.env, timeoutMs: 60_000 });
  expect(gone.code, gone.stderr).toBe(0);
  expect(gone.stdout).toContain('deleted kind cluster flink-sandbox');
}, 400_000);
