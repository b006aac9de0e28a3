// Liveness after faults: after each fault (or a resume), every sequence must pass the mark it
// had before, within a deadline. Pending checks are few (one per fault), so each new mark is
// matched against all of them.
import type { Track } from './track.ts';

export interface LivenessTarget {
  track: Track | undefined;
  /** SEQ or NUMBER; -1 (no sequence seen before the fault): any record passes. */
  format: number;
  /** Passed by a number above this (the pre-fault mark) and below `below` (the next sequence's start). */
  above: number;
  below: number;
  passedAt: number;
}

export interface PendingLiveness {
  label: number;
  /** When the clock started; NaN while a suspended job waits for its resume. */
  startT: number;
  deadlineMs: number;
  targets: LivenessTarget[];
  open: number;
}

export class Liveness {
  private pending: PendingLiveness[] = [];
  private readonly done: PendingLiveness[] = [];

  get waiting(): boolean {
    return this.pending.length > 0;
  }

  get size(): number {
    return this.pending.length;
  }

  start(label: number, startT: number, deadlineMs: number, targets: LivenessTarget[]): void {
    this.pending.push({ label, startT, deadlineMs, targets, open: targets.length });
  }

  /** The resume of a suspended job starts the clock of the suspend's check. */
  resume(label: number, t: number, deadlineMs: number): void {
    const waiting = this.pending.find((p) => Number.isNaN(p.startT));
    if (waiting) Object.assign(waiting, { label, startT: t, deadlineMs });
  }

  /** A sequence's mark moved to `n` at `t`. */
  advance(format: number, n: number, t: number): void {
    for (const p of this.pending) {
      for (const target of p.targets) {
        if ((target.format === format || target.format < 0) && n > target.above && n < target.below && Number.isNaN(target.passedAt)) pass(p, target, t);
      }
    }
    this.settle();
  }

  /** A sequence that started over is alive: its reset, not its liveness, is the finding. */
  restarted(track: Track, t: number): void {
    for (const p of this.pending) {
      for (const target of p.targets) if (target.track === track && Number.isNaN(target.passedAt)) pass(p, target, t);
    }
    this.settle();
  }

  all(): PendingLiveness[] {
    return [...this.done, ...this.pending];
  }

  private settle(): void {
    if (!this.pending.some((p) => p.open === 0)) return;
    for (const p of this.pending) if (p.open === 0) this.done.push(p);
    this.pending = this.pending.filter((p) => p.open > 0);
  }
}

function pass(p: PendingLiveness, target: LivenessTarget, t: number): void {
  // An unknown time still counts as passed; the time taken is then unknown.
  target.passedAt = t === t ? t : Infinity;
  p.open--;
}
