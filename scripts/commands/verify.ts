// `sandbox verify <logs...> [--history <file>]`: the continuity checker over captured TaskManager
// logs and/or a run history, offline. Its outcome is the verdict: ok when valid, failed when
// invalid, unknown when the observations cannot decide (they end before a liveness deadline).
// Input that cannot be judged at all (unreadable, empty, no record lines, a damaged history) is
// a SandboxError from the reader, with the reason and a hint.
import { Checker, feedInputs, renderText } from '../../scenarios/checker/index.ts';
import { UsageError } from '../lib/errors.ts';
import { type CommandOutcome, emit, type GlobalOptions } from './options.ts';

export async function verify(logs: string[], history: string | undefined, opts: GlobalOptions): Promise<CommandOutcome> {
  if (logs.length === 0 && history === undefined) {
    throw new UsageError('nothing to verify: give captured TaskManager logs, a run history, or both', {
      hint: 'sandbox verify tm-1.log tm-2.log [--history .sandbox/runs/<run-id>/<scenario>/history.jsonl]',
    });
  }
  const checker = new Checker();
  const files = await feedInputs({ logs, history }, checker);
  const verdict = checker.finish();
  emit(opts, { ok: verdict.valid === true, ...verdict, files }, () => renderText(verdict));
  return verdict.valid === true ? 'ok' : verdict.valid === false ? 'failed' : 'unknown';
}
