// The checker over a scenario's finished history file, streamed by the same reader as
// `sandbox verify --history` (a damaged line is an error naming the file and line).
import { defaults, type SandboxConfig } from '../scripts/lib/config.ts';
import { Checker, feedInputs } from './checker/index.ts';
import type { Verdict } from './checker/verdict.ts';

/** The checker's clocks from the config: what may still be in flight, how soon the job must recover. */
export async function judgeHistoryFile(file: string, config: Pick<SandboxConfig, 'scenarios'> = defaults): Promise<Verdict> {
  const checker = new Checker({ settleMs: config.scenarios.settleSeconds * 1000, livenessDeadlineMs: config.scenarios.livenessSeconds * 1000 });
  await feedInputs({ logs: [], history: file }, checker);
  return checker.finish();
}
