// The faults before and around the cluster: Docker missing or too small, kind failing, and two
// `sandbox up` at once (the product's lock), each through the built CLI against its own simulation.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { MINIO_POD, STEPS, closeSimAfterEach, convergesAgain, expectReported, freshSim, kindCreates, upWith } from './kit.ts';

closeSimAfterEach();

describe('faults before the cluster: Docker, kind', () => {
  it('Docker missing: refused in seconds with how to start it; kind is never called', async () => {
    const { sim, res } = await upWith({ docker: { down: true } });
    // The fault fired: the CLI asked the (fake) docker, which could not reach its daemon.
    expect((await sim.calls('docker')).some((c) => c.argv[0] === 'info')).toBe(true);
    expectReported(res, { message: /Docker is not reachable: Cannot connect to the Docker daemon/, hint: /start Docker/ });
    expect(await kindCreates(sim)).toEqual([]);
    await sim.patchFaults({ docker: null });
    await convergesAgain(sim);
  });

  it('too little Docker memory: refusal with the numbers and the minimal profile suggested', async () => {
    const { sim, res } = await upWith({ docker: { memBytes: 2 * 1024 ** 3 } });
    const { hint } = expectReported(res, { message: /Docker has 2\.0 GiB of memory, but profile "full" requests \d+\.\d GiB/, hint: /--profile minimal/ });
    expect(hint).toContain('--profile minimal');
    expect(await kindCreates(sim)).toEqual([]);
    await sim.patchFaults({ docker: null });
    await convergesAgain(sim);
  });

  it('kind create fails: its own error, a hint, and a re-run converges', async () => {
    const { sim, res } = await upWith({ tools: [{ tool: 'kind', match: '^create cluster', message: 'ERROR: failed to create cluster: node(s) already exist', times: 1 }] });
    // The fault fired on the one `kind create cluster` call.
    expect(await kindCreates(sim)).toHaveLength(1);
    expectReported(res, { message: /kind create cluster.*failed \(exit 1\): ERROR: failed to create cluster: node\(s\) already exist/, hint: /sandbox down|port|doctor/ });
    expect((await sim.faults()).tools).toEqual([]);
    await convergesAgain(sim);
    expect(await kindCreates(sim)).toHaveLength(2);
  });
});

describe('two `sandbox up` at once', () => {
  it('the second stops at once naming the first; the first finishes; nothing is left locked', async () => {
    const s = await freshSim({ faults: { neverReady: [MINIO_POD] } });
    const lock = join(s.env.SANDBOX_CACHE_DIR!, 'locks', 'kind-flink-sandbox.lock');
    const first = runCli(STEPS, { env: s.env, timeoutMs: 120_000 });
    // The first has created the cluster and holds the lock while it waits for MinIO.
    const deadline = Date.now() + 60_000;
    while (!(existsSync(lock) && (await kindCreates(s)).length === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const holder = JSON.parse(readFileSync(lock, 'utf8')) as { pid: number };

    const second = await runCli(STEPS, { env: s.env, timeoutMs: 30_000 });
    expect(second.ms).toBeLessThan(15_000);
    expectReported(second, {
      message: new RegExp(`another \`sandbox up\` \\(pid ${holder.pid}, started \\S+\\) is already changing the cluster of context kind-flink-sandbox`),
      hint: /wait for it to finish/,
    });
    // The second touched nothing: one cluster creation, by the first, which still holds the lock.
    expect(await kindCreates(s)).toHaveLength(1);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual(holder);

    await s.patchFaults({ neverReady: null });
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    await convergesAgain(s);
    expect(await kindCreates(s)).toHaveLength(1);
  });

  it('a lock left by a run that was killed is taken over', async () => {
    const sim = await freshSim();
    const lock = join(sim.env.SANDBOX_CACHE_DIR!, 'locks', 'kind-flink-sandbox.lock');
    // A process that has exited: its pid is free.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    mkdirSync(join(lock, '..'), { recursive: true });
    writeFileSync(lock, JSON.stringify({ pid: gone.pid, command: 'up', startedAt: new Date(0).toISOString() }));
    await convergesAgain(sim);
    expect(existsSync(lock)).toBe(false);
  });
});
