// `sandbox test` against the simulation, through the built CLI: on a fresh machine it stands the
// sandbox up itself, runs the named scenarios and writes the three reports; a scenario that loses
// records fails it (exit 1) with the diagnostics bundle; Ctrl-C stops it with exit 130 and reports
// for what ran.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../scenarios/report/json.ts';
import { dumpDom, markerCount, plotsOf } from '../helpers/chromium.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
let first: CliResult;
beforeAll(async () => {
  sim = await startSim();
}, 60_000);
afterAll(async () => {
  await sim?.close();
});

function onlyReportDir(state: string, before: string[] = []): string {
  const dirs = readdirSync(join(state, 'reports')).filter((d) => !before.includes(d));
  expect(dirs).toHaveLength(1);
  return join(state, 'reports', dirs[0]!);
}

type Node = Record<string, unknown>;
const asList = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);

function junitCases(file: string): Node[] {
  const xml = readFileSync(file, 'utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { testsuites: { testsuite: Node } };
  expect(asList(doc.testsuites.testsuite)).toHaveLength(1);
  return asList(doc.testsuites.testsuite.testcase);
}

it('stands the sandbox up, runs deploy and kill-taskmanager, and writes JUnit, JSON and HTML reports', async () => {
  first = await runCli(['test', 'deploy', 'kill-taskmanager', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 240_000 });
  const out = first.stdout + first.stderr;
  // Nothing was installed: `test` ran the up pipeline (kind made the cluster) before the scenarios.
  expect(first.stderr).toContain('running `sandbox up` first');
  expect((await sim.calls('kind')).some((c) => c.argv.includes('create'))).toBe(true);

  const dir = onlyReportDir(sim.env.SANDBOX_STATE_DIR!);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as JsonReport;
  expect(report.outcomes.map((o) => o.scenario)).toEqual(['deploy', 'kill-taskmanager']);
  expect(report.reports.junit).toBe(join(dir, 'junit.xml'));
  expect(out).toContain(join(dir, 'junit.xml'));
  expect(report.versions).toMatchObject({ 'flink-sandbox': expect.any(String), flink: '1.20.4' });
  // Each scenario's history is the run's, next to the reports' run id.
  for (const o of report.outcomes) expect(o.historyFile).toBe(join(sim.env.SANDBOX_STATE_DIR!, 'runs', report.runId, o.scenario, 'history.jsonl'));
  const deploy = report.outcomes[0]!;
  expect(deploy.ok, JSON.stringify(deploy.claims)).toBe(true);
  expect(deploy.claims.length).toBeGreaterThan(0);

  // Both hold on a faithful simulation: exit 0, no diagnostics (the failing cases are below).
  const failed = report.outcomes.filter((o) => !o.ok);
  expect(failed.map((o) => o.scenario)).toEqual([]);
  expect(first.code, out).toBe(0);
  expect(report.ok).toBe(true);
  expect(report.artifacts).toBeUndefined();

  const cases = junitCases(join(dir, 'junit.xml'));
  const claims = report.outcomes.flatMap((o) => o.claims.map((c) => ({ classname: o.scenario, name: c.title, failed: !c.ok })));
  for (const c of claims) expect(cases.find((k) => k.classname === c.classname && k.name === c.name && 'failure' in k === c.failed), c.name).toBeDefined();
  expect(cases.filter((k) => k.failure)).toHaveLength(claims.filter((c) => c.failed).length);

  // The plot of kill-taskmanager shows its fault; both plots show the records.
  const plots = plotsOf(await dumpDom(join(dir, 'report.html')));
  expect(plots).toHaveLength(2);
  for (const p of plots) expect(Number(/data-points="(\d+)"/.exec(p)?.[1])).toBeGreaterThan(10);
  expect(markerCount(plots[1]!, 'fault')).toBe(1);
  expect(markerCount(plots[0]!, 'checkpoint')).toBeGreaterThan(0);
}, 300_000);

it('fails with exit 1, the failed claim in JUnit and the diagnostics bundle when the job logs garbage, without running up again', async () => {
  const before = readdirSync(join(sim.env.SANDBOX_STATE_DIR!, 'reports'));
  await sim.patchFaults({ flink: { garbageLines: 25 } });
  try {
    const res = await runCli(['test', 'deploy', '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 120_000 });
    expect(res.code, res.stdout.slice(0, 6000)).toBe(1);
    expect(res.stderr).not.toContain('running `sandbox up` first');
    const doc = JSON.parse(res.stdout) as { ok: boolean; reports: { junit: string; json: string; html: string }; outcomes: unknown[]; error: { artifacts: string; exitCode: number } };
    expect(doc.ok).toBe(false);
    expect(doc.error.exitCode).toBe(1);
    expect(doc.outcomes).toHaveLength(1);
    expect(existsSync(join(doc.error.artifacts, 'error.txt'))).toBe(true);
    expect(readdirSync(doc.error.artifacts)).toContain('default');
    expect(onlyReportDir(sim.env.SANDBOX_STATE_DIR!, before)).toBe(join(doc.reports.junit, '..'));
    const failed = junitCases(doc.reports.junit).filter((k) => k.failure);
    expect(failed.length).toBeGreaterThan(0);
    expect(JSON.stringify(failed)).toMatch(/[1-9]\d* malformed/);
    for (const file of [doc.reports.json, doc.reports.html]) expect(existsSync(file)).toBe(true);
  } finally {
    await sim.patchFaults({ flink: null });
  }
}, 180_000);

it('refuses an unknown scenario with exit 64 before touching anything', async () => {
  const res = await runCli(['test', 'no-such-scenario', '--config', sim.configFile], { env: sim.env });
  expect(res.code).toBe(64);
  expect(res.stderr).toContain('unknown scenario: no-such-scenario');
  expect(res.stderr).toContain('kill-taskmanager');
});

it('with --context uses that cluster and never creates one: an unknown context is the error', async () => {
  const kindCalls = (await sim.calls('kind')).length;
  const res = await runCli(['test', 'deploy', '--context', 'no-such-context', '--config', sim.configFile], { env: sim.env });
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('kube context "no-such-context" not found');
  expect(res.stderr).not.toContain('running `sandbox up` first');
  expect(await sim.calls('kind')).toHaveLength(kindCalls);
});

it('stops on Ctrl-C with exit 130 and still reports the scenarios that ran', async () => {
  const before = readdirSync(join(sim.env.SANDBOX_STATE_DIR!, 'reports'));
  const res = await runCli(['test', 'deploy', 'kill-taskmanager', 'operator-restart', '--config', sim.configFile], {
    env: sim.env,
    timeoutMs: 180_000,
    interrupt: {
      signal: 'SIGINT',
      when: async (out) => {
        while (!out().includes('kill-taskmanager: deploying')) await new Promise((r) => setTimeout(r, 20));
      },
    },
  });
  expect(res.code, res.stderr).toBe(130);
  expect(res.stderr).toContain('interrupted after');
  const report = JSON.parse(readFileSync(join(onlyReportDir(sim.env.SANDBOX_STATE_DIR!, before), 'report.json'), 'utf8')) as JsonReport;
  expect(report.interrupted).toBe(true);
  expect(report.ok).toBe(false);
  expect(report.outcomes[0]!.scenario).toBe('deploy');
  // The scenario Ctrl-C stopped is reported as not passed; the one never started is absent.
  expect(report.outcomes.map((o) => o.scenario)).toEqual(['deploy', 'kill-taskmanager']);
  expect(report.outcomes[1]!.ok).toBe(false);
}, 200_000);
