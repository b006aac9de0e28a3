// A Ctrl-C that lands while a scenario's history is judged: the scenario is reported as cut short
// in that phase, with no verdict and what it left, and the suite names it. (The Ctrl-C tier signals
// the CLI when "judging the history" appears, but judging takes milliseconds: there the Ctrl-C
// lands in it only sometimes. Here the judge itself presses it, so it always does.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../scenarios/deploy.ts';
import { judgeHistoryFile } from '../../scenarios/judge.ts';
import { runScenario } from '../../scenarios/run.ts';
import { interruptedSuite } from '../../scenarios/suite.ts';
import { kubeContext, loadConfig, type SandboxConfig } from '../../scripts/lib/config.ts';
import { connectKube } from '../../scripts/lib/kube/connect.ts';
import type { Kube } from '../../scripts/lib/kube/kube.ts';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
let config: SandboxConfig;
let kube: Kube;

beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 150_000 });
  expect(up.code, up.stderr).toBe(0);
  config = await loadConfig({ config: sim.configFile });
  kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG, context: kubeContext(config) });
}, 180_000);
afterAll(async () => {
  await sim?.close();
});

it('a Ctrl-C while the history is judged reports the scenario in its judge phase, with no verdict', async () => {
  const ctrlC = new AbortController();
  let judged = false;
  const outcome = await runScenario(deploy, {
    kube,
    config,
    signal: ctrlC.signal,
    dir: mkdtempSync(join(tmpdir(), 'sandbox-judge-')),
    say: () => undefined,
    judge: async (file) => {
      const verdict = await judgeHistoryFile(file, config);
      judged = true;
      ctrlC.abort();
      return verdict;
    },
    timeouts: { recoveryMs: config.scenarios.livenessSeconds * 1000 },
  });
  // The Ctrl-C came from inside the judge: the scenario got that far.
  expect(judged).toBe(true);
  expect(outcome.interrupted?.phase).toBe('judge');
  expect(outcome.ok).toBe(false);
  expect(outcome.verdict).toBeUndefined();
  expect(outcome.claims).toEqual([]);
  expect(outcome.interrupted?.left).toContainEqual(expect.stringMatching(/^FlinkDeployment default\/hello-ha as it was/));
  expect(interruptedSuite([deploy], [outcome]).message).toBe(
    ['interrupted during scenario deploy, phase judge', ...outcome.interrupted!.left.map((l) => `left: ${l}`)].join('\n'),
  );
}, 240_000);
