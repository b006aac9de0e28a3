// `sandbox scenario logs-in-elasticsearch` through the built CLI against the simulated cluster
// after `sandbox up` (profile full): the job's record lines and JobManager lines are read from
// the `fluentd` index over a port-forward; a pipeline that loses lines fails the gap claim with
// the missing numbers named; without the pipeline the scenario says so and how to install it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

interface Outcome {
  scenario: string;
  ok: boolean;
  claims: Array<{ title: string; ok: boolean; detail: string }>;
  facts: Record<string, string>;
  error?: { message: string; hint?: string };
}

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile], { env: sim.env, timeoutMs: 240_000 });
  expect(up.code, up.stderr).toBe(0);
}, 270_000);
afterAll(async () => {
  await sim?.close();
});

async function scenario(): Promise<{ code: number; outcome: Outcome; stderr: string }> {
  const r = await runCli(['scenario', 'logs-in-elasticsearch', '--json'], { env: sim.env, timeoutMs: 240_000 });
  const doc = JSON.parse(r.stdout) as { outcomes?: Outcome[]; error?: { message: string } };
  const outcome = doc.outcomes?.[0] ?? (doc as unknown as { error: { data?: { outcomes?: Outcome[] } } }).error?.data?.outcomes?.[0];
  expect(outcome, r.stdout.slice(0, 2000)).toBeDefined();
  return { code: r.code, outcome: outcome!, stderr: r.stderr };
}

it('finds the record lines and the JobManager lines in the fluentd index, with no gap', async () => {
  const { code, outcome } = await scenario();
  expect(outcome.claims.filter((c) => !c.ok), JSON.stringify(outcome, null, 1).slice(0, 3000)).toEqual([]);
  expect(code).toBe(0);
  expect(outcome.claims.map((c) => c.title)).toEqual([
    "the job's record lines arrive in the fluentd index",
    "the JobManager's logs arrive in the fluentd index",
    'the sequence in fluentd has no gap the pod logs do not have (duplicates reported, not failed)',
  ]);
  expect(Number(outcome.facts['es records'])).toBeGreaterThan(0);
  expect(Number(outcome.facts['es mark'])).toBeGreaterThan(0);
  // The pipeline starts with the job's first line: the index holds 1.. up to at least the mark.
  expect(outcome.facts['es seen']).toMatch(/^1\.\.\d+$/);
  expect(Number(outcome.facts['es checkpoint lines'])).toBeGreaterThan(0);
  expect(outcome.claims[2]!.detail).toMatch(/record lines seen twice or more/);
}, 260_000);

it('a pipeline that loses lines fails the gap claim, naming the numbers lost', async () => {
  await sim.patchFaults({ logging: { dropLines: ['SEQ seq=1[0-2] '] } });
  try {
    const { code, outcome } = await scenario();
    expect(code).toBe(1);
    const gap = outcome.claims.find((c) => c.title.startsWith('the sequence in fluentd'))!;
    expect(gap.ok).toBe(false);
    expect(gap.detail).toContain('missing in fluentd but in the pod logs: 10..12 (3 numbers)');
    // The lines still arrive; only the gap is wrong.
    expect(outcome.claims[0]!.ok).toBe(true);
  } finally {
    await sim.patchFaults({ logging: null });
  }
}, 260_000);

it('without the logging pipeline it fails with what is missing and the fix', async () => {
  await sim.kube.delete('/apis/logging.banzaicloud.io/v1beta1/namespaces/default/flows/es-flow');
  const { code, outcome, stderr } = await scenario();
  expect(code).toBe(1);
  expect(outcome.ok).toBe(false);
  expect(outcome.error?.message).toBe('the logging pipeline is not installed: no Flow default/es-flow');
  expect(outcome.error?.hint).toContain('sandbox up --profile full');
  expect(stderr).toContain('logs-in-elasticsearch');
}, 260_000);
