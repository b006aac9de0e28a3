// The continuity checker, one example per finding: what it reports, whether it fails the
// verdict, and which fault it names. The properties over random histories are in
// checker-properties.test.ts.
import { describe, expect, it } from 'vitest';
import { Checker, NUMBER, SEQ } from '../../scenarios/checker/checker.ts';
import { renderJson, renderText } from '../../scenarios/checker/render.ts';
import { failing, judge, judgeNumbers, judgeSeq, RunBuilder, T0 } from './checker-fixture.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a clean run', () => {
  it('is valid, with its counts and one sequence', () => {
    const v = judgeSeq(range(1, 300));
    expect(v.valid).toBe(true);
    expect(v.counts).toMatchObject({ records: 300, sequences: 1, lost: 0, duplicates: 0, resets: 0, malformed: 0, unexpected: 0 });
    expect(v.sequences[0]).toMatchObject({ id: 'SEQ', lowest: 1, highest: 300, distinct: 300, lost: [] });
    expect(v.summary).toMatch(/^valid: 300 records, nothing lost/);
  });

  it('is unknown when nothing was seen', () => {
    expect(new Checker().finish().valid).toBe('unknown');
  });
});

describe('lost', () => {
  it('fails on numbers never seen between the lowest and the highest, naming the interval and the fault before it', () => {
    const run = new RunBuilder().records(1, 411).fault().restart(419, 500);
    const v = judge(run.events);
    expect(v.valid).toBe(false);
    expect(v.sequences[0]!.lost).toEqual([[412, 418]]);
    expect(v.counts.lost).toBe(7);
    expect(failing(v)).toEqual(['lost 412..418 (7 numbers) after kill-taskmanager']);
  });

  it('counts a gap inside a batch of lines sharing one timestamp as lost, not in flight, once later lines came', () => {
    const run = new RunBuilder();
    run.record(1);
    for (let n = 2; n <= 60; n++) if (n < 30 || n > 34) run.record(n, 0); // one kubelet batch, one timestamp
    run.t += 1000;
    run.record(61, 0).record(62, 0); // the last observations, a second later
    const v = judge(run.events, { settleMs: 100 });
    expect(v.sequences[0]!.lost).toEqual([[30, 34]]);
    expect(v.counts.unseen).toBe(0);
  });

  it('does not count what lies below the first number seen (the capture began later)', () => {
    expect(judgeSeq(range(480, 600)).valid).toBe(true);
  });
});

describe('unexpected and malformed', () => {
  it('fails on an impossible value (our sequence starts at 1), with a sample', () => {
    const v = judgeSeq([1, 2, 0, 3]);
    expect(v.valid).toBe(false);
    expect(v.counts.unexpected).toBe(1);
    expect(v.unexpectedSamples[0]).toEqual({ source: 'tm.log:3', text: 'SEQ seq=0: our sequence starts at 1' });
  });

  it('fails on malformed record lines, counting them and showing the first ones', () => {
    const checker = new Checker();
    for (const n of range(1, 10)) checker.record(SEQ, n, Number.NaN, 0, -1, 'tm.log', n);
    checker.malformed('SEQ seq=11 subt', 'tm.log:11');
    checker.malformed('SEQ seq=x subtask=0 attempt=0', 'tm.log:12');
    const v = checker.finish();
    expect(v.valid).toBe(false);
    expect(v.counts.malformed).toBe(2);
    expect(v.malformedSamples.map((s) => s.source)).toEqual(['tm.log:11', 'tm.log:12']);
    expect(failing(v)).toEqual(['2 malformed record lines (first: tm.log:11: SEQ seq=11 subt)']);
  });
});

