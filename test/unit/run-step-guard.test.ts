// When a step's guard (up's watch for pods that can never start) runs: from the moment the step
// starts its work; not at all for a step that found its work in place and whose gate is met at
// once; and after GUARD_DELAY_MS for one whose gate still waits. A guard that rejects ends the
// step with its error and aborts the step's own waits.
import { describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { GUARD_DELAY_MS, runStep, type StepGuard } from '../../scripts/pipeline/run-step.ts';
import { newRunState, type Step, type StepContext } from '../../scripts/pipeline/step.ts';
import { SandboxError } from '../../scripts/lib/errors.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function context(stop: AbortController): StepContext {
  return {
    config: defaults,
    runId: 'test-run',
    signal: stop.signal,
    state: newRunState(),
    services: { kube: () => Promise.reject(new Error('no cluster')), tools: () => Promise.reject(new Error('no tools')) },
    output: () => undefined,
  };
}

/** A step that is (or is not) in place, whose gate takes `gateMs`, and records when things happen. */
function step(o: { done: boolean; gateMs: number; applyMs?: number }, log: string[]): Step {
  return {
    id: 's',
    title: 'Step s',
    plan: () => [],
    isDone: async () => o.done,
    async apply() {
      log.push('apply');
      await sleep(o.applyMs ?? 0);
    },
    gate: () => [
      {
        what: 's to be ready',
        async run(_kube, opts) {
          log.push('gate');
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, o.gateMs);
            opts.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(opts.signal!.reason);
            });
          });
        },
      },
    ],
  };
}

/** A guard that logs its start and, if told to, ends the step after `failAfterMs`. */
function guard(log: string[], failAfterMs?: number): { fn: StepGuard; since: number[] } {
  const since: number[] = [];
  const fn: StepGuard = (_step, _ctx, signal, started) => {
    log.push('guard');
    since.push(started);
    return new Promise<never>((_, reject) => {
      if (failAfterMs !== undefined) setTimeout(() => reject(new SandboxError('pod x can never start')), failAfterMs);
      signal.addEventListener('abort', () => log.push('guard stopped'));
    });
  };
  return { fn, since };
}

describe('a step guard', () => {
  it('starts with the work of a step that acts, is told when the step started, and stops with the step', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const g = guard(log);
    const before = Date.now();
    await expect(runStep(step({ done: false, gateMs: 10 }, log), context(stop), { guard: g.fn, stop })).resolves.toBe('done');
    expect(log).toEqual(['guard', 'apply', 'gate', 'guard stopped']);
    expect(g.since[0]).toBeGreaterThanOrEqual(before);
    expect(g.since[0]).toBeLessThanOrEqual(Date.now());
  });

  it('never starts for a step found in place whose gate is met at once', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    await expect(runStep(step({ done: true, gateMs: 0 }, log), context(stop), { guard: guard(log).fn, stop })).resolves.toBe('already');
    expect(log).toEqual(['gate']);
  });

  it('starts for a step found in place whose gate still waits after the delay', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const started = performance.now();
    await expect(runStep(step({ done: true, gateMs: GUARD_DELAY_MS + 300 }, log), context(stop), { guard: guard(log).fn, stop })).resolves.toBe('already');
    expect(log).toEqual(['gate', 'guard', 'guard stopped']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(GUARD_DELAY_MS);
  });

  it('ends the step with its error and aborts the step’s waits', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const run = runStep(step({ done: false, gateMs: 60_000 }, log), context(stop), { guard: guard(log, 50).fn, stop });
    await expect(run).rejects.toThrow('pod x can never start');
    expect(stop.signal.aborted).toBe(true);
    expect(log).toContain('guard stopped');
  });
});
