// What a real run did, in the terms the simulation's job model uses (the calibration table in
// CALIBRATION.md): how long after the fault the sequence moved again, which task attempts logged,
// how much was replayed, what the JobManager logged on restore, which checkpoint ids followed.
// Written per run as JSON beside the history; with FLINK_CAPTURE_FIXTURES=1 the processes'
// console logs are also trimmed into test/fixtures/logs/real/<run>/ for `verify`'s tests.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { HistoryEvent } from '../../../scenarios/checker/history.ts';
import { parseHistoryLine } from '../../../scenarios/checker/history.ts';
import type { Verdict } from '../../../scenarios/checker/verdict.ts';
import { packagePath } from '../../../scripts/lib/paths.ts';
import type { Run } from './harness.ts';

export interface Observation {
  run: string;
  /** From the first fault (or resume) to the first record of the new attempt or process. */
  restartDelayMs?: number;
  /** Task attempt numbers logged before and after the fault. */
  attemptsBefore: number[];
  attemptsAfter: number[];
  highWaterBeforeFault?: number;
  /** The first number logged after the restart. */
  firstAfterRestart?: number;
  replays: Verdict['replays'];
  replayed: number;
  /** "Restoring job ..." and "Reset the checkpoint ID ..." lines of the JobManagers. */
  restoreLines: string[];
  checkpointIdsBefore: number[];
  checkpointIdsAfter: number[];
  verdict: Pick<Verdict, 'valid' | 'summary' | 'counts'>;
  extra: Record<string, unknown>;
}

export async function readHistory(file: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const ev = parseHistoryLine(line);
    if (ev && !('error' in ev)) events.push(ev);
  }
  return events;
}

type RecordEvent = Extract<HistoryEvent, { kind: 'record' }>;

// Subtasks log concurrently, so a number can land a few lines after a higher one without any restart.
const JITTER = 3;

/**
 * The first record the restarted job logged, after the pivot: the first after the JobManager's
 * restore line when it logged one; otherwise one from a new process, a new task attempt, or a
 * number seen before (a replay). After a resume every record is the new job's.
 */
function firstOfNewExecution(before: RecordEvent[], after: HistoryEvent[], pivotT: number, resumed: boolean): RecordEvent | undefined {
  const restore = after.findIndex((e) => e.kind === 'restore');
  if (restore >= 0) return after.slice(restore).find((e): e is RecordEvent => e.kind === 'record' && e.t >= after[restore]!.t);
  const attempt = new Map<string, number>();
  let high = 0;
  for (const r of before) {
    attempt.set(r.source, r.attempt);
    high = Math.max(high, r.seq);
  }
  for (const r of after) {
    if (r.kind !== 'record') continue;
    if (r.t > pivotT && (resumed || !attempt.has(r.source) || attempt.get(r.source) !== r.attempt || r.seq <= high - JITTER)) return r;
    attempt.set(r.source, r.attempt);
    high = Math.max(high, r.seq);
  }
  return undefined;
}

/** `pivot`: the kind of timeline event that splits before from after (the first fault, or the resume). */
export async function observe(run: Run, verdict: Verdict, pivot: HistoryEvent['kind'] = 'fault', extra: Record<string, unknown> = {}): Promise<Observation> {
  const events = await readHistory(run.history.file);
  const at = events.findIndex((e) => e.kind === pivot);
  const before = at < 0 ? events : events.slice(0, at);
  const after = at < 0 ? [] : events.slice(at);
  const recordsBefore = before.filter((e) => e.kind === 'record');
  const recordsAfter = after.filter((e) => e.kind === 'record');
  const pivotT = at < 0 ? undefined : events[at]!.t;
  const restarted = pivotT === undefined ? undefined : firstOfNewExecution(recordsBefore, after, pivotT, pivot === 'resume');
  const restoreLines = await run.jobManagerLines(/Restoring job|Reset the checkpoint ID|Starting job .* from savepoint/);
  const observation: Observation = {
    run: basename(run.workDir),
    restartDelayMs: restarted && pivotT !== undefined ? restarted.t - pivotT : undefined,
    attemptsBefore: [...new Set(recordsBefore.map((r) => r.attempt))].sort((a, b) => a - b),
    attemptsAfter: [...new Set(recordsAfter.map((r) => r.attempt))].sort((a, b) => a - b),
    highWaterBeforeFault: recordsBefore.length ? Math.max(...recordsBefore.map((r) => r.seq)) : undefined,
    firstAfterRestart: restarted?.seq,
    replays: verdict.replays,
    replayed: verdict.counts.replayed,
    restoreLines,
    checkpointIdsBefore: before.flatMap((e) => (e.kind === 'checkpoint' ? [e.id] : [])),
    checkpointIdsAfter: after.flatMap((e) => (e.kind === 'checkpoint' ? [e.id] : [])),
    verdict: { valid: verdict.valid, summary: verdict.summary, counts: verdict.counts },
    extra,
  };
  await writeFile(join(run.workDir, 'observation.json'), `${JSON.stringify(observation, null, 2)}\n`);
  const out = process.env.FLINK_OBSERVATIONS;
  if (out) {
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `${observation.run}.json`), `${JSON.stringify(observation, null, 2)}\n`);
  }
  if (process.env.FLINK_CAPTURE_FIXTURES) await captureFixtures(run);
  return observation;
}

// Flink's own lines worth keeping around the records: the lifecycle of tasks and checkpoints.
const NOTABLE = /SEQ |checkpoint|Restoring|restor|switched from|Attempting|Recovered|Starting TaskManager|Starting StandaloneSessionClusterEntrypoint|savepoint|leader/i;

/**
 * Our job's console output of every process of the run, trimmed to the record lines and Flink's
 * notable lines (every record is kept: a cut would read as a loss).
 */
async function captureFixtures(run: Run): Promise<void> {
  const dir = packagePath('test', 'fixtures', 'logs', 'real', basename(run.workDir));
  await mkdir(dir, { recursive: true });
  // This machine's folders are not the fixture's business.
  const scrub = (text: string): string => text.replaceAll(dirname(run.workDir), '<work>').replaceAll(homedir(), '~');
  for (const p of run.cluster.processes) {
    const lines = (await readFile(p.outFile, 'utf8')).split('\n').filter((l) => NOTABLE.test(l));
    await writeFile(join(dir, `${p.name}.log`), scrub(lines.map((l) => `${l}\n`).join('')));
  }
  await writeFile(join(dir, 'history.jsonl'), scrub(await readFile(run.history.file, 'utf8')));
}
