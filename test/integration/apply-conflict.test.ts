// A field of the sandbox's objects that another manager changed (`kubectl scale`) is reported
// by the next `up`, naming the manager and the field, and left as it is; `up --force` puts the
// declared value back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

const STEPS = ['--only', 'preflight,cluster,minio'];
const DEPLOYMENT = '/apis/apps/v1/namespaces/minio/deployments/minio';
let sim: Sim;

beforeAll(async () => {
  sim = await startSim();
  const first = await runCli(['up', ...STEPS], { env: sim.env, timeoutMs: 90_000 });
  expect(first.code, first.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await sim?.close();
});

it('up reports a field another manager changed and leaves it; up --force takes it back', async () => {
  const res = await fetch(`${sim.url}${DEPLOYMENT}?fieldManager=kubectl-scale`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas: 0 } }),
  });
  expect(res.status).toBe(200);

  const again = await runCli(['up', ...STEPS, '--json'], { env: sim.env, timeoutMs: 60_000 });
  expect(again.code).toBe(1);
  const doc = JSON.parse(again.stdout) as { ok: boolean; error: { message: string; causes: string[]; hint: string } };
  expect(doc.ok).toBe(false);
  const said = [doc.error.message, ...doc.error.causes].join('\n');
  expect(said).toContain('apply Deployment minio/minio: fields the sandbox sets were changed by another manager: "kubectl-scale" holds .spec.replicas');
  expect(doc.error.hint).toMatch(/sandbox up --force/);
  expect((await sim.kube.get(DEPLOYMENT))?.spec.replicas).toBe(0);

  const forced = await runCli(['up', ...STEPS, '--force'], { env: sim.env, timeoutMs: 60_000 });
  expect(forced.code, forced.stderr).toBe(0);
  const back = await sim.kube.get(DEPLOYMENT);
  expect(back?.spec.replicas).toBe(1);
  const replicaOwners = (back?.metadata.managedFields as Array<{ manager: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }>)
    .filter((m) => m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
    .map((m) => m.manager);
  expect(replicaOwners).toEqual(['sandbox']);
}, 150_000);