describe('duplicates', () => {
  it('offline, without a history, reports a replay and never fails it, naming the inferred restart', () => {
    const v = judgeSeq([...range(1, 200), ...range(181, 300).map((n): [number, number] => [n, 1])]);
    expect(v.valid).toBe(true);
    expect(v.counts.duplicates).toBe(20);
    expect(v.sequences[0]!.duplicates).toEqual([[181, 200]]);
    const replay = v.findings.find((f) => f.kind === 'replay');
    expect(replay).toMatchObject({ fail: false, intervals: [[181, 200]], count: 20, after: 'restart to attempt 1 (tm.log:201)' });
  });

  it('with a history, allows the replay from the last checkpoint before the fault up to the mark before the restart', () => {
    const run = new RunBuilder().records(1, 100).checkpoint(3).records(104, 120).fault().restart(101, 200);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.replayWindows).toEqual([{ sequence: 'SEQ', from: 101, to: 120, after: 'kill-taskmanager' }]);
    expect(v.counts).toMatchObject({ duplicates: 20, replayed: 20 });
    expect(v.strictDuplicates).toBe(true);
  });

  it('with a history, fails repeats of numbers the restored checkpoint already covered', () => {
    const run = new RunBuilder().records(1, 100).checkpoint(3).records(104, 120).fault().restart(91, 200);
    const v = judge(run.events);
    expect(v.valid).toBe(false);
    expect(failing(v)).toEqual(['10 duplicates of SEQ outside every replay window (91..100) after kill-taskmanager']);
    expect(v.findings.find((f) => f.kind === 'duplicates')!.intervals).toEqual([[91, 100]]);
  });

  it('with a history, fails repeats when no fault explains them', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 60).records(55, 70);
    expect(failing(judge(run.events))).toEqual(['6 duplicates of SEQ outside every replay window (55..60) after start']);
  });

  it('with a history but no checkpoints in it, only reports duplicates', () => {
    const run = new RunBuilder().records(1, 60).records(55, 70);
    const v = judge(run.events);
    expect(v.valid).toBe(true);
    expect(v.strictDuplicates).toBe(false);
    expect(v.counts.duplicates).toBe(6);
  });

  it('uses the snapshot the job was restored from when the history names it', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 100).checkpoint().records(101, 120).fault();
    run.event({ kind: 'restore', from: 'checkpoint', id: 2 }).restart(101, 150);
    const v = judge(run.events);
    expect(v.valid).toBe(true);
    expect(v.replayWindows[0]).toMatchObject({ from: 101, to: 120 });
  });

  it('flags a restore from a checkpoint older than the last completed one, though its longer replay is allowed', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 100).checkpoint().records(101, 120).fault();
    run.event({ kind: 'restore', from: 'checkpoint', id: 1 }).restart(51, 150);
    const v = judge(run.events);
    expect(v.valid).toBe(false);
    expect(v.replayWindows[0]).toMatchObject({ from: 51, to: 120 });
    expect(failing(v)).toEqual(['restored from checkpoint 1, older than the last completed checkpoint 2, after kill-taskmanager']);
  });

  it('does not flag a restore from an older checkpoint that a declared rewind asked for', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 100).checkpoint().records(101, 120);
    run.event({ kind: 'expect-rewind', to: 51 }).fault('redeploy');
    run.event({ kind: 'restore', from: 'checkpoint', id: 1 }).restart(51, 150);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.valid).toBe(true);
  });

  it('takes in a late line of the old attempt arriving after the restart showed: the replay may repeat it', () => {
    const run = new RunBuilder().records(1, 100).checkpoint().records(101, 120).fault();
    run.t += 3000;
    run.attempt = 1;
    run.record(101).record(102);
    run.attempt = 0;
    run.record(121); // the killed TaskManager's last line, read late
    run.attempt = 1;
    run.records(103, 160);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.replayWindows[0]).toMatchObject({ from: 101, to: 121 });
  });
});

