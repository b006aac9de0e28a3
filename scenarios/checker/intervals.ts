// A set of integers kept as sorted, disjoint, non-adjacent intervals in flat arrays, so that its
// memory grows with the number of gaps, not with the number of values: a sequence seen without a
// hole is one interval however long it runs. Each gap remembers a label (a small integer the
// checker maps to "after kill-taskmanager"): the label current when the gap was opened.
//
// Values mostly arrive at or just above the top, so lookups start from the last interval.

/** An inclusive range [from, to]. */
export type Interval = [number, number];

/** A gap between two intervals and the label it was opened under. */
export interface LabelledGap {
  from: number;
  to: number;
  label: number;
}

const NO_LABEL = -1;

export class IntervalSet {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  /** gap[i]: label of the gap just below interval i (gap[0] is unused). */
  private readonly gap: number[] = [];

  /** How many intervals the set holds (its memory). */
  get size(): number {
    return this.lo.length;
  }

  get min(): number {
    return this.lo.length ? this.lo[0]! : Number.NaN;
  }

  get max(): number {
    return this.hi.length ? this.hi[this.hi.length - 1]! : Number.NaN;
  }

  has(n: number): boolean {
    const i = this.find(n);
    return i >= 0 && n <= this.hi[i]!;
  }

  /** Adds `n`; false when it was there already. A gap it opens gets `label`; one it splits keeps its own. */
  add(n: number, label = NO_LABEL): boolean {
    const { lo, hi, gap } = this;
    const k = lo.length;
    if (k === 0) {
      lo.push(n);
      hi.push(n);
      gap.push(NO_LABEL);
      return true;
    }
    // The hot path: the next number of a sequence.
    const top = hi[k - 1]!;
    if (n === top + 1) {
      hi[k - 1] = n;
      return true;
    }
    if (n > top + 1) {
      lo.push(n);
      hi.push(n);
      gap.push(label);
      return true;
    }
    const i = this.find(n);
    if (i >= 0 && n <= hi[i]!) return false;
    if (i >= 0 && n === hi[i]! + 1) {
      if (i + 1 < k && lo[i + 1] === n + 1) {
        // n closes the gap between interval i and i + 1.
        hi[i] = hi[i + 1]!;
        this.remove(i + 1);
      } else hi[i] = n;
      return true;
    }
    if (i + 1 < k && lo[i + 1] === n + 1) {
      lo[i + 1] = n;
      return true;
    }
    if (i < 0) {
      // Below everything: a new gap opens between n and the old minimum.
      lo.splice(0, 0, n);
      hi.splice(0, 0, n);
      gap.splice(0, 0, NO_LABEL);
      gap[1] = label;
      return true;
    }
    // Inside a gap: both halves keep the gap's label.
    lo.splice(i + 1, 0, n);
    hi.splice(i + 1, 0, n);
    gap.splice(i + 1, 0, gap[i + 1]!);
    return true;
  }

  /** Adds every value of [from, to] (windows, merges; not the hot path), labelling like add(). */
  addRange(from: number, to: number, label = NO_LABEL): void {
    if (to < from) return;
    const { lo, hi, gap } = this;
    const k = lo.length;
    // Intervals that overlap or touch [from, to] merge with it.
    let first = 0;
    while (first < k && hi[first]! < from - 1) first++;
    let last = first;
    while (last < k && lo[last]! <= to + 1) last++;
    if (last > first) {
      const merged = [Math.min(from, lo[first]!), Math.max(to, hi[last - 1]!)] as const;
      lo.splice(first, last - first, merged[0]);
      hi.splice(first, last - first, merged[1]);
      gap.splice(first, last - first, gap[first]!);
      return;
    }
    // No overlap: above the top or below the bottom a gap opens; inside a gap, both halves keep its label.
    const below = k === 0 || first === 0 ? NO_LABEL : first === k ? label : gap[first]!;
    lo.splice(first, 0, from);
    hi.splice(first, 0, to);
    gap.splice(first, 0, below);
    if (first === 0 && k > 0) gap[1] = label;
  }

  /** How many values the set holds. */
  count(): number {
    let total = 0;
    for (let i = 0; i < this.lo.length; i++) total += this.hi[i]! - this.lo[i]! + 1;
    return total;
  }

  intervals(limit = Infinity): Interval[] {
    const out: Interval[] = [];
    for (let i = 0; i < this.lo.length && out.length < limit; i++) out.push([this.lo[i]!, this.hi[i]!]);
    return out;
  }

  /** The holes between the smallest and the largest value, each with the label it was opened under. */
  gaps(): LabelledGap[] {
    const out: LabelledGap[] = [];
    for (let i = 1; i < this.lo.length; i++) out.push({ from: this.hi[i - 1]! + 1, to: this.lo[i]! - 1, label: this.gap[i]! });
    return out;
  }

  /** Adds every interval of `other` (whose values all lie above this set's), the gap between getting `label`. */
  absorbAbove(other: IntervalSet, label: number): void {
    for (let i = 0; i < other.lo.length; i++) {
      const first = this.lo.length === 0;
      const from = other.lo[i]!;
      if (!first && from <= this.max + 1) {
        this.addRange(from, other.hi[i]!);
        continue;
      }
      this.lo.push(from);
      this.hi.push(other.hi[i]!);
      this.gap.push(first ? NO_LABEL : i === 0 ? label : other.gap[i]!);
    }
  }

  /** Index of the last interval starting at or below n; -1 when n is below all of them. */
  private find(n: number): number {
    const { lo } = this;
    let i = lo.length - 1;
    // A few steps back cover the usual out-of-order arrival; farther back, bisect.
    for (let steps = 0; i >= 0 && steps < 4; steps++, i--) if (lo[i]! <= n) return i;
    if (i < 0) return -1;
    let a = 0;
    let b = i;
    if (lo[0]! > n) return -1;
    while (a < b) {
      const mid = (a + b + 1) >> 1;
      if (lo[mid]! <= n) a = mid;
      else b = mid - 1;
    }
    return a;
  }

  private remove(i: number): void {
    this.lo.splice(i, 1);
    this.hi.splice(i, 1);
    this.gap.splice(i, 1);
  }
}
