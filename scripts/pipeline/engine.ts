// Runs a pipeline of steps: each step starts as soon as everything it `needs` has
// succeeded, so independent steps run concurrently; a failed step stops only its
// dependents and lets the others finish. Progress is rendered by listr2 (its default
// renderer on a TTY, a plain timestamped one otherwise); steps never print.
import { newRunState, type RunState, type Step, type StepContext, type StepServices } from './step.ts';
import type { SandboxConfig } from '../lib/config.ts';
import { taskStarted } from '../lib/activity.ts';
import { causeChain, InterruptedError, SandboxError } from '../lib/errors.ts';
import type { ListrGetRendererClassFromValue, ListrTaskWrapper } from 'listr2';
import { runStep, type StepGuard, type StepPhase } from './run-step.ts';
import { chainsAfter, checkPipeline } from './shape.ts';

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
  /** Where the step was when it ended (for an interrupted one: what Ctrl-C cut short). */
  phase?: StepPhase;
  /** The step's last line of progress (an interrupted step's says what it was doing). */
  lastLine?: string;
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
  guard?: StepGuard;
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

/** The services as one step sees them: its tool processes carry its priority (lib/exec/slots.ts). */
function withPriority(services: StepServices, priority: number): StepServices {
  return {
    kube: () => services.kube(),
    async tools() {
      const tools = await services.tools();
      return {
        ...tools,
        run: (name, args, o) => tools.run(name, args, { priority, ...o }),
        probe: (name, args, o) => tools.probe(name, args, { priority, ...o }),
      };
    },
  };
}

/** What every step of one run shares. */
interface Run {
  opts: EngineOptions;
  state: RunState;
  gates: Map<string, Deferred>;
  /** Each step's priority for tool processes: the longest chain of steps waiting for it. */
  priority: Map<string, number>;
  /** Line renderers print output without its task's title, so each line names its step. */
  lines: boolean;
}

/** The step itself, shown (with its title) from the moment it starts. */
function stepTask(run: Run, step: Step, record: StepRecord) {
  return async (_: unknown, task: Task): Promise<void> => {
    const { opts } = run;
    const gate = run.gates.get(step.id)!;
    const t0 = performance.now();
    record.startedAt = new Date().toISOString();
    const stop = new AbortController();
    const activity = taskStarted(`${step.id}: starting`);
    const ctx: StepContext = {
      config: opts.config,
      runId: opts.runId,
      signal: AbortSignal.any([opts.signal, stop.signal]),
      state: run.state,
      services: withPriority(opts.services, run.priority.get(step.id) ?? 0),
      output: (line: string) => {
        if (line.trim()) record.lastLine = line;
        task.output = run.lines ? `${step.id}: ${line}` : line;
      },
    };
    const onPhase = (phase: StepPhase): void => {
      record.phase = phase;
      activity.update(`${step.id} (${PHASE_WORDS[phase]})`);
    };
    const onChecked = (already: boolean): void => {
      if (already) task.title = `${step.title} (already in place)`;
    };
    try {
      record.outcome = await runStep(step, ctx, { force: opts.force, guard: opts.guard, stop, onChecked, onPhase });
      gate.resolve(true);
    } catch (err) {
      record.outcome = opts.signal.aborted ? 'interrupted' : 'failed';
      record.error = causeChain(err);
      record.hint = err instanceof SandboxError ? err.hint : undefined;
      failures.set(record, err);
      gate.resolve(false);
      // Only listr2 sees this one (it draws the step's ✖ line); runFailure() keeps the original.
      throw new Error(`${step.title} ${record.outcome === 'interrupted' ? 'interrupted' : 'failed'}`, { cause: err });
    } finally {
      activity.end();
      record.ms = Math.round(performance.now() - t0);
    }
  };
}

const PHASE_WORDS: Record<StepPhase, string> = { check: 'checking what is in place', apply: 'doing its work', gate: 'waiting for readiness' };

/** What an interrupted step leaves, by where it was: said as it is, not as hoped. */
const PHASE_LEFT: Record<StepPhase, string> = {
  check: 'it had changed nothing yet',
  apply: 'its work may be partly done (a re-run completes it)',
  gate: 'installed, but not yet confirmed ready',
};

/**
 * A step's outer task. It has no title: listr2 draws no line for a task without one. It waits
 * for the step's needs and only then adds the step as a titled subtask, so a step appears when
 * it starts; one that never runs appears only in the run's failure summary, and a run that fails
 * in its first second is not buried under lines about the others.
 */
