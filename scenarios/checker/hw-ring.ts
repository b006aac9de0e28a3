// What a sequence's high-water mark was at a past moment, in bounded memory: a ring of
// (time, high-water mark) samples, at most one per GRAIN_MS. Two questions need it: which
// numbers a checkpoint covered (the mark when Flink triggered it, learned only when it
// completed) and which numbers may still be in flight at the end (above the mark of a few
// seconds before the last observation).
//
// Between samples the answer is the earlier sample's mark, never a later one: a lower mark
// widens a replay window or the in-flight tail a little, which can only excuse, never accuse.

const GRAIN_MS = 50;
const CAPACITY = 8192; // about 7 minutes of history at one sample per 50 ms

export class HwRing {
  private readonly ts = new Float64Array(CAPACITY);
  private readonly hw = new Float64Array(CAPACITY);
  private next = 0;
  private length = 0;
  private lastT = -Infinity;

  /** Notes that the mark reached `hw` at time `t` (ms); NaN times (unknown) are ignored. */
  note(t: number, hw: number): void {
    // Lines that share one timestamp (a kubelet batch) happened at that moment: the sample for it
    // holds the mark after the last of them, not after the first.
    if (t === this.lastT && this.length > 0) {
      const last = (this.next - 1 + CAPACITY) % CAPACITY;
      if (hw > this.hw[last]!) this.hw[last] = hw;
      return;
    }
    if (!(t >= this.lastT + GRAIN_MS)) return;
    this.lastT = t;
    this.ts[this.next] = t;
    this.hw[this.next] = hw;
    this.next = (this.next + 1) % CAPACITY;
    if (this.length < CAPACITY) this.length++;
  }

  /** The mark at time `t`: -Infinity when t is before every remembered sample (or nothing was noted). */
  at(t: number): number {
    // Newest first: the questions are about the recent past.
    for (let k = 1; k <= this.length; k++) {
      const i = (this.next - k + CAPACITY) % CAPACITY;
      if (this.ts[i]! <= t) return this.hw[i]!;
    }
    return -Infinity;
  }
}
