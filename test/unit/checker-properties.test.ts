// Properties of the continuity checker over random histories: injected gaps, resets and
// impossible values are always caught, exactly; legitimate replays inside their windows never
// fail; offline, duplicates are reported and never fail; the blog's job's sequences are judged
// one by one, however their lines interleave and their prefixes swap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Checker, NUMBER, SEQ } from '../../scenarios/checker/checker.ts';
import { failing, judge, judgeNumbers, judgeSeq, RunBuilder } from './checker-fixture.ts';

/** 1..n with adjacent pairs swapped where `swaps` says: two subtasks' lines racing. */
function jittered(from: number, to: number, swaps: boolean[]): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  for (let i = 0; i + 1 < out.length; i += 2) if (swaps.length && swaps[i % swaps.length]) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  return out;
}

/** Disjoint intervals inside [lo, hi], sorted, not touching each other. */
const holes = (lo: number, hi: number): fc.Arbitrary<Array<[number, number]>> =>
  fc.uniqueArray(fc.integer({ min: lo, max: hi }), { minLength: 1, maxLength: 6 }).chain((starts) =>
    fc.tuple(...starts.map(() => fc.integer({ min: 0, max: 8 }))).map((lens) => {
      const sorted = [...starts].sort((a, b) => a - b);
      const out: Array<[number, number]> = [];
      sorted.forEach((s, i) => {
        const e = Math.min(s + lens[i]!, hi);
        const last = out[out.length - 1];
        if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
        else out.push([s, e]);
      });
      return out;
    }),
  );

const swapsArb = fc.array(fc.boolean(), { maxLength: 16 });

