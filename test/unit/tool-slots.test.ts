// Tool processes take slots: no more than the limit run at once, and a waiting one with the higher
// priority starts first. The pipeline gives a step's tool processes the length of the longest
// chain of steps waiting for it, so the install more steps wait for goes first.
import { describe, expect, it } from 'vitest';
import { createSlots } from '../../scripts/lib/exec/slots.ts';
import { chainsAfter } from '../../scripts/pipeline/shape.ts';
import { runPipeline } from '../../scripts/pipeline/engine.ts';
import { defaults } from '../../scripts/lib/config.ts';
import type { Toolbox } from '../../scripts/lib/exec/tools.ts';
import type { RunOptions } from '../../scripts/lib/exec/sh.ts';
import type { Step } from '../../scripts/pipeline/step.ts';

describe('tool slots', () => {
  it('run at most the limit at once, and waiting tasks start by priority, then in order', async () => {
    const slots = createSlots(2);
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const releases = new Map<string, () => void>();
    const task = (name: string) => () =>
      new Promise<string>((resolve) => {
        started.push(name);
        most = Math.max(most, ++running);
        releases.set(name, () => {
          running--;
          resolve(name);
        });
      });
    const done = [
      slots.run(0, task('a')),
      slots.run(0, task('b')),
      slots.run(0, task('low')),
      slots.run(2, task('high')),
      slots.run(1, task('middle')),
      slots.run(2, task('high-later')),
    ];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    // Each release lets the waiting task with the highest priority in.
    for (const name of ['a', 'b', 'high', 'high-later', 'middle', 'low']) {
      await new Promise((r) => setImmediate(r));
      releases.get(name)!();
    }
    expect(await Promise.all(done)).toEqual(['a', 'b', 'low', 'high', 'middle', 'high-later']);
    expect(started).toEqual(['a', 'b', 'high', 'high-later', 'middle', 'low']);
    expect(most).toBe(2);
  });
});

const step = (id: string, needs: string[] = [], tool?: string): Step => ({
  id,
  title: id,
  needs,
  plan: () => [],
  async apply(ctx) {
    if (tool) await (await ctx.services.tools()).run('helm', [tool]);
  },
});

describe('a step’s priority for tool processes', () => {
  it('is the longest chain of steps that wait for it', () => {
    // The full profile's shape: eck-operator -> elasticsearch -> logging-pipeline is the longest chain.
    const steps = [
      step('preflight'),
      step('cluster', ['preflight']),
      step('minio', ['cluster']),
      step('cert-manager', ['cluster']),
      step('flink-operator', ['cert-manager']),
      step('eck-operator', ['cluster']),
      step('elasticsearch', ['eck-operator']),
      step('logging-operator', ['cluster']),
      step('logging-pipeline', ['logging-operator', 'elasticsearch']),
    ];
    expect(Object.fromEntries(chainsAfter(steps))).toEqual({
      preflight: 4,
      cluster: 3,
      minio: 0,
      'cert-manager': 1,
      'flink-operator': 0,
      'eck-operator': 2,
      elasticsearch: 1,
      'logging-operator': 1,
      'logging-pipeline': 0,
    });
  });

  it('reaches the tool processes the pipeline runs for the step', async () => {
    const seen: Record<string, number | undefined> = {};
    const record = async (_name: string, args: string[], opts?: RunOptions) => {
      seen[args[0]!] = opts?.priority;
      return { stdout: '', stderr: '' };
    };
    const toolbox = { run: record, probe: record } as unknown as Toolbox;
    const services = { kube: () => Promise.reject(new Error('no cluster')), tools: async () => toolbox };
    const result = await runPipeline([step('first', [], 'first'), step('second', ['first'], 'second'), step('third', ['second'], 'third')], {
      config: defaults,
      runId: 'test-run',
      services,
      signal: new AbortController().signal,
      render: 'silent',
    });
    expect(result.ok).toBe(true);
    expect(seen).toEqual({ first: 2, second: 1, third: 0 });
  });
});
