// The history of one scenario run, as it happens: every entry is appended to
// `.sandbox/runs/<run-id>/<scenario>/history.jsonl` at once (a crash keeps what was seen), and
// the few numbers the scenario steers by (the high-water mark, completed checkpoints) are kept
// in memory with their waiters, so "wait until the sequence passes N" reacts to the line that
// passes it rather than polling.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SandboxError } from '../scripts/lib/errors.ts';
import { formatHistoryLine, type HistoryEvent } from './checker/history.ts';

interface Waiter {
  done(): boolean;
  resolve(): void;
}

export class HistoryLog {
  private readonly out: WriteStream;
  private high = 0;
  private readonly ckpts: number[] = [];
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  /** Record lines seen, and malformed ones. */
  records = 0;
  malformed = 0;
  /** Restores the JobManager logged. */
  restores = 0;
  /** Where records came from (pod#container-attempt, job attempt): few, and they change only on a restart. */
  private readonly origins = new Set<string>();

  readonly file: string;

  private constructor(file: string, out: WriteStream) {
    this.file = file;
    this.out = out;
    out.on('error', (err) => (this.failure ??= err));
  }

  static async open(file: string): Promise<HistoryLog> {
    await mkdir(dirname(file), { recursive: true });
    return new HistoryLog(file, createWriteStream(file, { flags: 'a' }));
  }

  add(entry: HistoryEvent): void {
    this.out.write(formatHistoryLine(entry));
    if (entry.kind === 'record') {
      this.records++;
      if (entry.seq > this.high) this.high = entry.seq;
      this.origins.add(`${entry.source} ${entry.attempt}`);
    } else if (entry.kind === 'malformed') this.malformed++;
    else if (entry.kind === 'checkpoint') this.ckpts.push(entry.id);
    else if (entry.kind === 'restore') this.restores++;
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.done());
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
    }
  }

  /**
   * A mark for "has the job restarted since": records from a new pod, container or task attempt,
   * or a restore logged by the JobManager, all change it.
   */
  restartMark(): string {
    return `${this.origins.size}/${this.restores}`;
  }

  highWater(): number {
    return this.high;
  }

  checkpoints(): readonly number[] {
    return this.ckpts;
  }

  /** Resolves once `done()` holds; rejects with `what` and the last values seen after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (err) reject(err);
        else resolve();
      };
      const waiter: Waiter = { done, resolve: () => finish() };
      const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('interrupted'));
      const timer = setTimeout(() => {
        finish(
          new SandboxError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}; last seen: sequence at ${this.high}, ${this.records} records, checkpoints [${this.ckpts.slice(-3).join(', ')}]`, {
            hint: `the job stopped making progress; the history so far is in ${this.file}`,
          }),
        );
      }, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Flushes and closes the file; throws if writing it failed (e.g. the disk is full). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.end(resolve));
    if (this.failure) throw new SandboxError(`could not write the history ${this.file}: ${this.failure.message}`, { hint: 'check free disk space and permissions of .sandbox/', cause: this.failure });
  }
}
