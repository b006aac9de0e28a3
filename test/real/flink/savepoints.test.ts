// Savepoint lifecycles against real Flink, as the operator drives them for the sandbox's
// scenarios: suspend/resume (stop-with-savepoint, then a new job from it), an upgrade to another
// parallelism through a savepoint, and a redeploy from an older savepoint (a declared rewind).
// The history notes what the product's scenarios note; the verdicts are the product checker's.
import { expect, inject, it } from 'vitest';
import type { Verdict } from '../../../scenarios/checker/verdict.ts';
import { continuity } from '../../../scenarios/claims.ts';
import type { ClaimInput } from '../../../scenarios/scenario.ts';
import { Run } from './harness.ts';
import { observe, readHistory } from './observe.ts';
import { cancelJob } from './rest.ts';
import { taskManagersFor } from './sandbox-config.ts';

const sandbox = inject('realSandbox');

function claimInput(run: Run, verdict: Verdict): ClaimInput {
  return { verdict, facts: {}, checkpoints: run.history.checkpoints().length };
}

/** The lowest number logged after the last event of `kind`: where the new job started. */
async function firstAfter(run: Run, kind: 'resume' | 'savepoint' | 'expect-rewind'): Promise<number> {
  const events = await readHistory(run.history.file);
  const at = events.findLastIndex((e) => e.kind === kind);
  const seqs = events.slice(at).flatMap((e) => (e.kind === 'record' ? [e.seq] : []));
  return Math.min(...seqs);
}

it('stop-with-savepoint, then a new job from it (suspend/resume): the sequence continues right after the savepoint, nothing replayed', async () => {
  const run = await Run.start(sandbox, { name: 'suspend-resume' });
  try {
    await run.submit();
    await run.running();
    const { path, tookMs } = await run.suspend();
    // Without drain no record passes the savepoint barrier: the last one logged is its position.
    const position = run.highWater();
    await run.note({ kind: 'resume' });
    await run.submit({ savepointPath: path });
    await run.waitForSequence(position, `the resumed job to pass ${position}`);
    const verdict = await run.finish();
    const obs = await observe(run, verdict, 'resume', { stopWithSavepointMs: tookMs, savepointPosition: position });

    const claim = continuity('the sequence continues right after the savepoint position', { noReplay: true });
    expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    expect(await firstAfter(run, 'resume')).toBe(position + 1);
    expect(obs.restoreLines.some((l) => l.includes('from Savepoint') && l.includes(path))).toBe(true);
  } finally {
    await run.stop();
  }
});

it('an upgrade to another parallelism through a savepoint: the sequence continues, nothing lost', async () => {
  const run = await Run.start(sandbox, { name: 'upgrade' });
  try {
    await run.submit();
    await run.running();
    const from = run.flink.job.parallelism;
    const to = from + 1;
    // What the upgrade scenario notes, then what the operator does: suspend with a savepoint,
    // start the TaskManagers the new parallelism needs, deploy from the savepoint.
    await run.note({ kind: 'fault', name: 'upgrade' });
    const { path, tookMs } = await run.stopWithSavepoint();
    const position = run.highWater();
    const needed = taskManagersFor(to, run.flink.slotsPerTaskManager);
    while (run.cluster.liveTaskManagers().length < needed) await run.cluster.startTaskManager();
    await run.cluster.waitForTaskManagers(needed);
    await run.submit({ savepointPath: path, parallelism: to });
    await run.waitForSequence(position, `the upgraded job to pass ${position}`);
    const verdict = await run.finish();
    await observe(run, verdict, 'fault', { stopWithSavepointMs: tookMs, parallelism: `${from} -> ${to}` });

    const claim = continuity('the sequence continues across the parallelism upgrade');
    expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    // Every subtask of the new parallelism logs records.
    const events = await readHistory(run.history.file);
    const subtasks = new Set(events.flatMap((e) => (e.kind === 'record' && e.seq > position ? [e.subtask] : [])));
    expect([...subtasks].sort()).toEqual(Array.from({ length: to }, (_, i) => i));
    expect(await firstAfter(run, 'savepoint')).toBe(position + 1);
  } finally {
    await run.stop();
  }
});

it('a savepoint taken, the job runs on, then redeployed from it: a declared rewind to the savepoint, nothing lost', async () => {
  const run = await Run.start(sandbox, { name: 'savepoint-redeploy' });
  try {
    await run.submit();
    await run.running();
    const { path, covers, tookMs } = await run.savepoint();
    await run.waitForSequence(run.highWater() + 25, 'the job to run on past the savepoint');
    const before = run.highWater();
    const mark = run.history.restartMark();
    // The redeploy: the running job goes, the scenario's declaration, a new job from the savepoint.
    // Declared once the old job is CANCELED: the checker's window ends at the mark when declared,
    // and the old job logs on until the cancel reaches its tasks (a number logged 24 ms after an
    // earlier declaration was replayed outside the window).
    await cancelJob(run.cluster.restUrl, run.jobId);
    await run.note({ kind: 'expect-rewind', to: covers });
    await run.submit({ savepointPath: path });
    await run.waitForRecovery(mark, before, `the redeployed job to pass ${before}`);
    const verdict = await run.finish();
    const obs = await observe(run, verdict, 'expect-rewind', { savepointMs: tookMs, covers });

    const claim = continuity('the sequence rewinds to the savepoint position and nothing is lost', { rewind: true });
    expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    // The rewind is real: numbers up to the pre-redeploy mark were logged again, from just after the savepoint.
    const restart = await firstAfter(run, 'expect-rewind');
    expect(restart).toBeGreaterThan(covers);
    expect(restart).toBeLessThanOrEqual(before);
    expect(verdict.counts.replayed).toBeGreaterThan(0);
    expect(obs.restoreLines.some((l) => l.includes('from Savepoint') && l.includes(path))).toBe(true);
  } finally {
    await run.stop();
  }
});
