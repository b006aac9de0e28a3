// Runs a pipeline of steps: each step starts as soon as everything it `needs` has
// succeeded, so independent steps run concurrently; a failed step stops only its
// dependents and lets the others finish. Progress is rendered by listr2 (its default
// renderer on a TTY, a plain timestamped one otherwise); steps never print.
import { newRunState, type RunState, type Step, type StepContext, type StepServices } from './step.ts';
import type { SandboxConfig } from '../lib/config.ts';
import { causeChain, InterruptedError, SandboxError, UsageError } from '../lib/errors.ts';
import type { ListrGetRendererClassFromValue, ListrTaskWrapper } from 'listr2';
import { runGate } from '../lib/wait/strategy.ts';

export type StepOutcome = 'done' | 'already' | 'failed' | 'skipped' | 'blocked' | 'interrupted';

export interface StepRecord {
  id: string;
  title: string;
  outcome: StepOutcome;
  /** Wall time of the step itself, from its start (after its needs) to its end. */
  ms: number;
  startedAt?: string;
  error?: string[];
  hint?: string;
  /** Step ids this one waited for. */
  needs: string[];
}

export interface RunResult {
  runId: string;
  ok: boolean;
  ms: number;
  steps: StepRecord[];
}

export type RenderMode = 'auto' | 'plain' | 'verbose' | 'silent';

export interface EngineOptions {
  config: SandboxConfig;
  runId: string;
  services: StepServices;
  signal: AbortSignal;
  render: RenderMode;
  /** Check-then-act: skip isDone (forces apply). */
  force?: boolean;
  /** What steps hand to each other, kept by the caller after the run (e.g. the K3s container). */
  state?: RunState;
  /**
   * Runs beside a step's apply and readiness gate and ends the step early by rejecting (e.g.
   * a pod whose image cannot be pulled); aborted when the step ends.
   */
  guard?: (step: Step, ctx: StepContext, signal: AbortSignal) => Promise<never> | undefined;
}

/** Rejects pipelines whose `needs` name unknown steps or form a cycle. */
export function checkPipeline(steps: readonly Step[]): void {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new Error(`duplicate step id ${s.id}`);
    ids.add(s.id);
  }
  for (const s of steps) {
    for (const need of s.needs ?? []) {
      if (!ids.has(need)) throw new Error(`step ${s.id} needs unknown step ${need}`);
    }
  }
  planWaves(steps);
}

/**
 * Groups steps into waves: every step of a wave only needs steps of earlier waves,
 * so the steps of one wave can run in parallel. Used by --dry-run to show the plan.
 */
export function planWaves(steps: readonly Step[]): Step[][] {
  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (s: Step): number => {
    const known = level.get(s.id);
    if (known !== undefined) return known;
    if (visiting.has(s.id)) throw new Error(`pipeline has a cycle through step ${s.id}`);
    visiting.add(s.id);
    let d = 0;
    for (const need of s.needs ?? []) {
      const dep = byId.get(need);
      if (dep) d = Math.max(d, depth(dep) + 1);
    }
    visiting.delete(s.id);
    level.set(s.id, d);
    return d;
  };
  const waves: Step[][] = [];
  for (const s of steps) {
    const d = depth(s);
    (waves[d] ??= []).push(s);
  }
  return waves.filter(Boolean);
}

/** Keeps `--only` steps (plus nothing else) or drops `--skip` steps; dangling needs are dropped. */
export function selectSteps(steps: readonly Step[], only: string[] | undefined, skip: string[] | undefined): Step[] {
  const known = new Set(steps.map((s) => s.id));
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!known.has(id)) {
      throw new UsageError(`unknown step "${id}"`, {
        hint: `steps of this pipeline: ${[...known].join(', ')}`,
      });
    }
  }
  let kept = steps.filter((s) => (only?.length ? only.includes(s.id) : true) && !(skip ?? []).includes(s.id));
  const keptIds = new Set(kept.map((s) => s.id));
  kept = kept.map((s) => ({ ...s, needs: (s.needs ?? []).filter((n) => keptIds.has(n)) }));
  return kept;
}