function holderTask(run: Run, step: Step, records: Map<string, StepRecord>, titleOf: (id: string) => string) {
  return async (_: unknown, holder: Task): Promise<unknown> => {
    const needs = [...(step.needs ?? [])];
    const record: StepRecord = { id: step.id, title: step.title, outcome: 'failed', ms: 0, needs };
    records.set(step.id, record);
    const gate = run.gates.get(step.id)!;
    if (needs.length) {
      // Only the default renderer shows this, under nothing but this line, and replaces it.
      if (!run.lines) holder.output = `${step.title}: waiting for ${needs.map(titleOf).join(', ')}`;
      const results = await Promise.all(needs.map((n) => run.gates.get(n)!.promise));
      if (!run.lines) holder.output = '';
      if (results.some((ok) => !ok)) {
        record.outcome = 'blocked';
        gate.resolve(false);
        return undefined;
      }
    }
    if (run.opts.signal.aborted) {
      record.outcome = 'interrupted';
      gate.resolve(false);
      return undefined;
    }
    return holder.newListr([{ title: step.title, task: stepTask(run, step, record) }], { exitOnError: false });
  };
}

/** Runs the pipeline; never throws for step failures (they are in the result). */
export async function runPipeline(steps: readonly Step[], opts: EngineOptions): Promise<RunResult> {
  checkPipeline(steps);
  const { Listr, PRESET_TIMESTAMP, PRESET_TIMER } = await import('listr2');
  const started = performance.now();
  const { renderer, fallback, lines } = rendererFor(opts.render);
  const gates = new Map(steps.map((s) => [s.id, deferred()] as const));
  const run: Run = { opts, state: opts.state ?? newRunState(), gates, priority: chainsAfter(steps), lines };
  const records = new Map<string, StepRecord>();
  const titles = new Map(steps.map((s) => [s.id, s.title] as const));
  const titleOf = (id: string): string => titles.get(id) ?? id;

  const list = new Listr<unknown, Renderer, 'simple'>(
    steps.map((step) => ({ task: holderTask(run, step, records, titleOf) })),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      renderer,
      fallbackRenderer: 'simple',
      fallbackRendererCondition: fallback,
      rendererOptions: { collapseSubtasks: false, timer: PRESET_TIMER },
      fallbackRendererOptions: { timestamp: PRESET_TIMESTAMP, timer: PRESET_TIMER },
    },
  );
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
  if (interrupted && failed.length === 0) return interruptedRun(result);
  const blocked = result.steps.filter((s) => s.outcome === 'blocked').map((s) => s.id);
  const lines = failed.map((s) => `${s.title} failed: ${(s.error ?? []).join(': ')}`);
  if (blocked.length) lines.push(`not run because of that: ${blocked.join(', ')}`);
  const first = failed[0];
  const bug = failed.map((s) => failures.get(s)).find((e) => e !== undefined && !(e instanceof SandboxError));
  if (bug !== undefined) return new Error(lines.join('\n'), { cause: bug });
  return new SandboxError(lines.join('\n'), { hint: first?.hint });
}

/**
 * The error of a run Ctrl-C stopped: which steps it stopped and where each was (checking,
 * installing, waiting), what that leaves, which were done and which never started.
 */
function interruptedRun(result: RunResult): InterruptedError {
  const stopped = result.steps.filter((s) => s.outcome === 'interrupted' && s.startedAt !== undefined);
  const done = result.steps.filter((s) => s.outcome === 'done' || s.outcome === 'already').map((s) => s.id);
  const notStarted = result.steps.filter((s) => (s.outcome === 'interrupted' && s.startedAt === undefined) || s.outcome === 'blocked').map((s) => s.id);
  const lines = [stopped.length ? `interrupted during ${stopped.map((s) => s.id).join(', ')}` : 'interrupted before any step started'];
  for (const s of stopped) {
    const phase = s.phase ?? 'check';
    const last = s.lastLine ? ` (last: ${s.lastLine.length > 160 ? `${s.lastLine.slice(0, 157)}...` : s.lastLine})` : '';
    lines.push(`${s.id}: stopped while ${PHASE_WORDS[phase]}${last}; ${PHASE_LEFT[phase]}`);
  }
  if (done.length) lines.push(`done: ${done.join(', ')}`);
  if (notStarted.length) lines.push(`not started: ${notStarted.join(', ')}`);
  lines.push(notStarted.length ? 'the steps not started changed nothing; re-run the same command to continue' : 're-run the same command to continue');
  return new InterruptedError(lines.join('\n'), { hint: 're-run the same command: every step checks what is in place and finishes the rest' });
}
