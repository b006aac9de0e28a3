// Readiness gates as values: their waits share one deadline, run in order, and describe
// themselves, so `up --dry-run` prints what the gate will wait for and nothing else.
import { describe, expect, it } from 'vitest';
import { planText } from '../../scripts/commands/up.ts';
import { loadConfig } from '../../scripts/lib/config.ts';
import { TimeoutError } from '../../scripts/lib/errors.ts';
import type { Kube } from '../../scripts/lib/kube/kube.ts';
import type { Clock } from '../../scripts/lib/wait/loop.ts';
import { Ready, runGate } from '../../scripts/lib/wait/strategy.ts';
import { planOf } from '../../scripts/pipeline/step.ts';
import { pipeline } from '../../scripts/steps/index.ts';

/** Time moves only when a wait sleeps. */
function fakeClock(): Clock {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

/** Polled waits never touch the cluster: a gate of them needs no API server. */
const noKube = (): Promise<Kube> => Promise.resolve({} as Kube);

describe('runGate', () => {
  it('gives all the waits of a gate one deadline: the second gets what the first left, not a budget of its own', async () => {
    const clock = fakeClock();
    let first = 0;
    let second = 0;
    const gate = [
      Ready.polled('the first thing', async () => ({ ok: ++first > 20, seen: `probe ${first}` })),
      Ready.polled('the second thing', async () => ({ ok: false, seen: `probe ${++second}` })),
    ];
    const err = await runGate(gate, noKube, { timeoutMs: 30_000, clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^timed out after 30s waiting for the second thing; last seen: probe \d+$/);
    // 20 one-second sleeps for the first, so 10 s were left for the second, not 30.
    expect(clock.now()).toBe(30_000);
    expect(second).toBe(11);
  });

  it('runs the waits in order and says which one it is waiting for', async () => {
    const progress: string[] = [];
    const gate = [Ready.polled('A', async () => ({ ok: true, seen: 'a' })), Ready.polled('B', async () => ({ ok: true, seen: 'b' }))];
    await runGate(gate, noKube, { timeoutMs: 1000, clock: fakeClock(), onProgress: (m) => progress.push(m) });
    expect(progress).toEqual(['waiting for A', 'A: a', 'waiting for B', 'B: b']);
  });
});

describe('the plan shows what the gates describe', () => {
  it("prints each step's waits as its check lines", async () => {
    const cfg = await loadConfig({ with: ['ui'] });
    const text = planText(cfg, pipeline(cfg));
    expect(text).toContain('check: rollout of Deployment minio/minio');
    expect(text).toContain('check: Job minio-make-bucket to create bucket flink-data and prove it writable');
    expect(text).toContain('check: ready pods k8s-app=kube-dns in kube-system');
    // The webhook probe the plan names is the one the gate sends.
    expect(text).toContain('accept a dry-run FlinkDeployment sandbox-webhook-probe');
    expect(text).not.toContain('hello-ha accepted');
  });

  it('changes when a gate changes', async () => {
    const cfg = await loadConfig({});
    const steps = pipeline(cfg);
    const before = planText(cfg, steps);
    const changed = steps.map((s) =>
      s.id === 'minio' ? { ...s, gate: () => [...s.gate!(cfg), Ready.rollout('StatefulSet', 'extra', cfg.namespaces.minio)] } : s,
    );
    const after = planText(cfg, changed);
    expect(before).not.toContain('rollout of StatefulSet minio/extra');
    expect(after).toContain('check: rollout of StatefulSet minio/extra');
    const minio = changed.find((s) => s.id === 'minio')!;
    expect(planOf(minio, cfg).at(-1)).toEqual({ kind: 'check', what: 'rollout of StatefulSet minio/extra' });
  });
});