/** The listr2 renderers the engine picks from (see rendererFor). */
type Renderer = 'default' | 'simple' | 'verbose' | 'silent';
type Task = ListrTaskWrapper<unknown, ListrGetRendererClassFromValue<Renderer>, ListrGetRendererClassFromValue<'simple'>>;

interface RendererChoice {
  renderer: Renderer;
  fallback: boolean;
  /** listr2's default renderer draws each step's output under its title; the line renderers do not. */
  lines: boolean;
}

function rendererFor(mode: RenderMode): RendererChoice {
  if (mode === 'silent') return { renderer: 'silent', fallback: false, lines: true };
  if (mode === 'verbose') return { renderer: 'verbose', fallback: false, lines: true };
  const interactive = process.stdout.isTTY === true && !process.env.CI;
  if (mode === 'plain' || !interactive) return { renderer: 'simple', fallback: true, lines: true };
  return { renderer: 'default', fallback: false, lines: false };
}

interface Deferred {
  promise: Promise<boolean>;
  resolve(ok: boolean): void;
}

function deferred(): Deferred {
  let resolve!: (ok: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * What each failed step threw, as thrown: the records hold only its text (they are written as
 * JSON), and runFailure() must still tell a user error from a bug and keep the bug's stack.
 */
const failures = new WeakMap<StepRecord, unknown>();

/** Runs the pipeline; never throws for step failures (they are in the result). */
export async function runPipeline(steps: readonly Step[], opts: EngineOptions): Promise<RunResult> {
  checkPipeline(steps);
  const { Listr, PRESET_TIMESTAMP, PRESET_TIMER } = await import('listr2');
  const started = performance.now();
  const gates = new Map(steps.map((s) => [s.id, deferred()] as const));
  const records = new Map<string, StepRecord>();
  const state = opts.state ?? newRunState();
  const { renderer, fallback, lines } = rendererFor(opts.render);
  const titleOf = new Map(steps.map((s) => [s.id, s.title] as const));
  // Line renderers print output without its task's title, so each line names its step.
  const named = (step: Step, line: string): string => (lines ? `${step.id}: ${line}` : line);

  /** The step itself, shown (with its title) from the moment it starts. */
  const work = (step: Step, record: StepRecord) => async (_: unknown, task: Task): Promise<void> => {
    const gate = gates.get(step.id)!;
    const t0 = performance.now();
    record.startedAt = new Date().toISOString();
    try {
      const stepStop = new AbortController();
      const ctx: StepContext = {
        config: opts.config,
        runId: opts.runId,
        signal: AbortSignal.any([opts.signal, stepStop.signal]),
        state,
        services: opts.services,
        output: (line: string) => {
          task.output = named(step, line);
        },
      };
      const guardStop = new AbortController();
      const act = async (): Promise<void> => {
        const done = !opts.force && step.isDone ? await step.isDone(ctx) : false;
        if (done) {
          record.outcome = 'already';
          task.title = `${step.title} (already in place)`;
        } else {
          await step.apply(ctx);
          record.outcome = 'done';
        }
        // The readiness gate runs on re-runs too: it is cheap when things are ready
        // and catches a component that broke since the last run.
        if (step.gate) {
          const seconds = step.gateSeconds?.(ctx.config) ?? ctx.config.timeouts.stepSeconds;
          await runGate(step.gate(ctx.config), () => ctx.services.kube(), { timeoutMs: seconds * 1000, signal: ctx.signal, onProgress: ctx.output });
        }
      };
      try {
        const guard = opts.guard?.(step, ctx, guardStop.signal);
        const running = act();
        if (guard) {
          // When the guard ends the step, stop its waits too; their rejection is expected.
          running.catch(() => undefined);
          await Promise.race([
            running,
            guard.catch((err: unknown) => {
              stepStop.abort(err);
              throw err;
            }),
          ]);
        } else {
          await running;
        }
      } finally {
        guardStop.abort();
        record.ms = Math.round(performance.now() - t0);
      }
      gate.resolve(true);
    } catch (err) {
      record.outcome = opts.signal.aborted ? 'interrupted' : 'failed';
      record.error = causeChain(err);
      record.hint = err instanceof SandboxError ? err.hint : undefined;
      failures.set(record, err);
      gate.resolve(false);
      // Only listr2 sees this one (it draws the step's ✖ line); runFailure() keeps the original.
      throw new Error(`${step.title} failed`, { cause: err });
    }
  };

  // Each step's outer task has no title: listr2 draws no line for a task without one. It
  // waits for the step's needs and only then adds the step as a titled subtask, so a step
  // appears when it starts; one that never runs appears only in the run's failure summary,
  // and a run that fails in its first second is not buried under lines about the others.
  const tasks = steps.map((step) => ({
    task: async (_: unknown, holder: Task): Promise<unknown> => {
      const needs = [...(step.needs ?? [])];
      const record: StepRecord = { id: step.id, title: step.title, outcome: 'failed', ms: 0, needs };
      records.set(step.id, record);
      const gate = gates.get(step.id)!;
      if (needs.length) {
        // Only the default renderer shows this, under nothing but this line, and replaces it.
        if (!lines) holder.output = `${step.title}: waiting for ${needs.map((n) => titleOf.get(n) ?? n).join(', ')}`;
        const results = await Promise.all(needs.map((n) => gates.get(n)!.promise));
        if (!lines) holder.output = '';
        if (results.some((ok) => !ok)) {
          record.outcome = 'blocked';
          gate.resolve(false);
          return undefined;
        }
      }
      if (opts.signal.aborted) {
        record.outcome = 'interrupted';
        gate.resolve(false);
        return undefined;
      }
      return holder.newListr([{ title: step.title, task: work(step, record) }], { exitOnError: false });
    },
  }));

  const list = new Listr<unknown, Renderer, 'simple'>(tasks, {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    renderer,
    fallbackRenderer: 'simple',
    fallbackRendererCondition: fallback,
    rendererOptions: { collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { timestamp: PRESET_TIMESTAMP, timer: PRESET_TIMER },
  });
  try {
    await list.run();
  } catch {
    // Failures are recorded per step above; exitOnError is off so this is only a safety net.
  }
  const ordered = steps.map(
    (s) => records.get(s.id) ?? { id: s.id, title: s.title, outcome: 'skipped' as const, ms: 0, needs: [...(s.needs ?? [])] },
  );
  return {
    runId: opts.runId,
    ok: ordered.every((r) => r.outcome === 'done' || r.outcome === 'already'),
    ms: Math.round(performance.now() - started),
    steps: ordered,
  };
}

/**
 * The error a failed run ends with: the first failure, its cause chain, and what it blocked. A
 * step that failed with anything but a SandboxError hit a bug: that error is kept as the cause
 * (with its stack), and the run's error is not a SandboxError either, so cli.ts reports a bug.
 */
export function runFailure(result: RunResult): Error {
  const failed = result.steps.filter((s) => s.outcome === 'failed');
  const interrupted = result.steps.some((s) => s.outcome === 'interrupted');
  if (interrupted && failed.length === 0) {
    return new InterruptedError('interrupted; nothing is left half-done: re-run the same command to continue');
  }
  const blocked = result.steps.filter((s) => s.outcome === 'blocked').map((s) => s.id);
  const lines = failed.map((s) => `${s.title} failed: ${(s.error ?? []).join(': ')}`);
  if (blocked.length) lines.push(`not run because of that: ${blocked.join(', ')}`);
  const first = failed[0];
  const bug = failed.map((s) => failures.get(s)).find((e) => e !== undefined && !(e instanceof SandboxError));
  if (bug !== undefined) return new Error(lines.join('\n'), { cause: bug });
  return new SandboxError(lines.join('\n'), { hint: first?.hint });
}
