// The logs real Flink wrote in the real tier (test/real/flink, captured with
// FLINK_CAPTURE_FIXTURES=1 into test/fixtures/logs/real/<run>/), judged without Flink: the
// recorder's history of each run gives the verdict the run got, and `verify`'s reader over the
// captured TaskManager logs, with the history's timeline, agrees with it. So the checker keeps
// meeting real Flink's output (ECS JSON lines, real replays and restarts) in every `npm test`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checker } from '../../scenarios/checker/checker.ts';
import { feedInputs } from '../../scenarios/checker/inputs.ts';
import type { FindingKind, Verdict } from '../../scenarios/checker/verdict.ts';
import { judgeHistoryFile } from '../../scenarios/judge.ts';
import { packagePath } from '../../scripts/lib/paths.ts';

const DIR = packagePath('test', 'fixtures', 'logs', 'real');

interface Expected {
  valid: boolean;
  /** A finding that must fail the verdict. */
  fails?: FindingKind;
  replays: 'none' | 'some';
  resets?: number;
}

// What each real run showed (CALIBRATION.md in test/real/flink has the numbers).
const EXPECTED: Record<string, Expected> = {
  'kill-taskmanager': { valid: true, replays: 'some' },
  'kill-jobmanager': { valid: true, replays: 'some' },
  'freeze-taskmanager': { valid: true, replays: 'some' },
  'suspend-resume': { valid: true, replays: 'none' },
  upgrade: { valid: true, replays: 'none' },
  'savepoint-redeploy': { valid: true, replays: 'some' },
  'no-ha-baseline': { valid: true, replays: 'some', resets: 1 },
  'restore-older-checkpoint': { valid: false, fails: 'stale-restore', replays: 'some' },
};

function check(verdict: Verdict, expected: Expected): void {
  expect(verdict.valid, verdict.summary).toBe(expected.valid);
  expect(verdict.counts.lost).toBe(0);
  expect(verdict.counts.resets).toBe(expected.resets ?? 0);
  if (expected.replays === 'none') expect(verdict.counts.duplicates).toBe(0);
  else expect(verdict.counts.replayed).toBeGreaterThan(0);
  if (expected.fails) expect(verdict.findings.filter((f) => f.fail).map((f) => f.kind)).toContain(expected.fails);
}

describe('logs of real Flink runs', () => {
  it('every captured run has an expected verdict here', () => {
    const runs = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    // The redeploy from an older retained checkpoint is kept as evidence of a known gap (see the real tier's README).
    expect(runs.filter((r) => r !== 'redeploy-older-checkpoint').sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [run, expected] of Object.entries(EXPECTED)) {
    const dir = join(DIR, run);
    it(`${run}: the recorded history gets the verdict the real run got`, async () => {
      check(await judgeHistoryFile(join(dir, 'history.jsonl')), expected);
    });

    it(`${run}: verify over the captured TaskManager logs and the history's timeline agrees`, async () => {
      const logs = readdirSync(dir)
        .filter((f) => f.startsWith('taskmanager-'))
        .map((f) => join(dir, f));
      const checker = new Checker();
      const stats = await feedInputs({ logs, history: join(dir, 'history.jsonl') }, checker);
      // The logs carry their own times (ECS @timestamp), so they merge with the timeline by time.
      expect(stats.every((s) => s.timestamps && s.records > 0)).toBe(true);
      check(checker.finish(), expected);
    });
  }
});