describe('resets', () => {
  it('offline, fails a fall back to the start as state loss', () => {
    const v = judgeSeq([...range(1, 80), ...range(1, 50)]);
    expect(v.valid).toBe(false);
    expect(v.counts.resets).toBe(1);
    expect(failing(v)).toEqual(['reset (state lost): SEQ fell back to 1 after reaching 80, after restart (rewind to 1 at tm.log:81)']);
    // Its repeats are the reset's, not separate findings.
    expect(v.findings.filter((f) => f.kind === 'duplicates' || f.kind === 'replay')).toEqual([]);
  });

  it('with a history, fails a reset after a fault when a checkpoint had covered part of the sequence', () => {
    const run = new RunBuilder().records(1, 40).checkpoint().records(41, 80).fault('kill-jobmanager').restart(1, 100);
    const v = judge(run.events);
    expect(failing(v)).toEqual(['reset (state lost): SEQ fell back to 1 after reaching 80, after kill-jobmanager']);
  });

  it('with a history, reports starting over when nothing had been checkpointed yet, without failing it', () => {
    const run = new RunBuilder().records(1, 20).fault().restart(1, 60);
    const v = judge(run.events);
    expect(v.valid).toBe(true);
    expect(v.counts.resets).toBe(1);
    expect(v.findings.find((f) => f.kind === 'reset')).toMatchObject({ fail: false, message: 'reset before any checkpoint (nothing to restore): SEQ fell back to 1 after reaching 20, after kill-taskmanager' });
    expect(v.replayWindows).toEqual([{ sequence: 'SEQ', from: 1, to: 20, after: 'kill-taskmanager' }]);
  });

  it('reports the reset of the no-HA baseline: no checkpoints at all, the reset declared', () => {
    const run = new RunBuilder().records(1, 80).event({ kind: 'expect-reset' }).fault().restart(1, 60);
    const v = judge(run.events);
    expect(v.valid).toBe(true);
    expect(v.counts.resets).toBe(1);
    expect(v.findings.find((f) => f.kind === 'reset')).toMatchObject({ fail: false, message: expect.stringMatching(/^expected reset: SEQ fell back to 1 after reaching 80/) });
  });

  it('reports a declared reset without failing (the no-HA baseline)', () => {
    const run = new RunBuilder().records(1, 40).checkpoint().records(41, 80);
    run.event({ kind: 'expect-reset' }).fault('kill-jobmanager').restart(1, 100);
    const v = judge(run.events);
    expect(v.valid).toBe(true);
    expect(v.counts.resets).toBe(1);
    expect(v.findings.find((f) => f.kind === 'reset')).toMatchObject({ fail: false, message: expect.stringMatching(/^expected reset: SEQ fell back to 1/) });
  });

  it('fails a declared reset that never happened', () => {
    const run = new RunBuilder().records(1, 40).checkpoint().records(41, 80);
    run.event({ kind: 'expect-reset' }).fault('kill-jobmanager').restart(70, 100);
    expect(failing(judge(run.events))).toEqual(['a reset was declared for kill-jobmanager, but no sequence fell back to its start']);
  });

  it('sees a reset to 1 even when the capture began after the start', () => {
    const checker = new Checker();
    let t = T0;
    for (const n of range(480, 600)) checker.record(SEQ, n, (t += 200), 0, -1, 'tm.log');
    t += 30_000;
    for (const n of range(1, 20)) checker.record(SEQ, n, (t += 200), 0, -1, 'tm.log');
    expect(checker.finish().counts.resets).toBe(1);
  });

  it('does not take the first number arriving just after the second for a reset', () => {
    expect(judgeSeq([2, 1, 4, 3, ...range(5, 50)]).valid).toBe(true);
  });

  it('accepts a declared rewind (a redeploy from an older savepoint)', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 90);
    run.event({ kind: 'savepoint', path: 's3://flink-data/savepoints/savepoint-1', seq: 30 });
    run.event({ kind: 'expect-rewind', to: 31 }).restart(31, 120);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.replayWindows).toContainEqual({ sequence: 'SEQ', from: 31, to: 90, after: 'expected rewind to 31' });
  });

  it("savepoint-redeploy's order: numbers the old job logs after the declaration, before the cancel reaches it, may come again", () => {
    // The scenario declares the rewind and the fault, then patches the FlinkDeployment; on a real
    // cluster the old job runs on until the operator's cancel reaches its tasks.
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 90);
    run.event({ kind: 'savepoint', path: 's3://flink-data/savepoints/savepoint-1', seq: 30 });
    run.event({ kind: 'expect-rewind', to: 31 }).fault('savepoint-redeploy');
    run.records(91, 97);
    run.event({ kind: 'restore', from: 'savepoint', path: 's3://flink-data/savepoints/savepoint-1' }).restart(31, 140);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.counts.replayed).toBe(97 - 31 + 1);
    expect(v.replayWindows).toContainEqual({ sequence: 'SEQ', from: 31, to: 97, after: 'savepoint-redeploy' });
  });

  it('a declared rewind alone ends at the mark when it is declared: what the old job logs later and comes again is flagged', () => {
    const run = new RunBuilder().records(1, 50).checkpoint().records(51, 90);
    run.event({ kind: 'savepoint', path: 's3://flink-data/savepoints/savepoint-1', seq: 30 });
    run.event({ kind: 'expect-rewind', to: 31 });
    run.records(91, 97).restart(31, 140);
    expect(judge(run.events).valid).toBe(false);
  });
});

