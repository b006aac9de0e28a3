// Every fault knob of the simulated cluster, and what the real CLI does about it: retry
// where the fault is transient, a clear error (with the diagnostics bundle) where it is not.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim, type SimFaults } from '../sim/harness.ts';

const STEPS = ['up', '--only', 'preflight,cluster,minio'];

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function upWith(faults: SimFaults, config?: object, extra: string[] = []): Promise<{ sim: Sim; res: CliResult }> {
  sim = await startSim({ faults });
  const args = [...STEPS, ...extra];
  if (config) {
    const file = join(sim.dir, 'sandbox.yaml');
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const res = await runCli(args, { env: sim.env, timeoutMs: 90_000 });
  return { sim, res };
}

function artifactsOf(res: CliResult): string {
  const m = /diagnostics: (\S+)/.exec(res.stderr);
  expect(m, `no diagnostics path in:\n${res.stderr}`).not.toBeNull();
  return m![1]!;
}

function stepMs(res: CliResult, id: string): number {
  const report = JSON.parse(res.stdout) as { steps: Array<{ id: string; ms: number }> };
  return report.steps.find((s) => s.id === id)!.ms;
}

describe('transient faults: the CLI retries and succeeds', () => {
  it('API 500s are retried', async () => {
    const { sim, res } = await upWith({ api500: { count: 6 } });
    expect(res.code, res.stderr).toBe(0);
    // Every injected 500 was consumed by the CLI's requests, and it still got through.
    expect((await sim.faults()).api500).toBeUndefined();
  });

  it('dropped watches are re-established and waits still finish', async () => {
    const { sim, res } = await upWith({ watchDrop: { afterEvents: 1 } });
    expect(res.code, res.stderr).toBe(0);
    // The knob fired: the CLI's watches were cut again and again, and every wait still finished.
    expect((await sim.faultCounts()).watchesDropped).toBeGreaterThan(1);
  });

  it('API latency only slows things down', async () => {
    const { sim, res } = await upWith({ latencyMs: 30 });
    expect(res.code, res.stderr).toBe(0);
    // The knob fired: the CLI's requests were held back, and the run still succeeded.
    expect((await sim.faultCounts()).delayedRequests).toBeGreaterThan(10);
  });

  it('slow readiness is waited for', async () => {
    const { res } = await upWith({ slowReadinessMs: 1500 }, undefined, ['--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(stepMs(res, 'minio')).toBeGreaterThanOrEqual(1500);
  });

  it('a tool that fails once: the run fails with its message, and a re-run converges', async () => {
    const { sim, res } = await upWith({ tools: [{ tool: 'kind', match: '^create cluster', message: 'ERROR: failed to create cluster: node(s) already exist', times: 1 }] });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERROR: failed to create cluster');
    expect(res.stderr).not.toMatch(/^\s+at .+\(/m);
    const again = await runCli(STEPS, { env: sim.env, timeoutMs: 90_000 });
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('permanent faults: a clear error, the diagnostics bundle, no stack trace', () => {
  it('a pod that never gets Ready: timeout naming the rollout and the last value seen', async () => {
    const { res } = await upWith({ neverReady: ['^minio-[a-z0-9]+-[a-z0-9]+$'] }, { timeouts: { stepSeconds: 3 } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/timed out after 3s waiting for .*minio\/minio/);
    expect(res.stderr).toMatch(/last seen: .*0\/1 available/);
    const dir = artifactsOf(res);
    expect(existsSync(join(dir, 'error.txt'))).toBe(true);
    expect(existsSync(join(dir, 'minio', 'events.txt'))).toBe(true);
  });

  it('an image that cannot be pulled: the image, the pod, the node and the kubelet event', async () => {
    const { res } = await upWith({ unpullableImages: ['^quay\\.io/minio/minio:'] });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot pull image "quay\.io\/minio\/minio:RELEASE[^"]+" for pod minio\/minio-\S+ on node flink-sandbox-worker: Failed to pull image/);
    expect(res.ms).toBeLessThan(30_000);
    const dir = artifactsOf(res);
    expect(readFileSync(join(dir, 'minio', 'events.txt'), 'utf8')).toMatch(/Failed to pull image "quay\.io\/minio\/minio/);
  });

  it('too little Docker memory: refusal with the numbers and the minimal profile suggested', async () => {
    const { sim, res } = await upWith({ docker: { memBytes: 2 * 1024 ** 3 } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Docker has 2\.0 GiB of memory, but profile "full" requests \d+\.\d GiB/);
    expect(res.stderr).toContain('--profile minimal');
    expect(existsSync(join(artifactsOf(res), 'error.txt'))).toBe(true);
    expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toEqual([]);
  });
});
