// A scenario on the real API server: `sandbox up --profile minimal` (its webhook gates called
// by kube-apiserver, see sim-on-real.test.ts) and then `sandbox scenario kill-taskmanager`
// through the built CLI, with the simulated controllers, kubelets and Flink operator acting
// through kube-apiserver. The scenario reads the job's record lines from the TaskManagers'
// logs, which kube-apiserver fetches from the simulated kubelet's endpoint
// (test/sim/controllers/kubelet-endpoint.ts), and deletes a TaskManager pod through it; its
// verdict is asserted, and a misbehaving job makes the same path fail, naming what went wrong.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { expectRecoveredFromCheckpoint } from '../../helpers/history.ts';
import { startSim, type Sim } from '../../sim/harness.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { makeKubeletCerts, type KubeletCerts } from './kubelet-tls.ts';

const HOUSEKEEPING = ['namespace', 'garbagecollector', 'serviceaccount', 'serviceaccount-token', 'root-ca-cert-publisher', 'pvc-protection', 'pv-protection'];

interface Outcome {
  scenario: string;
  ok: boolean;
  error?: { message: string };
  claims: Array<{ title: string; ok: boolean; detail: string }>;
  facts?: Record<string, string>;
  historyFile: string;
  verdict?: { valid: boolean | 'unknown'; counts: { records: number; lost: number; resets: number; replayed: number } };
}

let certs: KubeletCerts;
let plane: ControlPlane;
let sim: Sim;

beforeAll(async () => {
  certs = await makeKubeletCerts();
  plane = await startControlPlane(inject('controlPlaneBinaries'), {
    controllerManager: true,
    controllers: HOUSEKEEPING,
    // As in sim-on-real.test.ts: no not-ready taint, and webhook Services resolved to their
    // EndpointSlice addresses; then where the kubelets are and how to trust them.
    apiserverArgs: ['--disable-admission-plugins=TaintNodesByCondition', '--enable-aggregator-routing=true', ...certs.apiserverArgs],
  });
  sim = await startSim({ realApiServer: plane.kubeconfig, kubelet: certs.tls });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await plane?.stop();
  await certs?.remove();
});

async function scenario(name: string): Promise<{ code: number; outcome: Outcome }> {
  // The simulation's config: its clocks run fast, so the scenario's windows are scaled too.
  const r = await runCli(['scenario', name, '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 180_000 });
  const doc = JSON.parse(r.stdout) as { outcomes: Outcome[] };
  expect(doc.outcomes.map((o) => o.scenario)).toEqual([name]);
  return { code: r.code, outcome: doc.outcomes[0]! };
}

it('kill-taskmanager holds on the real API server, read through the kubelet endpoint', async () => {
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 400_000 });
  expect(up.code, up.stderr + up.stdout).toBe(0);

  const before = sim.kubelet!.requests().length;
  const { code, outcome } = await scenario('kill-taskmanager');
  expect(code, JSON.stringify({ error: outcome.error, claims: outcome.claims })).toBe(0);
  expect(outcome.ok).toBe(true);
  expect(outcome.claims.length).toBeGreaterThan(0);
  expect(outcome.claims.every((c) => c.ok)).toBe(true);
  expect(outcome.verdict?.valid).toBe(true);
  expect(outcome.verdict!.counts.records).toBeGreaterThan(0);
  expect(outcome.verdict!.counts).toMatchObject({ lost: 0, resets: 0 });
  // The fault happened: the TaskManager's pod was deleted, the job restored a checkpoint and a
  // new attempt logged records.
  expect(outcome.facts?.['kill-taskmanager pod']).toMatch(/^hello-ha-taskmanager-/);
  expectRecoveredFromCheckpoint(outcome.historyFile);
  // The record lines came from the TaskManagers' logs by way of kube-apiserver and the kubelet.
  const reads = sim.kubelet!.requests().slice(before);
  expect(reads).toContainEqual(expect.stringMatching(/^GET \/containerLogs\/default\/hello-ha-taskmanager-[^/]+\/flink-main-container -> 200$/));

  // The same path catches a job that loses records: the scenario fails and says which.
  await sim.patchFaults({ flink: { dropRecords: [10, 11, 12, 13, 14] } });
  try {
    const lossy = await scenario('deploy');
    expect(lossy.code).toBe(1);
    expect(lossy.outcome.ok).toBe(false);
    const said = [lossy.outcome.error?.message ?? '', ...lossy.outcome.claims.filter((c) => !c.ok).map((c) => c.detail)].join('\n');
    expect(said).toMatch(/lost 10\.\.14 \(5 numbers\)/);
  } finally {
    await sim.patchFaults({ flink: null });
  }
}, 600_000);