describe('liveness', () => {
  it('passes when the mark passes its pre-fault value within the deadline', () => {
    const run = new RunBuilder().records(1, 100).checkpoint().records(101, 110).fault('kill-taskmanager', 30_000).restart(101, 150, 10_000);
    const v = judge(run.events);
    expect(v.liveness).toEqual([{ after: 'kill-taskmanager', mark: 110, deadlineMs: 30_000, status: 'passed', tookMs: expect.any(Number) }]);
    expect(v.liveness[0]!.tookMs).toBeGreaterThan(10_000);
  });

  it('fails when the mark passes too late', () => {
    const run = new RunBuilder().records(1, 100).checkpoint().records(101, 110).fault('kill-jobmanager', 5_000).restart(101, 150, 10_000);
    const v = judge(run.events);
    expect(v.valid).toBe(false);
    expect(v.liveness[0]!.status).toBe('late');
    expect(failing(v)[0]).toMatch(/^liveness: after kill-jobmanager the sequence passed the mark 110 only after 12\.\d s \(deadline 5 s\)$/);
  });

  it('fails when the mark is never passed although the observations went on past the deadline', () => {
    const run = new RunBuilder().records(1, 100).checkpoint().records(101, 110).fault('kill-taskmanager', 5_000);
    run.event({ kind: 'checkpoint', id: 99 }, 10_000);
    const v = judge(run.events);
    expect(v.liveness[0]!.status).toBe('never');
    expect(v.valid).toBe(false);
  });

  it('is undecided (verdict unknown) when the observations end before the deadline', () => {
    const run = new RunBuilder().records(1, 100).fault('kill-taskmanager', 60_000).restart(90, 99, 1_000);
    const v = judge(run.events);
    expect(v.liveness[0]!.status).toBe('undecided');
    expect(v.valid).toBe('unknown');
  });

  it('starts the clock of a suspend at the resume', () => {
    const run = new RunBuilder().records(1, 50).event({ kind: 'suspend' });
    run.event({ kind: 'savepoint', path: 's3://flink-data/savepoints/sp-1', triggered: run.t }, 500);
    run.event({ kind: 'resume', deadline: 5_000 }, 600_000).restart(51, 80, 3_000);
    const v = judge(run.events);
    expect(failing(v)).toEqual([]);
    expect(v.liveness[0]).toMatchObject({ after: 'resume', status: 'passed' });
  });
});

