// Feeds the checker from files, streamed line by line (readline), so memory stays flat whatever
// their size: captured TaskManager logs (one per pod, or several pods in one with --prefix) and
// a run history. Several files are merged by time, the way the lines were written: each line's
// own timestamp, or its file's previous one. Files without any timestamp are interleaved record
// by record, the best guess for TaskManagers that ran side by side.
//
// Input the checker cannot judge is an UnusableInputError (exit 2: no verdict) with a hint: a
// missing or unreadable file, an empty one, a damaged history line, or no record line at all.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { UnusableInputError } from '../../scripts/lib/errors.ts';
import { type Checker, NUMBER, SEQ } from './checker.ts';
import { type HistoryEvent, parseHistoryLine } from './history.ts';
import { MALFORMED_LINE, NONE, newLogLine, parseLogLine, SEQ_LINE } from './log-line.ts';

export interface FileStats {
  file: string;
  lines: number;
  records: number;
  malformed: number;
  /** Whether its record lines carried their own time. */
  timestamps: boolean;
}

export interface Inputs {
  logs: string[];
  history?: string;
}

/** One input file, read ahead by one item; `key` orders items across files. */
interface Source {
  key: number;
  next(): Promise<boolean>;
  feed(checker: Checker): void;
}

function unusable(message: string, hint: string, cause?: unknown): UnusableInputError {
  return new UnusableInputError(message, { hint, cause });
}

function lines(file: string): AsyncIterator<string> {
  const input = createReadStream(file, 'utf8');
  return createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
}

async function readable(file: string): Promise<void> {
  const info = await stat(file).catch((err: unknown) => {
    throw unusable(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path; capture a log with `kubectl logs <pod> > <file>`', err);
  });
  if (!info.isFile()) throw unusable(`cannot read ${file}: not a file`, 'give the log files themselves, not a folder');
}

class LogSource implements Source {
  key = 0;
  readonly stats: FileStats;
  private readonly it: AsyncIterator<string>;
  private readonly name: string;
  private readonly line = newLogLine();
  private kind = NONE;
  private text = '';
  private lineNo = 0;
  private lastT = Number.NaN;
  private nonBlank = false;
  private readonly needTime: boolean;

  constructor(file: string, needTime: boolean) {
    this.needTime = needTime;
    this.it = lines(file);
    this.name = basename(file);
    this.stats = { file, lines: 0, records: 0, malformed: 0, timestamps: false };
  }

  async next(): Promise<boolean> {
    for (;;) {
      const r = await this.it.next().catch((err: unknown) => {
        throw unusable(`cannot read ${this.stats.file}: ${(err as Error).message}`, 'check that the file is readable', err);
      });
      if (r.done) return this.end();
      const text = r.value;
      this.lineNo++;
      if (!this.nonBlank && text.trim() !== '') this.nonBlank = true;
      const kind = parseLogLine(text, this.line);
      if (kind === NONE) continue;
      const line = this.line;
      if (Number.isNaN(line.t)) line.t = this.lastT;
      else {
        this.lastT = line.t;
        this.stats.timestamps = true;
      }
      if (Number.isNaN(line.t) && this.needTime) {
        throw unusable(
          `${this.name}:${this.lineNo}: a record line without a timestamp cannot be placed among the history's faults and checkpoints`,
          'capture the logs with `kubectl logs --timestamps`, or verify them without --history',
        );
      }
      this.kind = kind;
      if (kind === MALFORMED_LINE) {
        this.text = text;
        this.stats.malformed++;
      } else this.stats.records++;
      this.key = Number.isNaN(line.t) ? this.stats.records + this.stats.malformed : line.t;
      return true;
    }
  }

  feed(checker: Checker): void {
    const line = this.line;
    if (this.kind === MALFORMED_LINE) checker.malformed(this.text, `${this.name}:${this.lineNo}`, line.t);
    else checker.record(this.kind === SEQ_LINE ? SEQ : NUMBER, line.n, line.t, line.attempt, line.prefix, this.name, this.lineNo);
  }

  private end(): boolean {
    this.stats.lines = this.lineNo;
    if (!this.nonBlank) throw unusable(`${this.stats.file} is empty`, 'capture the log again (`kubectl logs <pod> > <file>`), or leave this file out');
    return false;
  }
}

class HistorySource implements Source {
  key = 0;
  events = 0;
  timeline = 0;
  private readonly it: AsyncIterator<string>;
  private current: HistoryEvent | undefined;
  private lineNo = 0;
  private readonly file: string;
  /** With log files given, the logs are the observations and the history only the timeline. */
  private readonly timelineOnly: boolean;

  constructor(file: string, timelineOnly: boolean) {
    this.file = file;
    this.timelineOnly = timelineOnly;
    this.it = lines(file);
  }

  async next(): Promise<boolean> {
    for (;;) {
      const r = await this.it.next().catch((err: unknown) => {
        throw unusable(`cannot read ${this.file}: ${(err as Error).message}`, 'check that the file is readable', err);
      });
      if (r.done) {
        if (this.events === 0) throw unusable(`${this.file} holds no history events`, 'give the history.jsonl of a scenario run (.sandbox/runs/<run-id>/)');
        return false;
      }
      this.lineNo++;
      const ev = parseHistoryLine(r.value);
      if (ev === undefined) continue;
      if ('error' in ev) {
        throw unusable(`${this.file}:${this.lineNo}: not a history event: ${ev.error}`, 'the history is damaged at that line (an interrupted write leaves a partial last line); remove or repair it, or run the scenario again');
      }
      this.events++;
      const observation = ev.kind === 'record' || ev.kind === 'number' || ev.kind === 'malformed';
      if (!observation) this.timeline++;
      if (observation && this.timelineOnly) continue;
      this.current = ev;
      this.key = ev.t;
      return true;
    }
  }

  feed(checker: Checker): void {
    checker.event(this.current!);
  }
}

/** Feeds every input to `checker` in time order; returns what each log file held. */
export async function feedInputs(inputs: Inputs, checker: Checker): Promise<FileStats[]> {
  for (const file of [...inputs.logs, ...(inputs.history ? [inputs.history] : [])]) await readable(file);
  const history = inputs.history ? new HistorySource(inputs.history, inputs.logs.length > 0) : undefined;
  const logs = inputs.logs.map((file) => new LogSource(file, history !== undefined));
  // The history first: at equal times a fault precedes the records that follow it.
  const sources: Source[] = [...(history ? [history] : []), ...logs];
  const live: Source[] = [];
  for (const source of sources) if (await source.next()) live.push(source);
  while (live.length > 0) {
    let best = 0;
    for (let k = 1; k < live.length; k++) if (live[k]!.key < live[best]!.key) best = k;
    const source = live[best]!;
    source.feed(checker);
    if (!(await source.next())) live.splice(best, 1);
  }
  const stats = logs.map((l) => l.stats);
  const records = stats.reduce((sum, s) => sum + s.records + s.malformed, 0);
  if (logs.length > 0 && records === 0) {
    throw unusable(
      `no record lines in ${stats.map((s) => s.file).join(', ')}: neither \`SEQ seq=<n> subtask=<i> attempt=<a>\` nor \`Number: <n>\``,
      'give the TaskManager logs (`kubectl logs <taskmanager-pod>`), where the job prints its records',
    );
  }
  if (history && logs.length === 0 && history.events === history.timeline) {
    throw unusable(`${inputs.history} holds no observations`, 'give the TaskManager logs as well: `sandbox verify <logs...> --history <file>`');
  }
  return stats;
}
