// The step engine with small fake steps: concurrency of independent steps, ordering by
// `needs`, failure isolation, check-then-act, interrupts, and pipeline validation.
// Overlap and ordering are proven with timestamps taken inside the steps, never with
// absolute durations, so the tests hold on a slow machine too.
import { describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { runFailure, runPipeline, type EngineOptions, type RunResult } from '../../scripts/pipeline/engine.ts';
import { checkPipeline, planWaves, selectSteps } from '../../scripts/pipeline/shape.ts';
import { InterruptedError, SandboxError, UsageError } from '../../scripts/lib/errors.ts';
import { newRunState, type Step, type StepContext, type StepServices } from '../../scripts/pipeline/step.ts';

/** Fake steps never reach a cluster or a tool: calling a service is a test failure. */
const services: StepServices = {
  kube: () => Promise.reject(new Error('kube() must not be called by fake steps')),
  tools: () => Promise.reject(new Error('tools() must not be called by fake steps')),
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Span {
  start: number;
  end: number;
}

/** A journal the fake steps write to: what ran, when, and in which phase. */
class Journal {
  readonly spans = new Map<string, Span>();
  readonly calls: string[] = [];
  span(id: string): Span {
    const s = this.spans.get(id);
    if (!s) throw new Error(`step ${id} did not run`);
    return s;
  }
}

interface FakeOptions {
  needs?: string[];
  /** How long apply takes. */
  ms?: number;
  fail?: unknown;
  isDone?: boolean;
  ready?: boolean;
}

function fake(journal: Journal, id: string, o: FakeOptions = {}): Step {
  return {
    id,
    title: `Step ${id}`,
    needs: o.needs,
    plan: () => [{ kind: 'check', what: id }],
    isDone:
      o.isDone === undefined
        ? undefined
        : async () => {
            journal.calls.push(`${id}.isDone`);
            return o.isDone!;
          },
    async apply(ctx: StepContext) {
      journal.calls.push(`${id}.apply`);
      const start = performance.now();
      ctx.output(`${id} working`);
      await sleep(o.ms ?? 20);
      journal.spans.set(id, { start, end: performance.now() });
      if (o.fail !== undefined) throw o.fail;
    },
    gate: o.ready
      ? () => [
          {
            what: `${id} to be ready`,
            run: async () => void journal.calls.push(`${id}.ready`),
          },
        ]
      : undefined,
  };
}

function options(over: Partial<EngineOptions> = {}): EngineOptions {
  return { config: defaults, runId: 'test-run', services, signal: new AbortController().signal, render: 'silent', ...over };
}

function outcomes(result: RunResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.id, s.outcome]));
}

