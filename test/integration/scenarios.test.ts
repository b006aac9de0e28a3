// Every scenario, through the built CLI, against the simulated cluster: each one passes with its
// claims and numbers, leaves its history, and a bad name is refused with the list of good ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { expectRecoveredFromCheckpoint, readHistory } from '../helpers/history.ts';
import { startSim, type Sim } from '../sim/harness.ts';

interface Outcome {
  scenario: string;
  ok: boolean;
  historyFile: string;
  claims: Array<{ title: string; ok: boolean; detail: string }>;
  error?: { message: string };
  verdict?: { valid: boolean | 'unknown'; counts: { records: number; lost: number; resets: number; replayed: number } };
}

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 150_000 });
  expect(up.code, up.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await sim?.close();
});

describe('sandbox scenario', () => {
  it('lists every scenario with one line each', async () => {
    const text = await runCli(['scenario'], { env: sim.env });
    expect(text.code).toBe(0);
    const json = await runCli(['scenario', '--json'], { env: sim.env });
    const names = (JSON.parse(json.stdout) as { scenarios: Array<{ name: string; summary: string }> }).scenarios.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['deploy', 'kill-taskmanager', 'kill-jobmanager', 'suspend-resume', 'upgrade', 'savepoint-redeploy', 'operator-restart', 'no-ha-baseline']));
    for (const name of names) expect(text.stdout).toMatch(new RegExp(`^${name} +\\S`, 'm'));
  });

  it('refuses an unknown scenario and names the known ones', async () => {
    const r = await runCli(['scenario', 'deploy', 'kill-everything'], { env: sim.env });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown scenario: kill-everything');
    expect(r.stderr).toMatch(/hint: known scenarios: deploy, kill-taskmanager/);
  });

  it('runs every scenario one after another on one sandbox, and each holds', async () => {
    const list = JSON.parse((await runCli(['scenario', '--json'], { env: sim.env })).stdout) as { scenarios: Array<{ name: string }> };
    const names = list.scenarios.map((s) => s.name).filter((n) => n !== 'logs-in-elasticsearch'); // needs the full profile
    const r = await runCli(['scenario', ...names, '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 400_000 });
    const doc = JSON.parse(r.stdout) as { ok: boolean; outcomes: Outcome[] };
    const failed = doc.outcomes.filter((o) => !o.ok).map((o) => `${o.scenario}: ${o.error?.message ?? o.claims.filter((c) => !c.ok).map((c) => c.detail).join('; ')}`);
    expect(failed).toEqual([]);
    expect(r.code).toBe(0);
    expect(doc.outcomes.map((o) => o.scenario)).toEqual(names);
    for (const o of doc.outcomes) {
      expect(o.claims.length).toBeGreaterThan(0);
      expect(o.verdict?.counts.records).toBeGreaterThan(0);
      // The history holds what was seen: record lines and the scenario's own timeline.
      const kinds = new Set(readHistory(o.historyFile).map((e) => e.kind));
      expect(kinds.has('record')).toBe(true);
    }
    const byName = Object.fromEntries(doc.outcomes.map((o) => [o.scenario, o]));
    // A fault really happened where one is claimed: after the TaskManager kill the JobManager
    // restored a checkpoint and a new attempt logged records.
    expectRecoveredFromCheckpoint(byName['kill-taskmanager']!.historyFile);
    // The negative control passed only because a reset was seen.
    expect(byName['no-ha-baseline']!.verdict!.counts.resets).toBeGreaterThan(0);
    expect(byName['operator-restart']!.verdict!.counts.replayed).toBe(0);
  }, 420_000);
});

// Each misbehaviour of the simulated Flink makes the scenario that would meet it fail, and the
// finding names it. The knob is set before the run and cleared after, so each case stands alone.
// A savepoint that FAILS and a job that never recovers are in the fault matrix
// (test/faults/scenarios.test.ts), with their reports, bundle and a passing re-run.
describe('misbehaviour is caught', () => {
  const cases: Array<{ knob: Record<string, unknown>; scenario: string; finding: RegExp }> = [
    { knob: { dropRecords: [10, 11, 12, 13, 14] }, scenario: 'deploy', finding: /lost 10\.\.14 \(5 numbers\)/ },
    { knob: { garbageLines: 7 }, scenario: 'deploy', finding: /malformed/ },
    { knob: { loseStateOnRestore: true }, scenario: 'kill-taskmanager', finding: /reset/ },
    { knob: { restoreOlderCheckpoint: true }, scenario: 'kill-taskmanager', finding: /restored from checkpoint \d+, older than the last completed checkpoint \d+/ },
    { knob: { loseStateOnResume: true }, scenario: 'suspend-resume', finding: /reset/ },
  ];
  for (const c of cases) {
    it(`${Object.keys(c.knob)[0]} fails ${c.scenario}, naming what went wrong`, async () => {
      await sim.patchFaults({ flink: c.knob });
      try {
        // The simulation's config: its clocks run fast, so what may still be in flight is scaled too.
        const r = await runCli(['scenario', c.scenario, '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 120_000 });
        const doc = JSON.parse(r.stdout) as { outcomes: Outcome[] };
        const [o] = doc.outcomes;
        expect(r.code, JSON.stringify({ error: o!.error, claims: o!.claims, counts: o!.verdict?.counts })).toBe(1);
        expect(o!.ok).toBe(false);
        const said = [o!.error?.message ?? '', ...o!.claims.filter((cl) => !cl.ok).map((cl) => cl.detail)].join('\n');
        expect(said).toMatch(c.finding);
      } finally {
        await sim.patchFaults({ flink: null });
      }
    }, 150_000);
  }
});
