// `sandbox verify <logs...> [--history <file>]`: the continuity checker over captured TaskManager
// logs and/or a run history, offline. Exit 0 when the verdict is valid, 1 when invalid, 2 when
// the input cannot be judged (unreadable, empty, no record lines: a SandboxError from the
// reader) or the verdict is unknown (the observations end before a liveness deadline).
import { Checker, feedInputs, renderText, UNUSABLE_INPUT } from '../../scenarios/checker/index.ts';
import { ExitCode, SandboxError } from '../lib/errors.ts';
import { emit, type GlobalOptions } from './options.ts';

export async function verify(logs: string[], history: string | undefined, opts: GlobalOptions): Promise<void> {
  if (logs.length === 0 && history === undefined) {
    throw new SandboxError('nothing to verify: give captured TaskManager logs, a run history, or both', {
      exitCode: ExitCode.usage,
      hint: 'sandbox verify tm-1.log tm-2.log [--history .sandbox/runs/<run-id>/<scenario>/history.jsonl]',
    });
  }
  const checker = new Checker();
  const files = await feedInputs({ logs, history }, checker);
  const verdict = checker.finish();
  emit(opts, { ok: verdict.valid === true, ...verdict, files }, () => renderText(verdict));
  if (verdict.valid === false) process.exitCode = ExitCode.failed;
  else if (verdict.valid === 'unknown') process.exitCode = UNUSABLE_INPUT;
}
