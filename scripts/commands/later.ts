// Commands whose capability arrives with a later issue: they exist in --help and say so
// plainly, with exit code 2, instead of pretending.
import { NotAvailableError } from '../lib/errors.ts';
import type { GlobalOptions } from './options.ts';

const WHAT: Record<string, string> = {
  scenario: 'scenarios (deploy the job, kill pods, suspend/resume, savepoints) with the continuity checker',
  test: 'the end-to-end CI harness (scenarios + JUnit/JSON/HTML reports)',
  verify: 'the sequence-continuity verifier',
};

export function later(command: string, _opts: GlobalOptions, _arg?: string): Promise<never> {
  return Promise.reject(
    new NotAvailableError(`\`sandbox ${command}\` is not available yet: ${WHAT[command] ?? command} is still being built`, {
      hint: 'use `sandbox up`, `status`, `open`, `doctor` and `down` meanwhile; see the README for what works today',
    }),
  );
}
