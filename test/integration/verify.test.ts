// `sandbox verify`, the built CLI over the captured-log fixtures (test/fixtures/logs/, see its
// README): exit 0 valid, 1 invalid, 2 when the input cannot be judged, 64 without input; with
// --json exactly one document on stdout.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../scenarios/checker/verdict.ts';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'logs');
let dir: string;
let env: Record<string, string | undefined>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-verify-'));
  env = { PATH: process.env.PATH, HOME: dir, CI: 'true' };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `sandbox verify` in the fixtures folder (names in messages stay short). */
const verify = (...args: string[]): Promise<CliResult> => runCli(['verify', ...args], { env, cwd: FIXTURES });

type Document = Verdict & { ok: boolean; error?: { message: string; hint?: string; exitCode: number } };

function documentOf(res: CliResult): Document {
  try {
    return JSON.parse(res.stdout) as Document;
  } catch (err) {
    throw new Error(`stdout is not one JSON document (exit ${res.code}):\n${res.stdout}\n--- stderr:\n${res.stderr}`, { cause: err });
  }
}

describe('our job', () => {
  it('SEQ seq=i subtask=i%2 attempt=0 for i = 1..300 is valid: exit 0', async () => {
    const res = await verify('seq-1-300.log');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^✔ VALID: 300 records, nothing lost, no reset, no duplicates$/m);
    const doc = documentOf(await verify('seq-1-300.log', '--json'));
    expect(doc).toMatchObject({ ok: true, valid: true, counts: { records: 300, lost: 0, resets: 0 } });
  });

  it('the same with 100..105 missing: exit 1 naming the lost interval', async () => {
    const res = await verify('seq-gap-100-105.log');
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/✖ lost 100\.\.105 \(6 numbers\) after start/);
    const json = await verify('seq-gap-100-105.log', '--json');
    expect(json.code).toBe(1);
    const doc = documentOf(json);
    expect(doc).toMatchObject({ ok: false, valid: false, counts: { lost: 6 } });
    expect(doc.sequences[0]!.lost).toEqual([[100, 105]]);
  });

  it('two TaskManagers and a restart, merged by their timestamps: valid, the replay reported, the capture skew unseen', async () => {
    const doc = documentOf(await verify('tm-1.log', 'tm-2.log', 'tm-3.log', '--json'));
    expect(doc.valid).toBe(true);
    expect(doc.counts).toMatchObject({ duplicates: 20, lost: 0, unseen: 5 });
    expect(doc.replays).toEqual([expect.objectContaining({ from: 181, to: 200, duplicates: 20, after: 'restart to attempt 1 (tm-3.log:5)' })]);
    expect(doc.history).toBe(false);
  });

  it('with the run history, the replay lies inside its window (exit 0); had a later checkpoint been restored, it would not (exit 1)', async () => {
    const ok = await verify('tm-1.log', 'tm-2.log', 'tm-3.log', '--history', 'tm-kill.history.jsonl', '--json');
    expect(ok.code, ok.stdout).toBe(0);
    expect(documentOf(ok).replayWindows).toEqual([{ sequence: 'SEQ', from: 181, to: 200, after: 'kill-taskmanager' }]);
    expect(documentOf(ok).liveness).toEqual([expect.objectContaining({ after: 'kill-taskmanager', status: 'passed' })]);

    const late = await verify('tm-1.log', 'tm-2.log', 'tm-3.log', '--history', 'tm-kill-late-checkpoint.history.jsonl');
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/✖ 10 duplicates of SEQ outside every replay window \(181\.\.190\) after kill-taskmanager/);
  });

  it('reads ECS JSON and kubectl --prefix --timestamps lines among Flink\'s own and garbage', async () => {
    expect((await verify('ecs-tm.log')).code).toBe(0);
    const doc = documentOf(await verify('prefixed.log', '--json'));
    expect(doc).toMatchObject({ valid: true, counts: { records: 150 } });
  });

  it('fails a reset and malformed lines, and says which', async () => {
    const reset = await verify('ecs-no-ha-reset.log');
    expect(reset.code).toBe(1);
    expect(reset.stdout).toMatch(/✖ reset \(state lost\): SEQ fell back to 1 after reaching 80/);
    const broken = documentOf(await verify('malformed.log', '--json'));
    expect(broken).toMatchObject({ valid: false, counts: { malformed: 2 } });
    expect(broken.malformedSamples).toEqual([
      { source: 'malformed.log:13', text: 'SEQ seq=13 subt' },
      { source: 'malformed.log:31', text: 'SEQ seq=abc subtask=1 attempt=0' },
    ]);
  });
});

describe("the blog's job", () => {
  it('checks each sequence on its own, across a restore that swaps the prefixes', async () => {
    const res = await verify('blog-p2.log', '--json');
    expect(res.code).toBe(0);
    const doc = documentOf(res);
    expect(doc.sequences.map((s) => [s.id, s.lowest, s.highest, s.lost, s.prefixes])).toEqual([
      ['Number from 0', 0, 119, [], [1, 2]],
      ['Number from 50000', 50_000, 50_119, [], [2, 1]],
    ]);
    expect(doc.counts.duplicates).toBe(18);
    expect((await verify('blog-p1.log')).code).toBe(0);
  });

  it('fails a loss in one sequence while the other runs on', async () => {
    const res = await verify('blog-p2-gap.log', '--json');
    expect(res.code).toBe(1);
    expect(documentOf(res).sequences.map((s) => s.lost)).toEqual([[[70, 74]], []]);
  });
});

describe('input that cannot be judged: exit 2 with the reason and a hint', () => {
  it('an empty file', async () => {
    const res = await verify('empty.log');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/✖ empty\.log is empty\n {2}hint: capture the log again/);
    const doc = documentOf(await verify('seq-1-300.log', 'empty.log', '--json'));
    expect(doc).toMatchObject({ ok: false, error: { message: 'empty.log is empty', exitCode: 2 } });
  });

  it('a missing file, a file without record lines', async () => {
    const missing = await verify('no-such.log');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read no-such\.log: no such file/);
    const noise = join(dir, 'jobmanager.log');
    writeFileSync(noise, '2026-11-24 10:00:00,000 INFO  org.apache.flink.runtime.jobmaster.JobMaster [] - Starting execution of job\n');
    const res = await verify(noise);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no record lines in .*jobmanager\.log/);
    expect(res.stderr).toMatch(/hint: give the TaskManager logs/);
  });

  it('a damaged history, naming the line', async () => {
    const res = await verify('tm-1.log', '--history', 'corrupt.history.jsonl');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/corrupt\.history\.jsonl:3: not a history event: not JSON/);
  });

  it('a history with log lines that carry no time', async () => {
    const res = await verify('seq-1-300.log', '--history', 'tm-kill.history.jsonl');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/hint: capture the logs with `kubectl logs --timestamps`/);
  });

  it('no input at all is a usage error (64)', async () => {
    const res = await verify();
    expect(res.code).toBe(64);
    expect(res.stderr).toMatch(/nothing to verify/);
  });
});
