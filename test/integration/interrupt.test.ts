// Ctrl-C during `up`: the CLI stops its waits and child processes, exits 130 with a
// message, leaves nothing half-done, and a re-run converges.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({ faults: { neverReady: ['^minio-[a-z0-9]+-[a-z0-9]+$'] } });
});
afterAll(async () => {
  await sim?.close();
});

async function until(output: () => string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!pattern.test(output())) {
    if (Date.now() > deadline) throw new Error(`never saw ${pattern} in:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('Ctrl-C while waiting exits 130 promptly, and a re-run converges', async () => {
  const steps = ['up', '--only', 'preflight,cluster,minio'];
  const stopped = await runCli(steps, {
    env: sim.env,
    timeoutMs: 60_000,
    interrupt: { signal: 'SIGINT', when: (out) => until(out, /rollout of Deployment minio\/minio/) },
  });
  expect(stopped.code).toBe(130);
  expect(stopped.stderr).toMatch(/Ctrl-C: stopping cleanly/);
  expect(stopped.stderr).toMatch(/interrupted; nothing is left half-done: re-run the same command to continue/);
  expect(stopped.stderr).not.toMatch(/^\s+at .+\(/m);
  expect(stopped.ms).toBeLessThan(20_000);

  await sim.patchFaults({ neverReady: null });
  const again = await runCli(steps, { env: sim.env, timeoutMs: 60_000 });
  expect(again.code, again.stderr).toBe(0);
  expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toHaveLength(1);
}, 90_000);
