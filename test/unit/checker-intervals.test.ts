// The checker's interval set against the obvious model (a Set of numbers): same members, same
// intervals and gaps, whatever the order of arrival, with memory bounded by the gaps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalSet } from '../../scenarios/checker/intervals.ts';

/** The model's maximal runs of consecutive numbers. */
function runs(values: Set<number>): Array<[number, number]> {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

describe('IntervalSet', () => {
  it('holds exactly what was added, as maximal intervals, in any order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 200 }), { maxLength: 300 }), (adds) => {
        const set = new IntervalSet();
        const model = new Set<number>();
        for (const n of adds) {
          expect(set.add(n)).toBe(!model.has(n));
          model.add(n);
        }
        expect(set.intervals()).toEqual(runs(model));
        expect(set.count()).toBe(model.size);
        for (let n = -52; n <= 202; n++) expect(set.has(n)).toBe(model.has(n));
        expect(set.gaps().map((g) => [g.from, g.to])).toEqual(
          runs(model)
            .slice(1)
            .map(([lo], i) => [runs(model)[i]![1] + 1, lo - 1]),
        );
      }),
    );
  });

  it('addRange agrees with adding each number (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.nat(12)), { maxLength: 30 }), (ranges) => {
        const set = new IntervalSet();
        const model = new Set<number>();
        for (const [from, len] of ranges) {
          set.addRange(from, from + len);
          for (let n = from; n <= from + len; n++) model.add(n);
        }
        expect(set.intervals()).toEqual(runs(model));
      }),
    );
  });

  it('labels a gap with the label current when it opened; filling part of it keeps that label', () => {
    const set = new IntervalSet();
    for (let n = 1; n <= 10; n++) set.add(n, 0);
    set.add(20, 7); // opens 11..19 under label 7
    set.add(15, 9); // splits it: both halves stay 7
    set.add(0, 3); // extends below, no gap
    set.add(-5, 4); // opens -4..-1 under label 4
    expect(set.gaps()).toEqual([
      { from: -4, to: -1, label: 4 },
      { from: 11, to: 14, label: 7 },
      { from: 16, to: 19, label: 7 },
    ]);
  });

  it('keeps one interval for a long sequence arriving slightly out of order: memory follows gaps, not values', () => {
    const set = new IntervalSet();
    let maxSize = 0;
    for (let n = 1; n <= 200_000; n += 2) {
      set.add(n + 1); // the even one first, as a faster subtask's line would
      maxSize = Math.max(maxSize, set.size);
      set.add(n);
    }
    expect(set.intervals()).toEqual([[1, 200_000]]);
    expect(maxSize).toBeLessThanOrEqual(2);
  });

  it('absorbAbove joins a higher set, labelling the hole between', () => {
    const low = new IntervalSet();
    const high = new IntervalSet();
    for (const n of [1, 2, 3]) low.add(n);
    for (const n of [10, 11, 14]) high.add(n, 5);
    low.absorbAbove(high, 8);
    expect(low.intervals()).toEqual([
      [1, 3],
      [10, 11],
      [14, 14],
    ]);
    expect(low.gaps().map((g) => g.label)).toEqual([8, 5]);
  });
});
