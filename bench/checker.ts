// Throughput of the continuity checker's core (parse + check), lines per second, side by side
// for each line shape, against the target of one million lines per second. In memory, so file
// reading is left out; the best of three runs counts (the first warms the JIT up, and a shared
// machine's noise only ever slows a run down). Run with `node bench/checker.ts [lines]`.
import { Checker, NUMBER, SEQ } from '../scenarios/checker/checker.ts';
import { parseHistoryLine } from '../scenarios/checker/history.ts';
import { MALFORMED_LINE, newLogLine, parseLogLine, SEQ_LINE } from '../scenarios/checker/log-line.ts';

const N = Number(process.argv[2] ?? 2_000_000);
export const TARGET = 1_000_000;
const T0 = Date.UTC(2026, 10, 24, 10);

/** A sequence 1..N with adjacent pairs swapped every 7th pair, as two subtasks' lines race. */
export function order(i: number): number {
  const n = i + 1;
  if ((i >> 1) % 7 !== 3) return n;
  return i % 2 === 0 ? n + 1 : n - 1;
}

const stamp = (i: number): string => new Date(T0 + i * 10).toISOString();
export const shapes: Record<string, (i: number) => string> = {
  'raw SEQ': (i) => `SEQ seq=${order(i)} subtask=${order(i) % 2} attempt=0`,
  'kubectl --timestamps + log4j': (i) => `${stamp(i).slice(0, -1)}123456Z ${stamp(i).replace('T', ' ').replace('.', ',').slice(0, -1)} INFO  dev.flinksandbox.hello.HelloJob [] - SEQ seq=${order(i)} subtask=${order(i) % 2} attempt=0`,
  'ECS JSON': (i) => JSON.stringify({ '@timestamp': stamp(i), 'ecs.version': '1.2.0', 'log.level': 'INFO', message: `SEQ seq=${order(i)} subtask=${order(i) % 2} attempt=0`, 'log.logger': 'dev.flinksandbox.hello.HelloJob' }),
  "blog's 1> Number: N": (i) => `${(i % 2) + 1}> Number: ${(i % 2) * 50_000 + (i >> 1)}`,
};

const best = (run: () => number): number => Math.max(run(), run(), run());

function logLines(make: (i: number) => string): number {
  const lines = Array.from({ length: N }, (_, i) => make(i));
  return best(() => checkLogLines(lines));
}

/**
 * Parses and checks the lines (an array, or a generator for inputs too large to hold) and answers
 * lines per second; `beforeFinish` (not timed) sees the checker's state at its largest. Throws unless the verdict is valid, so a fast wrong answer cannot count.
 */
export function checkLogLines(lines: Iterable<string>, beforeFinish?: () => void): number {
  const checker = new Checker();
  const out = newLogLine();
  const started = performance.now();
  let n = 0;
  for (const line of lines) {
    n++;
    const kind = parseLogLine(line, out);
    if (kind === MALFORMED_LINE) checker.malformed(line, 'bench', out.t);
    else if (kind !== 0) checker.record(kind === SEQ_LINE ? SEQ : NUMBER, out.n, out.t, out.attempt, out.prefix, 'bench', n);
  }
  const paused = performance.now();
  beforeFinish?.();
  const resumed = performance.now();
  const verdict = checker.finish();
  const rate = n / ((performance.now() - started - (resumed - paused)) / 1000);
  if (verdict.valid !== true) throw new Error(`bench input judged ${String(verdict.valid)}: ${verdict.summary}`);
  return rate;
}

/**
 * As checkLogLines, over lines made a batch at a time (never all held), timing only the parse and
 * check of each batch: making the lines is the bench's own work, not the checker's.
 */
export function checkLogBatches(batches: Iterable<readonly string[]>, beforeFinish?: () => void): number {
  const checker = new Checker();
  const out = newLogLine();
  let n = 0;
  let busy = 0;
  for (const batch of batches) {
    const started = performance.now();
    for (const line of batch) {
      n++;
      const kind = parseLogLine(line, out);
      if (kind === MALFORMED_LINE) checker.malformed(line, 'bench', out.t);
      else if (kind !== 0) checker.record(kind === SEQ_LINE ? SEQ : NUMBER, out.n, out.t, out.attempt, out.prefix, 'bench', n);
    }
    busy += performance.now() - started;
  }
  beforeFinish?.();
  const started = performance.now();
  const verdict = checker.finish();
  busy += performance.now() - started;
  if (verdict.valid !== true) throw new Error(`bench input judged ${String(verdict.valid)}: ${verdict.summary}`);
  return n / (busy / 1000);
}

function historyLines(): number {
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ t: T0 + i * 10, kind: 'record', seq: order(i), subtask: order(i) % 2, attempt: 0, source: 'pod/hello-ha-taskmanager-1-1/flink-main-container' }));
  return best(() => checkHistoryLines(lines));
}

function checkHistoryLines(lines: string[]): number {
  const checker = new Checker();
  const started = performance.now();
  for (const line of lines) {
    const ev = parseHistoryLine(line);
    if (ev === undefined || 'error' in ev) throw new Error(`bad bench line: ${line}`);
    checker.event(ev);
  }
  checker.finish();
  return N / ((performance.now() - started) / 1000);
}

// Imported by bench/index.ts for its line shapes; measures only when run itself.
if (import.meta.main) report();

function report(): void {
  const rows: Array<[string, number]> = Object.entries(shapes).map(([name, make]) => [name, logLines(make)]);
  rows.push(['history.jsonl (JSON.parse + ajv)', historyLines()]);
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${N.toLocaleString('en')} lines each; target ${TARGET.toLocaleString('en')} lines/s`);
  for (const [name, rate] of rows) console.log(`${name.padEnd(width)}  ${Math.round(rate).toLocaleString('en').padStart(11)} lines/s  ${(rate / TARGET).toFixed(2)}x target`);
}