describe('quiescence', () => {
  it('reports as unseen, not lost, what may still be in flight at the end', () => {
    const checker = new Checker({ settleMs: 5_000 });
    let t = T0;
    for (const n of range(1, 200)) checker.record(SEQ, n, (t += 200), 0, -1, 'tm.log');
    for (const n of range(201, 230)) if (n % 2 === 0) checker.record(SEQ, n, (t += 100), 0, -1, 'tm.log'); // the odd subtask lags
    const v = checker.finish();
    expect(v.valid).toBe(true);
    expect(v.counts.lost).toBe(0);
    expect(v.counts.unseen).toBe(15);
    expect(v.sequences[0]!.unseen[0]).toEqual([201, 201]);
  });

  it('still fails a gap older than the settle time', () => {
    const checker = new Checker({ settleMs: 5_000 });
    let t = T0;
    for (const n of range(1, 200)) if (n !== 50) checker.record(SEQ, n, (t += 200), 0, -1, 'tm.log');
    expect(checker.finish().sequences[0]!.lost).toEqual([[50, 50]]);
  });
});

describe("the blog's job: several sequences told apart by continuity", () => {
  const blog = (from: number, to: number, prefixes: [number, number]): Array<[number, number]> =>
    range(from, to).flatMap((k): Array<[number, number]> => [
      [k, prefixes[0]],
      [50_000 + k, prefixes[1]],
    ]);

  it('checks two sequences from 0 and 50000 separately, across a restore that swaps their prefixes', () => {
    const v = judgeNumbers([...blog(0, 59, [1, 2]), ...blog(51, 119, [2, 1])]);
    expect(v.valid).toBe(true);
    expect(v.sequences.map((s) => [s.id, s.lowest, s.highest, s.prefixes])).toEqual([
      ['Number from 0', 0, 119, [1, 2]],
      ['Number from 50000', 50_000, 50_119, [2, 1]],
    ]);
    expect(v.counts.duplicates).toBe(18);
  });

  it('takes a jump in one sequence, while the other runs on, for a loss', () => {
    const lines = [...blog(0, 59, [1, 2]), ...blog(60, 119, [1, 2])].filter(([n]) => n < 70 || n > 74);
    const v = judgeNumbers(lines);
    expect(v.sequences.map((s) => s.lost)).toEqual([[[70, 74]], []]);
    expect(failing(v)).toEqual(['lost 70..74 (5 numbers) after start']);
  });

  it('fails a fall back to the start of each sequence', () => {
    const v = judgeNumbers([...blog(0, 59, [1, 2]), ...blog(0, 10, [1, 2])]);
    expect(v.counts.resets).toBe(2);
    expect(v.valid).toBe(false);
  });
});

describe('memory', () => {
  it('stays flat over a million records arriving slightly out of order', () => {
    const checker = new Checker();
    let t = T0;
    let peak = 0;
    for (let n = 1; n <= 1_000_000; n += 2) {
      checker.record(SEQ, n + 1, (t += 1), 0, -1, 'tm-1.log');
      checker.record(SEQ, n, (t += 1), 0, -1, 'tm-2.log');
      if (n % 10_001 === 0) peak = Math.max(peak, checker.footprint());
    }
    expect(checker.finish().valid).toBe(true);
    expect(peak).toBeLessThanOrEqual(4);
  });
});

describe('renderers', () => {
  it('text names the verdict, each problem and each sequence; JSON is the verdict itself', () => {
    const v = judgeSeq(range(1, 300).filter((n) => n < 100 || n > 105));
    const text = renderText(v);
    expect(text).toMatch(/^✖ INVALID: lost 100\.\.105 \(6 numbers\) after start$/m);
    expect(text).toMatch(/^ {2}✖ lost 100\.\.105/m);
    expect(text).toMatch(/^ {2}SEQ: 1\.\.300, 294 distinct; lost 100\.\.105;/m);
    expect(JSON.parse(renderJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it('text of a valid run starts with VALID', () => {
    expect(renderText(judgeSeq(range(1, 5)))).toMatch(/^✔ VALID: 5 records/);
  });

  it('text of a run of the blog job shows its prefixes', () => {
    const checker = new Checker();
    for (const k of range(0, 5)) checker.record(NUMBER, k, Number.NaN, -1, 1, 'blog.log');
    expect(renderText(checker.finish())).toMatch(/Number from 0: 0\.\.5, 6 distinct, printed as 1>/);
  });
});
