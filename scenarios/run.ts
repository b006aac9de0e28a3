// Runs one scenario on a sandbox: a fresh job, the recorder following its pods from the first
// one, setup -> act -> settle -> verdict -> claims, and teardown whatever happened. Everything the
// run saw is in `<dir>/history.jsonl`; the outcome is a plain object the reports render.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { taskStarted } from '../scripts/lib/activity.ts';
import type { SandboxConfig } from '../scripts/lib/config.ts';
import type { Kube } from '../scripts/lib/kube/kube.ts';
import { HistoryLog } from './history-log.ts';
import { deploymentRef, installedJobImage, removeJob, renderJob, unlessJobFails, waitForRunning } from './job.ts';
import { startRecorder } from './recorder.ts';
import type { ClaimResult, Scenario, ScenarioContext } from './scenario.ts';
import type { Verdict } from './checker/verdict.ts';

export interface RunDeps {
  kube: Kube;
  config: SandboxConfig;
  signal: AbortSignal;
  /** Folder of this scenario's run: history.jsonl goes there. */
  dir: string;
  /** Progress for the user, one line at a time. */
  say: (text: string) => void;
  /** The checker over a finished history file. */
  judge: (historyFile: string) => Promise<Verdict>;
  /** How long the job may take to (re)start and the sequence to pass a mark; scaled in tests. */
  timeouts?: Partial<ScenarioTimeouts>;
}

export interface ScenarioTimeouts {
  /** Deploy or redeploy until RUNNING. */
  runningMs: number;
  /** After a fault: until the sequence passes its pre-fault mark (liveness). */
  recoveryMs: number;
  /** Until a checkpoint completes. */
  checkpointMs: number;
  /** Records that must follow the act before the verdict (quiescence). */
  settleRecords: number;
}

export const DEFAULT_TIMEOUTS: ScenarioTimeouts = { runningMs: 300_000, recoveryMs: 180_000, checkpointMs: 60_000, settleRecords: 10 };

export interface ClaimOutcome extends ClaimResult {
  title: string;
}

export interface ScenarioOutcome {
  scenario: string;
  summary: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  historyFile: string;
  claims: ClaimOutcome[];
  verdict?: Verdict;
  /** What the scenario noted while acting (paths, marks). */
  facts: Record<string, string>;
  /** Set when the scenario could not be carried out (it is then not ok). */
  error?: { message: string; hint?: string };
  /** Set when Ctrl-C stopped it: the phase it was in and what that left in the cluster. */
  interrupted?: { phase: ScenarioPhase; left: string[] };
}

/** The phases of a run, in order; a Ctrl-C names the one it stopped. */
export type ScenarioPhase = 'removing the previous job' | 'starting the recorder' | 'deploying the job' | 'setup' | 'act' | 'settle' | 'judge' | 'claims';

/** How long the teardown may take after a Ctrl-C before the run ends without it. */
const TEARDOWN_AFTER_INTERRUPT_MS = 10_000;

