// Wait.forDryRunAccepted keeps retrying while a webhook is not answering, but a refusal
// by the API server itself (an invalid object) ends the wait at once with its message.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Wait } from '../../scripts/lib/wait/wait.ts';
import { simKube, type SimKube } from './kube-fixture.ts';

let sim: SimKube;
beforeAll(async () => {
  sim = await simKube();
});
afterAll(async () => {
  await sim?.close();
});

it('a refusal by the API server (no such namespace) fails at once, naming it, instead of waiting for the timeout', async () => {
  const bad = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: 'nowhere' }, data: { a: '1' } };
  const t0 = performance.now();
  await expect(Wait.forDryRunAccepted(sim.kube, [bad], 'the probe to be accepted', { timeoutMs: 20_000 })).rejects.toThrow(
    /the probe to be accepted: refused by the API server: .*namespaces "nowhere" not found/,
  );
  expect(performance.now() - t0).toBeLessThan(5_000);
});

it('a valid object is accepted and nothing is stored', async () => {
  const ok = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: 'default' }, data: { a: '1' } };
  await Wait.forDryRunAccepted(sim.kube, [ok], 'the probe to be accepted', { timeoutMs: 5_000 });
  expect(await sim.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'probe', namespace: 'default' })).toBeUndefined();
});

it('asks for every object at once, and of several refusals reports the first in their order', async () => {
  let inFlight = 0;
  let most = 0;
  const counting = {
    ...sim.kube,
    async createDryRun(obj: Parameters<typeof sim.kube.createDryRun>[0]) {
      most = Math.max(most, ++inFlight);
      try {
        return await sim.kube.createDryRun(obj);
      } finally {
        inFlight--;
      }
    },
  };
  const refused = (ns: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: ns }, data: { a: '1' } });
  const ok = refused('default');
  await expect(Wait.forDryRunAccepted(counting, [ok, refused('first-missing'), refused('second-missing')], 'the probes to be accepted', { timeoutMs: 20_000 })).rejects.toThrow(
    /refused by the API server: .*namespaces "first-missing" not found/,
  );
  expect(most).toBe(3);
});
