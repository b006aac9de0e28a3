// The checker over a scenario's finished history file, streamed line by line (the file can be
// long; the checker's memory does not grow with it). A line that is not a history event is an
// error naming the file and line: a verdict over a damaged history would be a guess.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SandboxError } from '../scripts/lib/errors.ts';
import { Checker, type CheckerOptions } from './checker/checker.ts';
import { parseHistoryLine } from './checker/history.ts';
import type { Verdict } from './checker/verdict.ts';

export async function judgeHistoryFile(file: string, options: CheckerOptions = {}): Promise<Verdict> {
  const checker = new Checker(options);
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    const ev = parseHistoryLine(line);
    if (ev === undefined) continue;
    if ('error' in ev) throw new SandboxError(`${file}:${n}: not a history event: ${ev.error}`, { hint: 'the history file is damaged; run the scenario again' });
    checker.event(ev);
  }
  return checker.finish();
}
