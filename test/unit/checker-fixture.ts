// Builds histories the way the recorder writes them (records every 200 ms, checkpoints that
// complete after Flink triggered them, faults, restarts replaying from the restored position),
// and judges them, for the checker's tests.
import { Checker, type CheckerOptions, NUMBER, SEQ } from '../../scenarios/checker/checker.ts';
import type { HistoryEvent } from '../../scenarios/checker/history.ts';
import type { Verdict } from '../../scenarios/checker/verdict.ts';

export const T0 = 1_795_000_000_000;

/** A history event without its time (distributed over the union, so each kind keeps its keys). */
type Untimed<E> = E extends unknown ? Omit<E, 't'> : never;

export class RunBuilder {
  t = T0;
  attempt = 0;
  hw = 0;
  readonly events: HistoryEvent[] = [];
  private checkpointId = 0;
  /** Positions of the completed checkpoints, by id. */
  readonly covered = new Map<number, number>();

  /** One record of our job, `dt` ms after the previous event. */
  record(seq: number, dt = 200): this {
    this.t += dt;
    this.events.push({ t: this.t, kind: 'record', seq, subtask: seq % 2, attempt: this.attempt, source: `pod/tm-${seq % 2}/flink-main-container` });
    this.hw = Math.max(this.hw, seq);
    return this;
  }

  /** Records from..to, with adjacent pairs swapped where `swaps` says (two subtasks' lines racing). */
  records(from: number, to: number, swaps: boolean[] = []): this {
    const order: number[] = [];
    for (let n = from; n <= to; n++) order.push(n);
    for (let i = 0; i + 1 < order.length; i += 2) if (swaps[i % swaps.length]) [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
    for (const n of order) this.record(n);
    return this;
  }

  /** A checkpoint triggered now (covering the mark now) that completes after `more` further records. */
  checkpoint(more = 0): this {
    const id = ++this.checkpointId;
    const triggered = this.t + 1;
    this.covered.set(id, this.hw);
    const next = this.hw + 1;
    this.records(next, next + more - 1);
    this.events.push({ t: this.t + 1, kind: 'checkpoint', id, triggered });
    return this;
  }

  fault(name = 'kill-taskmanager', deadline?: number): this {
    this.t += 50;
    this.events.push({ t: this.t, kind: 'fault', name, ...(deadline === undefined ? {} : { deadline }) });
    return this;
  }

  /** The restart: a new attempt after `pause` ms, replaying from `from` up to `to`. */
  restart(from: number, to: number, pause = 5_000, swaps: boolean[] = []): this {
    this.t += pause;
    this.attempt++;
    return this.records(from, to, swaps);
  }

  event(ev: Untimed<HistoryEvent>, dt = 10): this {
    this.t += dt;
    this.events.push({ ...ev, t: this.t } as HistoryEvent);
    return this;
  }
}

export function judge(events: Iterable<HistoryEvent>, options?: CheckerOptions): Verdict {
  const checker = new Checker(options);
  for (const ev of events) checker.event(ev);
  return checker.finish();
}

/** Our job's numbers as offline log lines would feed them (no times, attempt as given). */
export function judgeSeq(numbers: Iterable<number | [number, number]>, options?: CheckerOptions): Verdict {
  const checker = new Checker(options);
  let line = 0;
  for (const item of numbers) {
    const [n, attempt] = typeof item === 'number' ? [item, 0] : item;
    checker.record(SEQ, n, Number.NaN, attempt, -1, 'tm.log', ++line);
  }
  return checker.finish();
}

/** The blog's job's lines: [number, prefix] pairs, no times. */
export function judgeNumbers(lines: Iterable<[number, number]>): Verdict {
  const checker = new Checker();
  let line = 0;
  for (const [n, prefix] of lines) checker.record(NUMBER, n, Number.NaN, -1, prefix, 'blog.log', ++line);
  return checker.finish();
}

export const failing = (v: Verdict): string[] => v.findings.filter((f) => f.fail).map((f) => f.message);