describe('runPipeline', () => {
  it('runs independent steps concurrently', async () => {
    const j = new Journal();
    const result = await runPipeline([fake(j, 'a', { ms: 80 }), fake(j, 'b', { ms: 80 }), fake(j, 'c', { ms: 80 })], options());
    expect(result.ok).toBe(true);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => j.span(id));
    // Each started before the others ended: their apply phases overlap.
    for (const [x, y] of [[a!, b!], [a!, c!], [b!, c!]] as const) {
      expect(x.start).toBeLessThan(y.end);
      expect(y.start).toBeLessThan(x.end);
    }
  });

  it('starts a step only after everything it needs has succeeded', async () => {
    const j = new Journal();
    const steps = [
      fake(j, 'slow', { ms: 60 }),
      fake(j, 'fast', { ms: 5 }),
      fake(j, 'after-both', { needs: ['slow', 'fast'], ms: 5 }),
      fake(j, 'after-that', { needs: ['after-both'], ms: 5 }),
    ];
    const result = await runPipeline(steps, options());
    expect(outcomes(result)).toEqual({ slow: 'done', fast: 'done', 'after-both': 'done', 'after-that': 'done' });
    expect(j.span('after-both').start).toBeGreaterThanOrEqual(j.span('slow').end);
    expect(j.span('after-both').start).toBeGreaterThanOrEqual(j.span('fast').end);
    expect(j.span('after-that').start).toBeGreaterThanOrEqual(j.span('after-both').end);
    expect(result.steps.find((s) => s.id === 'after-both')!.needs).toEqual(['slow', 'fast']);
  });

  it('blocks the dependents of a failed step and lets independent steps finish', async () => {
    const j = new Journal();
    const cause = new Error('connection refused');
    const fail = new SandboxError('helm install failed', { cause, hint: 'check the chart repository' });
    const steps = [
      fake(j, 'root', { ms: 5 }),
      fake(j, 'broken', { needs: ['root'], ms: 5, fail }),
      fake(j, 'child', { needs: ['broken'] }),
      fake(j, 'grandchild', { needs: ['child'] }),
      fake(j, 'independent', { needs: ['root'], ms: 60 }),
    ];
    const result = await runPipeline(steps, options());
    expect(result.ok).toBe(false);
    expect(outcomes(result)).toEqual({ root: 'done', broken: 'failed', child: 'blocked', grandchild: 'blocked', independent: 'done' });
    // The independent step was still running when the failure happened, and was let finish.
    expect(j.span('independent').end).toBeGreaterThan(j.span('broken').end);
    expect(j.calls).not.toContain('child.apply');
    expect(j.calls).not.toContain('grandchild.apply');

    const broken = result.steps.find((s) => s.id === 'broken')!;
    expect(broken.error).toEqual(['helm install failed', 'connection refused']);
    expect(broken.hint).toBe('check the chart repository');

    const err = runFailure(result) as SandboxError;
    expect(err).toBeInstanceOf(SandboxError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect(err).not.toBeInstanceOf(InterruptedError);
    expect(err.message).toContain('Step broken failed: helm install failed: connection refused');
    expect(err.message).toContain('not run because of that: child, grandchild');
    expect(err.hint).toBe('check the chart repository');
  });

  it('records a failure that is not a SandboxError without a hint, and still names the cause', async () => {
    const j = new Journal();
    const result = await runPipeline([fake(j, 'bug', { fail: new TypeError('x is undefined') })], options());
    const rec = result.steps[0]!;
    expect(rec.outcome).toBe('failed');
    expect(rec.error).toEqual(['x is undefined']);
    expect(rec.hint).toBeUndefined();
    expect(runFailure(result).message).toBe('Step bug failed: x is undefined');
  });

  it('skips apply when isDone says the state is in place, but still runs ready', async () => {
    const j = new Journal();
    const result = await runPipeline(
      [fake(j, 'present', { isDone: true, ready: true }), fake(j, 'absent', { isDone: false, ready: true })],
      options(),
    );
    expect(outcomes(result)).toEqual({ present: 'already', absent: 'done' });
    expect(result.ok).toBe(true);
    expect(j.calls).toContain('present.isDone');
    expect(j.calls).not.toContain('present.apply');
    expect(j.calls).toContain('present.ready');
    // For a step that had to act, the order is check, act, then the readiness gate.
    expect(j.calls.filter((c) => c.startsWith('absent.'))).toEqual(['absent.isDone', 'absent.apply', 'absent.ready']);
  });

  it('with force, does not ask isDone and applies anyway', async () => {
    const j = new Journal();
    const result = await runPipeline([fake(j, 'present', { isDone: true, ready: true })], options({ force: true }));
    expect(outcomes(result)).toEqual({ present: 'done' });
    expect(j.calls).toEqual(['present.apply', 'present.ready']);
  });

  it('fails a step whose readiness gate fails, even when it was already in place', async () => {
    const step: Step = {
      id: 'broke-since',
      title: 'Broke since last run',
      plan: () => [],
      isDone: async () => true,
      apply: async () => {
        throw new Error('apply must not run');
      },
      gate: () => [
        {
          what: 'Deployment x',
          run: async () => {
            throw new SandboxError('timed out waiting for Deployment x: 0/1 ready', { hint: 'see the diagnostics' });
          },
        },
      ],
    };
    const result = await runPipeline([step], options());
    expect(result.steps[0]).toMatchObject({ outcome: 'failed', error: ['timed out waiting for Deployment x: 0/1 ready'], hint: 'see the diagnostics' });
  });

  it('records a duration and a start time for every step that ran, and for the run', async () => {
    const j = new Journal();
    const result = await runPipeline([fake(j, 'a', { ms: 60 }), fake(j, 'b', { needs: ['a'], ms: 5 }), fake(j, 'c', { isDone: true })], options());
    expect(result.runId).toBe('test-run');
    for (const rec of result.steps) {
      expect(Number.isInteger(rec.ms)).toBe(true);
      expect(rec.ms).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(rec.startedAt!))).toBe(false);
    }
    const a = result.steps.find((s) => s.id === 'a')!;
    const b = result.steps.find((s) => s.id === 'b')!;
    // Timer granularity aside, a step's own duration covers its sleep, and the run covers the chain.
    expect(a.ms).toBeGreaterThanOrEqual(55);
    expect(result.ms).toBeGreaterThanOrEqual(a.ms + b.ms - 2);
    // b's duration is its own work, not the time it spent waiting for a.
    expect(b.ms).toBeLessThan(a.ms);
    expect(Date.parse(b.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.startedAt!));
  });

  it('hands values from one step to the next through the typed run state', async () => {
    const state = newRunState();
    const producer: Step = { id: 'producer', title: 'Producer', plan: () => [], apply: async (ctx) => void ctx.state.installedReleases.push('ns/chart') };
    let seen: string[] = [];
    const consumer: Step = {
      id: 'consumer',
      title: 'Consumer',
      needs: ['producer'],
      plan: () => [],
      apply: async (ctx) => {
        seen = [...ctx.state.installedReleases];
      },
    };
    await runPipeline([producer, consumer], options({ state }));
    expect(seen).toEqual(['ns/chart']);
    expect(state.installedReleases).toEqual(['ns/chart']);
  });

  it('gives outcome interrupted for steps not started when the signal is already aborted', async () => {
    const j = new Journal();
    const ac = new AbortController();
    ac.abort();
    const result = await runPipeline([fake(j, 'a'), fake(j, 'b'), fake(j, 'c', { needs: ['a'] })], options({ signal: ac.signal }));
    expect(outcomes(result)).toEqual({ a: 'interrupted', b: 'interrupted', c: 'blocked' });
    expect(j.calls).toEqual([]);
    const err = runFailure(result);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(err.message).toMatch(/re-run/);
  });

  it('gives outcome interrupted, not failed, to a step that stops because of an abort mid-run', async () => {
    const ac = new AbortController();
    const waiting: Step = {
      id: 'waiting',
      title: 'Waits until aborted',
      plan: () => [],
      apply: (ctx) =>
        new Promise<void>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('wait aborted')), { once: true });
        }),
    };
    const j = new Journal();
    const after = fake(j, 'after', { needs: ['waiting'] });
    const run = runPipeline([waiting, after], options({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    const result = await run;
    expect(outcomes(result)).toEqual({ waiting: 'interrupted', after: 'blocked' });
    expect(runFailure(result)).toBeInstanceOf(InterruptedError);
  });

  it('rejects a pipeline with a cycle or an unknown need before running anything', async () => {
    const j = new Journal();
    await expect(runPipeline([fake(j, 'a', { needs: ['b'] }), fake(j, 'b', { needs: ['a'] })], options())).rejects.toThrow(/cycle/);
    await expect(runPipeline([fake(j, 'a', { needs: ['ghost'] })], options())).rejects.toThrow(/step a needs unknown step ghost/);
    expect(j.calls).toEqual([]);
  });
});

