// Readiness latency: how long after a condition turns true the waiting side notices. The
// project's wait (a Ready strategy run through runGate, as a step's gate runs it: a watch) and a
// 1-second poll loop (the operator e2e scripts' `until kubectl get ...; do sleep 1; done`) await
// the same object side by side; the condition flips at a random moment, as a pod's readiness
// does. Many objects at once, so the run takes a few seconds whatever the count.
import { connectKube } from '../scripts/lib/kube/connect.ts';
import { Ready, runGate } from '../scripts/lib/wait/strategy.ts';
import { SimClient } from '../test/sim/api-client.ts';
import type { Sim } from '../test/sim/harness.ts';

export interface LatencyResult {
  trials: number;
  oursMs: { median: number; p95: number };
  pollMs: { median: number; p95: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function pollEverySecond(client: SimClient, path: string): Promise<number> {
  for (;;) {
    const cm = await client.get<{ data?: Record<string, string> }>(path);
    if (cm?.data?.ready === 'true') return performance.now();
    await sleep(1000);
  }
}

async function trial(sim: Sim, client: SimClient, i: number): Promise<{ ours: number; poll: number }> {
  const name = `bench-ready-${i}`;
  const path = `/api/v1/namespaces/default/configmaps/${name}`;
  await client.delete(path);
  await client.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { ready: 'false' } });
  const kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG });
  const gate = [Ready.jsonPath({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: 'default' }, '{.data.ready}', 'true')];
  const ours = runGate(gate, async () => kube, { timeoutMs: 30_000 }).then(() => performance.now());
  const poll = pollEverySecond(client, path);
  await sleep(500 + Math.random() * 2000);
  const flipped = performance.now();
  await client.mergePatch(path, { data: { ready: 'true' } });
  const [oursAt, pollAt] = await Promise.all([ours, poll]);
  await client.delete(path);
  return { ours: oursAt - flipped, poll: pollAt - flipped };
}

export async function readinessLatency(sim: Sim, trials = 30): Promise<LatencyResult> {
  const client = new SimClient(sim.url, 'bench');
  const runs = await Promise.all(Array.from({ length: trials }, (_, i) => trial(sim, client, i)));
  const stats = (xs: number[]): { median: number; p95: number } => ({ median: percentile(xs, 50), p95: percentile(xs, 95) });
  return { trials, oursMs: stats(runs.map((r) => r.ours)), pollMs: stats(runs.map((r) => r.poll)) };
}
