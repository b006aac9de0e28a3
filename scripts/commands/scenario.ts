// `sandbox scenario`: lists the scenarios, or runs the named ones on the sandbox and prints each
// claim with its numbers. Exit 0 when every claim held, 1 when one did not.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxError } from '../lib/errors.ts';
import { newRunId, stateDir } from '../lib/paths.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

export async function scenario(names: string[], opts: GlobalOptions): Promise<void> {
  const { SCENARIOS } = await import('../../scenarios/index.ts');
  if (names.length === 0) {
    const list = SCENARIOS.map((s) => ({ name: s.name, summary: s.summary, job: s.job }));
    emit(opts, { scenarios: list }, () => list.map((s) => `${s.name.padEnd(20)} ${s.summary}`).join('\n'));
    return;
  }
  const { pickScenarios, runSuite } = await import('../../scenarios/suite.ts');
  const { outcomesText } = await import('../../scenarios/render.ts');
  const chosen = pickScenarios(names);
  const cfg = await configFrom(opts);
  const kube = await createServices(cfg).kube();
  const runId = newRunId();
  const runDir = join(stateDir(), 'runs', runId);
  await mkdir(runDir, { recursive: true });
  const outcomes = await runSuite(chosen, {
    kube,
    config: cfg,
    signal: interruptSignal(),
    runDir,
    render: opts.json ? 'silent' : process.stdout.isTTY === true && !process.env.CI ? 'default' : 'simple',
  });
  await writeFile(join(runDir, 'outcomes.json'), `${JSON.stringify(outcomes, null, 2)}\n`);
  const failed = outcomes.filter((o) => !o.ok);
  emit(opts, { runId, runDir, outcomes }, () => outcomesText(outcomes));
  if (failed.length) {
    throw new SandboxError(`${failed.length} of ${outcomes.length} scenarios failed: ${failed.map((o) => o.scenario).join(', ')}`, {
      hint: `each failed claim above names what was lost, reset or late; the histories are under ${runDir}`,
      data: { runId, runDir },
    });
  }
}