describe('checkPipeline and planWaves', () => {
  const j = new Journal();

  it('rejects unknown needs, duplicate ids, self-needs and longer cycles', () => {
    expect(() => checkPipeline([fake(j, 'a', { needs: ['nope'] })])).toThrow('step a needs unknown step nope');
    expect(() => checkPipeline([fake(j, 'a'), fake(j, 'a')])).toThrow('duplicate step id a');
    expect(() => checkPipeline([fake(j, 'a', { needs: ['a'] })])).toThrow(/cycle through step a/);
    expect(() =>
      checkPipeline([fake(j, 'x'), fake(j, 'a', { needs: ['c', 'x'] }), fake(j, 'b', { needs: ['a'] }), fake(j, 'c', { needs: ['b'] })]),
    ).toThrow(/cycle/);
  });

  it('accepts a diamond and groups it into waves that only need earlier waves', () => {
    const steps = [
      fake(j, 'join', { needs: ['left', 'right'] }),
      fake(j, 'left', { needs: ['root'] }),
      fake(j, 'right', { needs: ['root'] }),
      fake(j, 'root'),
      fake(j, 'loner'),
    ];
    expect(() => checkPipeline(steps)).not.toThrow();
    const waves = planWaves(steps).map((w) => w.map((s) => s.id));
    expect(waves).toEqual([['root', 'loner'], ['left', 'right'], ['join']]);
  });
});

describe('selectSteps', () => {
  const j = new Journal();
  const steps = [fake(j, 'a'), fake(j, 'b', { needs: ['a'] }), fake(j, 'c', { needs: ['a', 'b'] }), fake(j, 'd')];

  it('keeps all steps without --only or --skip', () => {
    expect(selectSteps(steps, undefined, undefined).map((s) => [s.id, s.needs])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['c', ['a', 'b']],
      ['d', []],
    ]);
  });

  it('--only keeps just those steps and drops needs on steps left out', () => {
    const kept = selectSteps(steps, ['c', 'd'], undefined);
    expect(kept.map((s) => [s.id, s.needs])).toEqual([
      ['c', []],
      ['d', []],
    ]);
    expect(() => checkPipeline(kept)).not.toThrow();
  });

  it('--skip drops those steps and the needs that pointed at them', () => {
    const kept = selectSteps(steps, undefined, ['a']);
    expect(kept.map((s) => [s.id, s.needs])).toEqual([
      ['b', []],
      ['c', ['b']],
      ['d', []],
    ]);
    expect(() => checkPipeline(kept)).not.toThrow();
    // The input pipeline is left as it was.
    expect(steps[1]!.needs).toEqual(['a']);
  });

  it('rejects unknown ids with a usage error whose hint lists the known ids', () => {
    for (const [only, skip] of [[['zzz'], undefined], [undefined, ['a', 'zzz']]] as const) {
      let caught: unknown;
      try {
        selectSteps(steps, only as string[] | undefined, skip as string[] | undefined);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SandboxError);
      const err = caught as SandboxError;
      expect(err.message).toBe('unknown step "zzz"');
      expect(err).toBeInstanceOf(UsageError);
      expect(err.hint).toBe('steps of this pipeline: a, b, c, d');
    }
  });
});