describe('properties of the checker', () => {
  it('catches every injected gap, exactly, whatever the jitter (offline)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 3000 }), swapsArb, (n, swaps) =>
        fc.assert(
          fc.property(holes(3, n - 3), (gaps) => {
            const missing = (x: number): boolean => gaps.some(([a, b]) => x >= a && x <= b);
            const v = judgeSeq(jittered(1, n, swaps).filter((x) => !missing(x)));
            expect(v.valid).toBe(false);
            expect(v.sequences[0]!.lost).toEqual(gaps);
            expect(v.counts.lost).toBe(gaps.reduce((sum, [a, b]) => sum + b - a + 1, 0));
          }),
          { numRuns: 3 },
        ),
      ),
      { numRuns: 60 },
    );
  });

  it('catches every fall back to the start, offline and after a checkpointed fault', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 500 }), fc.integer({ min: 1, max: 400 }), fc.nat(3), swapsArb, (reached, again, attempt, swaps) => {
        const offline = judgeSeq([...jittered(1, reached, swaps), ...jittered(1, again, swaps).map((x): [number, number] => [x, attempt])]);
        expect(offline.counts.resets).toBe(1);
        expect(offline.valid).toBe(false);

        const run = new RunBuilder().records(1, reached).checkpoint().records(reached + 1, reached + 3).fault('kill-jobmanager').restart(1, again, 2_000, swaps);
        const v = judge(run.events);
        expect(v.counts.resets).toBe(1);
        expect(failing(v).some((m) => m.startsWith('reset (state lost)') && m.endsWith('after kill-jobmanager'))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('catches every impossible value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.uniqueArray(fc.nat(300), { minLength: 1, maxLength: 5 }), fc.constantFrom(0, -3, 2 ** 60, Number.NaN), (n, at, bad) => {
        const values: number[] = [];
        for (let x = 1; x <= n; x++) values.push(x);
        for (const i of at) values.splice(Math.min(i, values.length), 0, bad);
        const v = judgeSeq(values);
        expect(v.valid).toBe(false);
        expect(v.counts.unexpected).toBe(at.length);
        expect(v.sequences[0]!.lost).toEqual([]);
      }),
    );
  });

  it('never fails replays inside their windows: from any point after the restored checkpoint up to the pre-fault mark', () => {
    // A run of rounds: records, a checkpoint that completes a few records later, more records, a
    // fault, then a restart replaying from somewhere after what the checkpoint covered.
    const round = fc.record({
      before: fc.integer({ min: 1, max: 60 }),
      late: fc.nat(5),
      after: fc.nat(40),
      checkpoint: fc.boolean(),
      replayFrom: fc.double({ min: 0, max: 1, noNaN: true }),
      pause: fc.integer({ min: 500, max: 20_000 }),
      swaps: swapsArb,
    });
    fc.assert(
      fc.property(fc.array(round, { minLength: 1, maxLength: 6 }), (rounds) => {
        const run = new RunBuilder();
        let restored = 0; // what the last completed checkpoint covered
        for (const r of rounds) {
          run.records(run.hw + 1, run.hw + r.before, r.swaps);
          if (r.checkpoint) {
            restored = run.hw;
            run.checkpoint(r.late);
          }
          run.records(run.hw + 1, run.hw + r.after, r.swaps);
          run.fault();
          const mark = run.hw;
          const from = restored + 1 + Math.floor(r.replayFrom * (mark - restored));
          run.restart(Math.min(from, mark + 1), mark + 20, r.pause, r.swaps);
        }
        const v = judge(run.events);
        expect(failing(v)).toEqual([]);
        expect(v.valid).toBe(true);
        expect(v.counts.replayed).toBe(v.counts.duplicates);
      }),
      { numRuns: 300 },
    );
  });

  it('offline, never fails duplicates: replays from anywhere after the start are reported', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 2, max: 80 }), fc.integer({ min: 1, max: 60 })), { minLength: 1, maxLength: 6 }), swapsArb, (rounds, swaps) => {
        const numbers: number[] = [];
        let hw = 0;
        for (const [forward, back] of rounds) {
          numbers.push(...jittered(hw + 1, hw + forward, swaps));
          hw += forward;
          numbers.push(...jittered(Math.max(2, hw - back + 1), hw, swaps));
        }
        const v = judgeSeq(numbers);
        expect(failing(v)).toEqual([]);
        expect(v.valid).toBe(true);
      }),
    );
  });

  it("judges each of the blog job's sequences on its own: a loss in one is caught exactly, restores with swapped prefixes are not", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 30, max: 200 }),
        fc.nat(3),
        fc.integer({ min: 5, max: 20 }),
        fc.option(fc.tuple(fc.integer({ min: 5, max: 20 }), fc.integer({ min: 1, max: 8 }))),
        (p, length, victim, back, loss) => {
          const size = Math.floor(100_000 / p);
          const lines: Array<[number, number]> = [];
          const lossIn = victim % p;
          const lost = (s: number, k: number): boolean => loss !== null && s === lossIn && k >= loss[0] && k < loss[0] + loss[1];
          for (let k = 0; k < length; k++) for (let s = 0; s < p; s++) if (!lost(s, k)) lines.push([s * size + k, s + 1]);
          // A restore: each sequence steps back, and the prefixes rotate.
          const resume = Math.max(1, length - back);
          for (let k = resume; k < length + 30; k++) for (let s = 0; s < p; s++) lines.push([s * size + k, ((s + 1) % p) + 1]);
          const v = judgeNumbers(lines);
          expect(v.sequences.map((s) => s.origin)).toEqual(Array.from({ length: p }, (_, s) => s * size));
          // The restore re-emits from `resume` on: only what was lost below it stays lost.
          const lastLost = loss ? Math.min(loss[0] + loss[1] - 1, resume - 1) : -1;
          const expected = Array.from({ length: p }, (_, s) => (loss && s === lossIn && lastLost >= loss[0] ? [[s * size + loss[0], s * size + lastLost]] : []));
          expect(v.sequences.map((s) => s.lost)).toEqual(expected);
          expect(v.valid).toBe(expected.every((l) => l.length === 0));
          expect(v.counts.resets).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('agrees whether records come one by one or as history events', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 300 }), (values) => {
        const direct = new Checker();
        values.forEach((n, i) => direct.record(SEQ, n, 1000 + i, 0, -1, 'x'));
        const viaEvents = judge(values.map((seq, i) => ({ t: 1000 + i, kind: 'record' as const, seq, subtask: 0, attempt: 0, source: 'x' })));
        const a = direct.finish();
        expect(viaEvents.counts).toEqual(a.counts);
        expect(viaEvents.sequences).toEqual(a.sequences);
      }),
    );
  });

  it('keeps the two jobs apart when one log holds both', () => {
    const checker = new Checker();
    for (let k = 1; k <= 50; k++) {
      checker.record(SEQ, k, Number.NaN, 0, -1, 'mixed.log');
      checker.record(NUMBER, k - 1, Number.NaN, -1, -1, 'mixed.log');
    }
    const v = checker.finish();
    expect(v.valid).toBe(true);
    expect(v.sequences.map((s) => [s.id, s.lowest, s.highest])).toEqual([
      ['SEQ', 1, 50],
      ['Number from 0', 0, 49],
    ]);
  });
});
