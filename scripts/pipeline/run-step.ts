// One step as the engine runs it: check, then act, then the readiness gate (on re-runs too: it is
// cheap when things are ready and catches a component that broke since the last run), with an
// optional guard beside it that may end the step early with the real cause.
import { runGate } from '../lib/wait/strategy.ts';
import type { Step, StepContext } from './step.ts';

/** Watches beside a step (stuck pods) and rejects to end it; aborted when the step ends. */
export type StepGuard = (step: Step, ctx: StepContext, signal: AbortSignal) => Promise<never> | undefined;

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

/** Runs the step; resolves with whether it acted or found its work in place, rejects with its error. */
export async function runStep(step: Step, ctx: StepContext, opts: RunStepOptions): Promise<'done' | 'already'> {
  const guardStop = new AbortController();
  try {
    const guard = opts.guard?.(step, ctx, guardStop.signal);
    const running = checkThenAct(step, ctx, opts);
    if (!guard) return await running;
    // When the guard ends the step, stop its waits too; their rejection is expected.
    running.catch(() => undefined);
    return await Promise.race([
      running,
      guard.catch((err: unknown) => {
        opts.stop.abort(err);
        throw err;
      }),
    ]);
  } finally {
    guardStop.abort();
  }
}
