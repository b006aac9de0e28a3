// Proof from a scenario's history file that its fault fired and Flink recovered from it: a fault
// event, then a restore from a checkpoint, then record lines of a later attempt. (Whether any
// numbers are replayed depends on where between two checkpoints the fault lands, and the lines
// the killed pod wrote last may never be read, so a replay count proves nothing either way.)
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseHistoryLine, type HistoryEvent } from '../../scenarios/checker/history.ts';

/** Every event of a history file, each line parsed and checked by the checker's own reader. */
export function readHistory(file: string): HistoryEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const ev = parseHistoryLine(line);
      if (ev && 'error' in ev) throw new Error(`${file}:${i + 1}: ${ev.error}`);
      return ev ? [ev] : [];
    });
}

export function expectRecoveredFromCheckpoint(historyFile: string): void {
  const events = readHistory(historyFile);
  const fault = events.findIndex((e) => e.kind === 'fault');
  expect(fault, 'a fault event in the history').toBeGreaterThanOrEqual(0);
  const after = events.slice(fault);
  const restore = after.findIndex((e) => e.kind === 'restore' && e.from === 'checkpoint');
  expect(restore, 'a restore from a checkpoint after the fault').toBeGreaterThanOrEqual(0);
  expect(after.slice(restore).some((e) => e.kind === 'record' && e.attempt > 0), 'records of a new attempt after the restore').toBe(true);
}
