// One step as the engine runs it: check, then act, then the readiness gate (on re-runs too: it is
// cheap when things are ready and catches a component that broke since the last run), with an
// optional guard beside it that may end the step early with the real cause.
import { runGate } from '../lib/wait/strategy.ts';
import type { Step, StepContext } from './step.ts';

/**
 * Watches beside a step (stuck pods) and rejects to end it; aborted when the step ends. `since`
 * is when the step started (ms since the epoch): what appeared after it is the step's own.
 */
export type StepGuard = (step: Step, ctx: StepContext, signal: AbortSignal, since: number) => Promise<never> | undefined;

/** A step that found its work in place starts its guard only when its gate still waits this long. */
export const GUARD_DELAY_MS = 1000;

export interface RunStepOptions {
  /** Skip isDone (apply every step). */
  force?: boolean;
  guard?: StepGuard;
  /** Aborts the step's own work (its ctx.signal includes it) when the guard ends the step. */
  stop: AbortController;
  /** Told right after the check, before the work and the gate. */
  onChecked?: (already: boolean) => void;
  /** Told as the step moves from checking to applying to its readiness gate (what Ctrl-C cut short). */
  onPhase?: (phase: StepPhase) => void;
}

/** Where a step is: checking what is in place, changing the cluster, or waiting for readiness. */
export type StepPhase = 'check' | 'apply' | 'gate';

async function checkThenAct(step: Step, ctx: StepContext, opts: RunStepOptions): Promise<'done' | 'already'> {
  opts.onPhase?.('check');
  const already = !opts.force && step.isDone ? await step.isDone(ctx) : false;
  opts.onChecked?.(already);
  if (!already) {
    opts.onPhase?.('apply');
    await step.apply(ctx);
  }
  if (step.gate) {
    opts.onPhase?.('gate');
    const seconds = step.gateSeconds?.(ctx.config) ?? ctx.config.timeouts.stepSeconds;
    await runGate(step.gate(ctx.config), () => ctx.services.kube(), { timeoutMs: seconds * 1000, signal: ctx.signal, onProgress: ctx.output });
  }
  return already ? 'already' : 'done';
}

/**
 * Runs the step; resolves with whether it acted or found its work in place, rejects with its error.
 * The guard starts when the step starts its work; a step that found its work in place has created
 * nothing to guard, so its guard starts only if the gate is still waiting after GUARD_DELAY_MS (a
 * re-run where everything is ready sends no guard's list and watch).
 */
export async function runStep(step: Step, ctx: StepContext, opts: RunStepOptions): Promise<'done' | 'already'> {
  const since = Date.now();
  const guardStop = new AbortController();
  let startGuard = (): void => undefined;
  let guardTimer: NodeJS.Timeout | undefined;
  // Rejects once the guard, when started, ends the step; never settles otherwise.
  const guarded =
    opts.guard &&
    new Promise<never>((_, reject) => {
      const guard = opts.guard!;
      startGuard = () => {
        startGuard = () => undefined;
        guard(step, ctx, guardStop.signal, since)?.catch((err: unknown) => {
          // When the guard ends the step, stop its waits too; their rejection is expected.
          opts.stop.abort(err);
          reject(err);
        });
      };
    });
  const onPhase = (phase: StepPhase): void => {
    opts.onPhase?.(phase);
    if (phase === 'apply') startGuard();
    else if (phase === 'gate') guardTimer = setTimeout(() => startGuard(), GUARD_DELAY_MS);
  };
  try {
    const running = checkThenAct(step, ctx, { ...opts, onPhase });
    if (!guarded) return await running;
    running.catch(() => undefined);
    return await Promise.race([running, guarded]);
  } finally {
    clearTimeout(guardTimer);
    guardStop.abort();
  }
}