export async function runScenario(scenario: Scenario, deps: RunDeps): Promise<ScenarioOutcome> {
  const t = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const { kube, config, signal, say } = deps;
  const started = Date.now();
  const name = scenario.job;
  const ref = deploymentRef(name, config.namespaces.job);
  const history = await HistoryLog.open(join(deps.dir, 'history.jsonl'));
  const facts: Record<string, string> = {};
  const outcome: ScenarioOutcome = {
    scenario: scenario.name,
    summary: scenario.summary,
    ok: false,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    historyFile: history.file,
    claims: [],
    facts,
  };
  const ctx: ScenarioContext = {
    kube,
    config,
    signal,
    job: { name, namespace: config.namespaces.job },
    note: (event) => history.add({ t: Date.now(), ...event }),
    fact: (key, value) => void (facts[key] = value),
    say,
    highWater: () => history.highWater(),
    checkpoints: () => history.checkpoints(),
    restartMark: () => history.restartMark(),
    // A job that went FAILED will not move on: these waits end at once with Flink's error.
    waitForSequence: (above, what, timeoutMs = t.recoveryMs) =>
      unlessJobFails(kube, ref, signal, history.until(() => history.highWater() > above, what, timeoutMs, signal)),
    waitForRecovery: (mark, above, what, timeoutMs = t.recoveryMs) =>
      unlessJobFails(kube, ref, signal, history.until(() => history.restartMark() !== mark && history.highWater() > above, what, timeoutMs, signal)),
    async waitForCheckpoint(timeoutMs = t.checkpointMs) {
      const before = history.checkpoints().length;
      await history.until(() => history.checkpoints().length > before, 'a checkpoint to complete', timeoutMs, signal);
      return history.checkpoints().at(-1)!;
    },
    waitForRunning: (timeoutMs = t.runningMs) => waitForRunning(kube, ref, timeoutMs, signal),
    deployment: () => kube.get(ref),
  };

  let recorder: Awaited<ReturnType<typeof startRecorder>> | undefined;
  let phase: ScenarioPhase = 'removing the previous job';
  const activity = taskStarted(`scenario ${scenario.name} (${phase})`);
  const enter = (next: ScenarioPhase): void => {
    // After a Ctrl-C nothing new is started (no job deployed, no act begun): the run unwinds.
    signal.throwIfAborted();
    phase = next;
    activity.update(`scenario ${scenario.name} (${phase})`);
  };
  let applied = false;
  let teardownProblem: string | undefined;
  try {
    const image = await installedJobImage(kube, config);
    say(`deploying ${name} afresh`);
    await removeJob(kube, ref, t.runningMs, signal);
    enter('starting the recorder');
    say(`following the pods of ${name}`);
    recorder = await startRecorder({ kube, namespace: ref.namespace!, deployment: name, sink: (e) => history.add(e) });
    enter('deploying the job');
    say(`starting ${name} and waiting until it runs`);
    applied = true;
    await kube.apply([await renderJob(scenario.job, config, image)]);
    await ctx.waitForRunning();
    await ctx.waitForSequence(0, 'the first record of the job');
    if (scenario.setup) {
      enter('setup');
      say('setting up');
      await scenario.setup(ctx);
    }
    enter('act');
    await scenario.act(ctx);
    const mark = history.highWater();
    const actEnd = Date.now();
    enter('settle');
    say(`settling: waiting for ${t.settleRecords} more records after ${mark}`);
    await ctx.waitForSequence(mark + t.settleRecords, `the sequence to pass ${mark + t.settleRecords} after the act`);
    // Quiescence: the checker counts a missing number as lost only once settleSeconds of later
    // observations followed it; run on that long past the act, so nothing up to it is "unseen".
    const settleMs = config.scenarios.settleSeconds * 1000;
    const left = actEnd + settleMs * 1.5 - Date.now();
    if (left > 0) await delay(left, undefined, { signal });
    await ctx.waitForSequence(history.highWater(), 'one more record after settling');
  } catch (err) {
    outcome.error = { message: err instanceof Error ? err.message : String(err), hint: (err as { hint?: string }).hint };
  } finally {
    await recorder?.stop();
    if (scenario.teardown) {
      // After a Ctrl-C the teardown still runs (with a signal of its own), but not for long.
      const teardownCtx = signal.aborted ? { ...ctx, signal: AbortSignal.timeout(TEARDOWN_AFTER_INTERRUPT_MS) } : ctx;
      const limit = signal.aborted ? TEARDOWN_AFTER_INTERRUPT_MS : undefined;
      await withLimit(scenario.teardown(teardownCtx), limit).catch((err: unknown) => {
        teardownProblem = err instanceof Error ? err.message : String(err);
        say(`teardown: ${teardownProblem}`);
      });
    }
    await history.close();
  }

  // Stopped by Ctrl-C: no verdict over a cut-off run; say what it leaves.
  const interrupted = (): ScenarioOutcome => {
    const left: string[] = [];
    if (applied) left.push(`FlinkDeployment ${ref.namespace}/${name} as it was (the next scenario run deletes it and deploys it afresh)`);
    else if (phase === 'removing the previous job') left.push(`the previous FlinkDeployment ${ref.namespace}/${name}, possibly being deleted (the next scenario run finishes that)`);
    if (teardownProblem) left.push(`what the teardown of ${scenario.name} did not remove: ${teardownProblem}`);
    left.push(`the history so far in ${history.file}`);
    outcome.interrupted = { phase, left };
    outcome.error = { message: `interrupted during ${phase}` };
    activity.end();
    outcome.durationMs = Date.now() - started;
    return outcome;
  };
  if (signal.aborted) return interrupted();
  if (!outcome.error || history.records > 0) {
    try {
      enter('judge');
      say('judging the history');
      outcome.verdict = await deps.judge(history.file);
      enter('claims');
      const input = { verdict: outcome.verdict, facts, checkpoints: history.checkpoints().length };
      outcome.claims = scenario.claims.map((c) => ({ title: c.title, ...c.check(input) }));
    } catch (err) {
      // A Ctrl-C while the history is judged: the scenario was cut short there, not before it began.
      if (!signal.aborted) throw err;
      outcome.verdict = undefined;
      outcome.claims = [];
      return interrupted();
    }
  }
  activity.end();
  outcome.ok = !outcome.error && outcome.claims.every((c) => c.ok);
  outcome.durationMs = Date.now() - started;
  return outcome;
}

/** The promise, or a rejection once `ms` passed (undefined: no limit). */
function withLimit<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms / 1000} s after Ctrl-C`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
