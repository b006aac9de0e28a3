// The three reports of `sandbox test` from a made-up run: the JUnit XML parses with a real XML
// parser and counts what CI dashboards count, report.json keeps the outcomes as they were, and
// report.html inlines everything it plots, downsampled, and cannot be broken out of.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../scenarios/checker/history.ts';
import { CARRIED_OUT } from '../../scenarios/report/junit.ts';
import { readPlotSeries } from '../../scenarios/report/plot-data.ts';
import { writeReports } from '../../scenarios/report/write.ts';
import { META, outcomes, T0, writeHistory } from './report-fixture.ts';

let dir: string;
let history: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-writers-'));
  history = writeHistory(dir, 'history');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Node = Record<string, unknown>;
const asList = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);

describe('junit.xml', () => {
  it('is XML with one testsuite, a testcase per claim plus one per scenario, classname = scenario', async () => {
    const paths = await writeReports(join(dir, 'r1'), outcomes(history), META);
    const xml = readFileSync(paths.junit, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', textNodeName: 'text', parseTagValue: false }).parse(xml) as Node;
    const suites = doc.testsuites as Node;
    const suite = asList(suites.testsuite);
    expect(suite).toHaveLength(1);
    const s = suite[0]!;
    // 3 scenarios + 4 claims; one claim failed; one scenario could not be carried out.
    expect([s.tests, s.failures, s.errors, s.skipped]).toEqual(['7', '1', '1', '0']);
    expect(Number(s.time)).toBeCloseTo(303.75, 3);
    const cases = asList(s.testcase);
    expect(cases.map((c) => `${String(c.classname)} / ${String(c.name)}`)).toEqual([
      `deploy / ${CARRIED_OUT}`,
      'deploy / a checkpoint completes',
      'deploy / the sequence advances from 1 with nothing lost',
      `kill-taskmanager / ${CARRIED_OUT}`,
      'kill-taskmanager / sequence continues after the TaskManager is killed',
      'kill-taskmanager / the job recovers',
      `upgrade / ${CARRIED_OUT}`,
    ]);
    const failure = cases[4]!.failure as Node;
    // Markup and quotes come back as written; the control character XML cannot hold is replaced.
    expect(failure.message).toBe('lost 120..122 after kill-taskmanager <&> "q" \'a\' \uFFFD end');
    expect(failure.text).toBe('lost 120..122 after kill-taskmanager <&> "q" \'a\' \uFFFD end\nsecond line');
    expect(cases.filter((c) => c.failure)).toHaveLength(1);
    const error = cases[6]!.error as Node;
    expect(error.message).toBe('timed out after 300 s waiting for hello-ha to be RUNNING');
    expect(error.text).toContain('hint: look at the operator logs');
    expect(cases.filter((c) => c.error)).toHaveLength(1);
    expect(String(cases[3]!['system-out'])).toContain('killed pod: hello-ha-taskmanager-1-1');
    const props = asList((s.properties as Node).property).map((p) => [p.name, p.value]);
    expect(props).toContainEqual(['run-id', META.runId]);
    expect(props).toContainEqual(['version.flink', '1.20.4']);
    expect(props).toContainEqual(['diagnostics', META.artifacts]);
  });
});

describe('report.json', () => {
  it('keeps the outcomes as given, with the run id, versions, counts and the report paths', async () => {
    const given = outcomes(history);
    const paths = await writeReports(join(dir, 'r2'), given, META);
    const report = JSON.parse(readFileSync(paths.json, 'utf8')) as Record<string, unknown>;
    expect(report.ok).toBe(false);
    expect(report.runId).toBe(META.runId);
    expect(report.versions).toEqual(META.versions);
    expect(report.counts).toEqual({ scenarios: 3, passed: 1, failed: 2 });
    expect(report.reports).toEqual(paths);
    expect(report.outcomes).toEqual(JSON.parse(JSON.stringify(given)));
  });

  it('is ok only when every scenario passed and the run was not interrupted', async () => {
    const passed = outcomes(history).slice(0, 1);
    const ok = JSON.parse(readFileSync((await writeReports(join(dir, 'r3'), passed, META)).json, 'utf8')) as { ok: boolean };
    expect(ok.ok).toBe(true);
    const cut = JSON.parse(readFileSync((await writeReports(join(dir, 'r4'), passed, { ...META, interrupted: true })).json, 'utf8')) as { ok: boolean };
    expect(cut.ok).toBe(false);
  });
});

describe('plot data', () => {
  it('keeps every record and marker of a short history, in time order, relative to the first event', async () => {
    const s = await readPlotSeries(history);
    expect(s.t0).toBe(T0 + 100);
    expect(s.records).toBe(210);
    expect(s.points).toHaveLength(210);
    expect(s.points[0]).toEqual([0, 1]);
    expect(s.markers.map((m) => m.kind)).toEqual(['checkpoint', 'fault', 'restore', 'savepoint', 'suspend', 'resume']);
    expect(s.markers[1]).toEqual({ t: 9_950, kind: 'fault', label: 'kill-taskmanager' });
  });

  it('downsamples a long history to the limit and still shows a reset as a drop', async () => {
    const evs: HistoryEvent[] = [];
    for (let i = 1; i <= 100_000; i++) evs.push({ t: T0 + i * 10, kind: 'record', seq: i, subtask: 0, attempt: 0, source: 'pod/x/c/0' });
    evs.push({ t: T0 + 1_000_005, kind: 'fault', name: 'kill-taskmanager' });
    // State lost: the sequence starts over from 1 for a while.
    for (let i = 1; i <= 20_000; i++) evs.push({ t: T0 + 1_000_010 + i * 10, kind: 'record', seq: i, subtask: 0, attempt: 1, source: 'pod/y/c/0' });
    const s = await readPlotSeries(writeHistory(dir, 'long', evs), { maxPoints: 500, maxMarkers: 10 });
    expect(s.records).toBe(120_000);
    expect(s.points.length).toBeLessThanOrEqual(500);
    expect(s.points.length).toBeGreaterThan(200);
    expect(s.shown).toBe(s.points.length);
    const times = s.points.map((p) => p[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const fault = s.markers.find((m) => m.kind === 'fault')!;
    expect(Math.max(...s.points.filter((p) => p[0] < fault.t).map((p) => p[1]))).toBe(100_000);
    expect(Math.min(...s.points.filter((p) => p[0] > fault.t).map((p) => p[1]))).toBeLessThan(100);
  });

  it('plots nothing for a history that was never written', async () => {
    const s = await readPlotSeries(join(dir, 'absent.jsonl'));
    expect(s).toMatchObject({ points: [], markers: [], records: 0 });
  });
});

describe('report.html', () => {
  it('is one self-contained page: no external resource, a CSP that forbids fetching, its data inline', async () => {
    const paths = await writeReports(join(dir, 'r5'), outcomes(history), META);
    const html = readFileSync(paths.html, 'utf8');
    expect(html).toContain(`content="default-src 'none'`);
    expect(html).not.toMatch(/<(link|img|iframe)\b|\bsrc=/i);
    // The savepoint path holds "</script>": it must not end the data block early.
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json) as { scenarios: Array<{ scenario: string; series: { points: unknown[]; markers: Array<{ label: string }> } }> };
    expect(data.scenarios.map((s) => s.scenario)).toEqual(['deploy', 'kill-taskmanager', 'upgrade']);
    expect(data.scenarios[0]!.series.points).toHaveLength(210);
    expect(data.scenarios[0]!.series.markers.map((m) => m.label)).toContain('savepoint s3://flink-data/savepoints/savepoint-</script><b>x (seq 150)');
    expect(data.scenarios[2]!.series.points).toHaveLength(0);
  });

  it('states each claim with ✓ or ✖, the verdict, the error and hint, and escapes what it shows', async () => {
    const paths = await writeReports(join(dir, 'r6'), outcomes(history), META);
    const html = readFileSync(paths.html, 'utf8');
    expect(html).toContain('1 of 3 scenarios passed');
    expect(html).toContain('✓ a checkpoint completes');
    expect(html).toContain('✖ sequence continues after the TaskManager is killed');
    expect(html).toContain('lost 120..122 after kill-taskmanager &#60;&#38;&#62;');
    expect(html).toContain('could not be carried out: timed out after 300 s');
    expect(html).toContain('hint: look at the operator logs');
    for (const i of [0, 1, 2]) expect(html).toContain(`<figure id="plot-${i}">`);
  });
});
