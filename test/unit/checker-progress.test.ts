// Checker.progress(): the counts the menu's live view shows while records keep arriving. It must
// agree with the verdict on what is settled, leave recent holes alone (still in flight), and
// change nothing, so asking often cannot alter the final verdict.
import { describe, expect, it } from 'vitest';
import { Checker } from '../../scenarios/checker/checker.ts';
import type { HistoryEvent } from '../../scenarios/checker/history.ts';

const T0 = 1_700_000_000_000;
const record = (seq: number, t: number, attempt = 0): HistoryEvent => ({ t, kind: 'record', seq, subtask: 0, attempt, source: 'pod/tm/c/0' });

/** 1..n at 10 records per second, without the numbers in `skip`. */
function feed(checker: Checker, n: number, skip: number[] = []): void {
  for (let seq = 1; seq <= n; seq++) if (!skip.includes(seq)) checker.event(record(seq, T0 + seq * 100));
}

describe('Checker.progress', () => {
  it('starts at zero', () => {
    expect(new Checker().progress()).toEqual({ records: 0, highest: 0, missing: 0, duplicates: 0, bad: 0 });
  });

  it('counts records, the highest number, settled gaps and repeats as they come', () => {
    const checker = new Checker({ settleMs: 1_000 });
    feed(checker, 100, [40, 41, 42]);
    checker.event(record(10, T0 + 100 * 100));
    checker.event({ t: T0 + 100 * 100, kind: 'malformed', line: 'SEQ seq=x', source: 'pod/tm/c/0' });
    expect(checker.progress()).toEqual({ records: 98, highest: 100, missing: 3, duplicates: 1, bad: 1 });
  });

  it('does not count a hole within the settle time of the newest record: it may still be on its way', () => {
    const checker = new Checker({ settleMs: 1_000 });
    feed(checker, 100, [97]);
    expect(checker.progress().missing).toBe(0);
    // Two seconds later the hole is older than the settle time, and counts.
    for (let seq = 101; seq <= 120; seq++) checker.event(record(seq, T0 + seq * 100));
    expect(checker.progress().missing).toBe(1);
  });

  it('changes nothing: asked after every record, the verdict is the one of a checker never asked', () => {
    const asked = new Checker({ settleMs: 1_000 });
    const quiet = new Checker({ settleMs: 1_000 });
    const events: HistoryEvent[] = [];
    for (let seq = 1; seq <= 200; seq++) events.push(record(seq, T0 + seq * 100));
    events.push({ t: T0 + 20_050, kind: 'checkpoint', id: 1 });
    events.push({ t: T0 + 20_100, kind: 'fault', name: 'kill-taskmanager' });
    for (let seq = 150; seq <= 300; seq++) if (seq !== 260) events.push(record(seq, T0 + 21_000 + seq * 100, 1));
    for (const e of events) {
      asked.event(e);
      asked.progress();
      quiet.event(e);
    }
    const verdict = asked.finish();
    expect(verdict).toEqual(quiet.finish());
    expect(verdict.counts.lost).toBe(1);
  });
});
