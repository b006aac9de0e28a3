// The read-only probes shared by the steps of one run: one `helm list --all-namespaces` answers
// for every release, a prefetched answer is reused, a failed one is asked again, and a new run
// asks afresh.
import { describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import type { Toolbox } from '../../scripts/lib/exec/tools.ts';
import { newRunState, type StepContext } from '../../scripts/pipeline/step.ts';
import { certManagerRelease } from '../../scripts/steps/cert-manager.ts';
import { flinkOperatorRelease } from '../../scripts/steps/flink-operator.ts';
import { helmReleaseInPlace, prefetchReleases } from '../../scripts/steps/helm-releases.ts';

const cfg = structuredClone(defaults);
const cert = certManagerRelease(cfg);
const flink = flinkOperatorRelease(cfg);

/** A run whose helm answers from `answers` in turn (an Error is a failed call), logging each call. */
function run(answers: Array<object[] | Error>): { ctx: StepContext; calls: string[][] } {
  const calls: string[][] = [];
  const tools = {
    async run(name: string, args: string[]) {
      calls.push([name, ...args]);
      const next = answers.shift() ?? new Error('no more answers');
      await new Promise((r) => setTimeout(r, 5));
      if (next instanceof Error) throw next;
      return { stdout: JSON.stringify(next), stderr: '', code: 0 };
    },
  } as unknown as Toolbox;
  const ctx: StepContext = {
    config: cfg,
    runId: 'test',
    signal: new AbortController().signal,
    output: () => undefined,
    state: newRunState(),
    services: { kube: () => Promise.reject(new Error('no kube')), tools: async () => tools },
  };
  return { ctx, calls };
}

const entry = (name: string, namespace: string, chart: string, status = 'deployed'): object => ({ name, namespace, status, chart, revision: '1' });
const both = [
  entry(cert.release, cert.namespace, `cert-manager-${cert.version}`),
  entry(flink.release, flink.namespace, `flink-kubernetes-operator-${flink.version}`),
];

describe('helmReleaseInPlace', () => {
  it('answers for every release from one helm list over all namespaces', async () => {
    const { ctx, calls } = run([both]);
    expect(await helmReleaseInPlace(ctx, cert, 'cert-manager')).toBe(true);
    expect(await helmReleaseInPlace(ctx, flink, 'flink-kubernetes-operator')).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(expect.arrayContaining(['helm', 'list', '--all-namespaces', '--output', 'json']));
  });

  it('wants the release in its own namespace, deployed, at the pinned chart version', async () => {
    for (const wrong of [
      entry(cert.release, 'elsewhere', `cert-manager-${cert.version}`),
      entry(cert.release, cert.namespace, `cert-manager-${cert.version}`, 'failed'),
      entry(cert.release, cert.namespace, 'cert-manager-v0.0.1'),
    ]) {
      const { ctx } = run([[wrong]]);
      expect(await helmReleaseInPlace(ctx, cert, 'cert-manager')).toBe(false);
    }
  });

  it('reuses a prefetched answer, and asks again when the prefetch failed', async () => {
    const ok = run([both]);
    prefetchReleases(ok.ctx);
    expect(await helmReleaseInPlace(ok.ctx, flink, 'flink-kubernetes-operator')).toBe(true);
    expect(ok.calls).toHaveLength(1);

    const failed = run([new Error('Kubernetes cluster unreachable'), [both[0]!]]);
    prefetchReleases(failed.ctx);
    expect(await helmReleaseInPlace(failed.ctx, cert, 'cert-manager')).toBe(true);
    expect(await helmReleaseInPlace(failed.ctx, flink, 'flink-kubernetes-operator')).toBe(false);
    expect(failed.calls).toHaveLength(2);
  });

  it('asks afresh in a new run', async () => {
    const first = run([[]]);
    expect(await helmReleaseInPlace(first.ctx, cert, 'cert-manager')).toBe(false);
    const second = run([both]);
    expect(await helmReleaseInPlace(second.ctx, cert, 'cert-manager')).toBe(true);
  });
});
