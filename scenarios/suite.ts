// Runs scenarios one after another on one sandbox, with progress through listr2 (its default
// renderer on a terminal, a plain timestamped one otherwise), each in its own folder under
// `.sandbox/runs/<run-id>/`, and returns every outcome, passed or not.
import { join } from 'node:path';
import { Listr } from 'listr2';
import type { SandboxConfig } from '../scripts/lib/config.ts';
import { InterruptedError, UsageError } from '../scripts/lib/errors.ts';
import type { Kube } from '../scripts/lib/kube/kube.ts';
import { judgeHistoryFile } from './judge.ts';
import { SCENARIOS, scenarioNames } from './index.ts';
import { runScenario, type ScenarioOutcome, type ScenarioTimeouts } from './run.ts';
import type { Scenario } from './scenario.ts';

/** The scenarios named, in the order given; every unknown name is refused up front. */
export function pickScenarios(names: string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    throw new UsageError(`unknown scenario${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `known scenarios: ${scenarioNames().join(', ')} (\`sandbox scenario\` lists them)`,
    });
  }
  return names.map((n) => SCENARIOS.find((s) => s.name === n)!);
}

/**
 * Of all scenarios (none named), the ones the installed profile can run, and a note on the rest;
 * named scenarios always run (and say what they miss).
 */
export function forProfile(scenarios: Scenario[], named: boolean, profile: string | undefined): { run: Scenario[]; note?: string } {
  if (named || profile !== 'minimal') return { run: scenarios };
  const skipped = scenarios.filter((s) => s.needsProfile === 'full');
  if (skipped.length === 0) return { run: scenarios };
  return {
    run: scenarios.filter((s) => !skipped.includes(s)),
    note: `not run on the minimal profile: ${skipped.map((s) => s.name).join(', ')} (they need \`sandbox up --profile full\`)`,
  };
}

export interface SuiteOptions {
  kube: Kube;
  config: SandboxConfig;
  signal: AbortSignal;
  /** `.sandbox/runs/<run-id>`: each scenario writes `<name>/history.jsonl` there. */
  runDir: string;
  timeouts?: Partial<ScenarioTimeouts>;
  /** listr2's default renderer on a terminal, plain lines otherwise, nothing with --json. */
  render: 'default' | 'simple' | 'silent';
}

export async function runSuite(scenarios: Scenario[], opts: SuiteOptions): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const tasks = new Listr(
    scenarios.map((scenario) => ({
      title: `${scenario.name}: ${scenario.summary}`,
      task: async (_ctx: unknown, task: { output: string; title: string }) => {
        const outcome = await runScenario(scenario, {
          kube: opts.kube,
          config: opts.config,
          signal: opts.signal,
          dir: join(opts.runDir, scenario.name),
          // Plain renderers show output lines without their task's title: name the scenario.
          say: (text) => (task.output = opts.render === 'default' ? text : `${scenario.name}: ${text}`),
          judge: (file) => judgeHistoryFile(file, opts.config),
          // The liveness deadline is also how long a scenario waits for the job to come back.
          timeouts: { recoveryMs: opts.config.scenarios.livenessSeconds * 1000, ...opts.timeouts },
        });
        outcomes.push(outcome);
        if (!outcome.ok) {
          const failed = outcome.error?.message ?? outcome.claims.filter((c) => !c.ok).map((c) => c.title).join('; ');
          throw new Error(failed);
        }
      },
    })),
    {
      concurrent: false,
      exitOnError: false,
      // Ctrl-C is the CLI's (interruptSignal): the run stops its waits and streams, then reports.
      registerSignalListeners: false,
      renderer: opts.render,
    },
  );
  await tasks.run().catch(() => undefined);
  // Interrupted half-way: the scenarios not run are not reported as passed.
  if (opts.signal.aborted) throw interruptedSuite(scenarios, outcomes);
  return outcomes;
}

/** What Ctrl-C stopped (the scenario and its phase), what that left, and what did not run. */
export function interruptedSuite(scenarios: Scenario[], outcomes: ScenarioOutcome[]): InterruptedError {
  const last = outcomes.at(-1);
  const notRun = scenarios.slice(outcomes.length).map((s) => s.name);
  const lines: string[] = [];
  if (last?.interrupted) {
    lines.push(`interrupted during scenario ${last.scenario}, phase ${last.interrupted.phase}`);
    lines.push(...last.interrupted.left.map((l) => `left: ${l}`));
  } else if (last) {
    lines.push(`interrupted after scenario ${last.scenario} had its verdict (${last.ok ? 'passed' : 'failed'}); nothing of it is left running but its job`);
  } else {
    lines.push('interrupted before the first scenario started');
  }
  if (notRun.length) lines.push(`not run: ${notRun.join(', ')}`);
  return new InterruptedError(lines.join('\n'), {
    hint: 're-run the scenarios: each one deletes its job and deploys it afresh',
    data: { outcomes },
  });
}
