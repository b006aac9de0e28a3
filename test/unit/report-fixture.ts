// A made-up `sandbox test` run for the report tests: three outcomes (passed, a claim failed, could
// not be carried out) and a history with every kind of timeline event.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from '../../scenarios/checker/history.ts';
import type { Verdict } from '../../scenarios/checker/verdict.ts';
import type { ReportMeta } from '../../scenarios/report/meta.ts';
import type { ScenarioOutcome } from '../../scenarios/run.ts';

export const T0 = 1_790_000_000_000;

/** 1..200 at 10 records a second; a TaskManager killed at 100, replaying from 91; a savepoint and a suspend at 150 and a resume 5 s later. */
export function historyEvents(): HistoryEvent[] {
  const evs: HistoryEvent[] = [];
  const rec = (seq: number, t: number): void => void evs.push({ t, kind: 'record', seq, subtask: seq % 2, attempt: 0, source: 'pod/tm-1/flink-main-container/0' });
  for (let seq = 1; seq <= 100; seq++) rec(seq, T0 + seq * 100);
  evs.push({ t: T0 + 9_050, kind: 'checkpoint', id: 1, triggered: T0 + 9_000 });
  evs.push({ t: T0 + 10_050, kind: 'fault', name: 'kill-taskmanager' });
  evs.push({ t: T0 + 10_500, kind: 'restore', from: 'checkpoint', id: 1 });
  for (let seq = 91; seq <= 150; seq++) rec(seq, T0 + 1_500 + seq * 100);
  evs.push({ t: T0 + 16_600, kind: 'savepoint', path: 's3://flink-data/savepoints/savepoint-</script><b>x', seq: 150 });
  evs.push({ t: T0 + 16_700, kind: 'suspend' });
  evs.push({ t: T0 + 22_000, kind: 'resume' });
  for (let seq = 151; seq <= 200; seq++) rec(seq, T0 + 7_500 + seq * 100);
  return evs;
}

export function writeHistory(dir: string, name: string, evs: HistoryEvent[] = historyEvents()): string {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, evs.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return file;
}

function verdict(valid: boolean, lost: number): Verdict {
  return {
    valid,
    summary: valid ? 'valid: 260 records, nothing lost' : `invalid: ${lost} lost`,
    counts: { records: 260, sequences: 1, lost, unseen: 0, duplicates: 10, replayed: 10, resets: 0, malformed: 0, unexpected: 0 },
    history: true,
    strictDuplicates: true,
    sequences: [],
    replayWindows: [{ sequence: 'SEQ', from: 91, to: 100, after: 'kill-taskmanager' }],
    replays: [],
    liveness: [],
    findings: valid ? [] : [{ kind: 'lost', fail: true, sequence: 'SEQ', intervals: [[120, 122]], count: lost, after: 'kill-taskmanager', message: `lost 120..122 after kill-taskmanager` }],
    malformedSamples: [],
    unexpectedSamples: [],
  };
}

export function outcomes(historyFile: string): ScenarioOutcome[] {
  return [
    {
      scenario: 'deploy',
      summary: 'deploy the HA job',
      ok: true,
      startedAt: new Date(T0).toISOString(),
      durationMs: 1500,
      historyFile,
      claims: [
        { title: 'a checkpoint completes', ok: true, detail: '3 checkpoints completed' },
        { title: 'the sequence advances from 1 with nothing lost', ok: true, detail: '200 records, 0 lost' },
      ],
      verdict: verdict(true, 0),
      facts: {},
    },
    {
      scenario: 'kill-taskmanager',
      summary: 'delete a TaskManager pod',
      ok: false,
      startedAt: new Date(T0 + 2000).toISOString(),
      durationMs: 2250,
      historyFile,
      claims: [
        // Markup, quotes and a control character: the JUnit report must still parse and keep the text.
        { title: 'sequence continues after the TaskManager is killed', ok: false, detail: 'lost 120..122 after kill-taskmanager <&> "q" \'a\' \u0001 end\nsecond line' },
        { title: 'the job recovers', ok: true, detail: 'passed the mark 0.4s after the fault' },
      ],
      verdict: verdict(false, 3),
      facts: { 'killed pod': 'hello-ha-taskmanager-1-1' },
    },
    {
      scenario: 'upgrade',
      summary: 'change parallelism',
      ok: false,
      startedAt: new Date(T0 + 5000).toISOString(),
      durationMs: 300_000,
      historyFile: '/nonexistent/upgrade/history.jsonl',
      claims: [],
      facts: {},
      error: { message: 'timed out after 300 s waiting for hello-ha to be RUNNING', hint: 'look at the operator logs' },
    },
  ];
}

export const META: ReportMeta = {
  runId: '20261203T000000Z-abcd',
  startedAt: new Date(T0).toISOString(),
  finishedAt: new Date(T0 + 310_000).toISOString(),
  versions: { 'flink-sandbox': '0.1.0', flink: '1.20.4' },
  interrupted: false,
  artifacts: '.sandbox/artifacts/20261203T000000Z-abcd',
};
