// `sandbox down` holds the same per-context lock as `sandbox up`: each refuses at once while the
// other runs (naming it), the running one finishes untouched, and a lock left by a killed run is
// taken over. Through the built CLI against a simulation; each test first proves that both
// processes really ran at once (the holder alive and mid-way) before it looks at the refusal.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { FAKE_BIN_DIR, type Sim } from '../sim/harness.ts';
import { MINIO_POD, STEPS, closeSimAfterEach, convergesAgain, expectReported, freshSim, kindCreates } from './kit.ts';
import { alive } from '../helpers/process.ts';

closeSimAfterEach();

interface Owner {
  pid: number;
  command: string;
  startedAt: string;
}

function lockOf(sim: Sim): string {
  return join(sim.env.SANDBOX_CACHE_DIR!, 'locks', 'kind-flink-sandbox.lock');
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A run still going: its result, and whether it has ended yet. */
function running(run: Promise<CliResult>): { result: Promise<CliResult>; ended: () => boolean } {
  let ended = false;
  const result = run.finally(() => {
    ended = true;
  });
  return { result, ended: () => ended };
}

async function kindDeletes(sim: Sim): Promise<unknown[]> {
  return (await sim.calls('kind')).filter((c) => c.argv[0] === 'delete');
}

/**
 * A stand-in `kind` first on PATH that holds `kind delete cluster` until the test opens the
 * gate (at most 60 s), after saying it got there; every other call goes to the fake kind.
 */
function gatedKind(sim: Sim): { env: Record<string, string>; reached: string; open: () => void } {
  const dir = join(sim.dir, 'gated-bin');
  mkdirSync(dir, { recursive: true });
  const reached = join(dir, 'reached');
  const gate = join(dir, 'open');
  const hold = `case " $* " in *" delete cluster "*) : > '${reached}'; n=0; while [ ! -e '${gate}' ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done;; esac`;
  writeFileSync(join(dir, 'kind'), `#!/bin/sh\n${hold}\nexec '${join(FAKE_BIN_DIR, 'kind')}' "$@"\n`);
  chmodSync(join(dir, 'kind'), 0o755);
  return { env: { ...sim.env, PATH: `${dir}:${sim.env.PATH}` }, reached, open: () => writeFileSync(gate, '') };
}

describe('`sandbox down` and `sandbox up` share the lock', () => {
  it('a down while an up runs stops at once naming the up; the up finishes; the down then deletes the cluster', async () => {
    const sim = await freshSim({ faults: { neverReady: [MINIO_POD] } });
    const lock = lockOf(sim);
    const first = running(runCli(STEPS, { env: sim.env, timeoutMs: 120_000 }));
    // The up has created the cluster and holds the lock while it waits for MinIO.
    await until('the up to create the cluster and hold the lock', async () => existsSync(lock) && (await kindCreates(sim)).length === 1);
    const holder = JSON.parse(readFileSync(lock, 'utf8')) as Owner;
    expect(holder.command).toBe('up');

    const down = await runCli(['down'], { env: sim.env, timeoutMs: 30_000 });
    // Both ran at once: the up is still running (its process alive, its run not ended) after the down ended.
    expect(first.ended()).toBe(false);
    expect(alive(holder.pid)).toBe(true);
    expect(down.ms).toBeLessThan(15_000);
    expectReported(down, {
      message: new RegExp(`another \`sandbox up\` \\(pid ${holder.pid}, started \\S+\\) is already changing the cluster of context kind-flink-sandbox`),
      hint: /wait for it to finish/,
    });
    // The down deleted nothing, and the up still holds the lock.
    expect(await kindDeletes(sim)).toEqual([]);
    expect((await sim.tool('kind', ['get', 'clusters'])).stdout).toContain('flink-sandbox');
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual(holder);

    await sim.patchFaults({ neverReady: null });
    const up = await first.result;
    expect(up.code, up.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);

    const again = await convergesAgain(sim, ['down']);
    expect(again.stdout).toContain('deleted kind cluster flink-sandbox');
    expect(await kindDeletes(sim)).toHaveLength(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('an up while a down runs stops at once naming the down; the down finishes; the next up converges', async () => {
    const sim = await freshSim();
    await convergesAgain(sim, ['up', '--only', 'preflight,cluster']);
    const lock = lockOf(sim);
    const gated = gatedKind(sim);
    const first = running(runCli(['down'], { env: gated.env, timeoutMs: 120_000 }));
    // The down is inside `kind delete cluster`, holding the lock.
    await until('the down to reach kind delete cluster', () => existsSync(gated.reached));
    const holder = JSON.parse(readFileSync(lock, 'utf8')) as Owner;
    expect(holder.command).toBe('down');

    const up = await runCli(STEPS, { env: sim.env, timeoutMs: 30_000 });
    expect(first.ended()).toBe(false);
    expect(alive(holder.pid)).toBe(true);
    expect(up.ms).toBeLessThan(15_000);
    expectReported(up, {
      message: new RegExp(`another \`sandbox down\` \\(pid ${holder.pid}, started \\S+\\) is already changing the cluster of context kind-flink-sandbox`),
      hint: /wait for it to finish/,
    });
    // The up changed nothing: no second cluster creation, and the one deletion still held.
    expect(await kindCreates(sim)).toHaveLength(1);
    expect(await kindDeletes(sim)).toEqual([]);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual(holder);

    gated.open();
    const down = await first.result;
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('deleted kind cluster flink-sandbox');
    expect(await kindDeletes(sim)).toHaveLength(1);
    expect(existsSync(lock)).toBe(false);

    await convergesAgain(sim, ['up', '--only', 'preflight,cluster']);
    expect(await kindCreates(sim)).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock left by a down that was killed is taken over by the next down', async () => {
    const sim = await freshSim();
    await convergesAgain(sim, ['up', '--only', 'preflight,cluster']);
    const lock = lockOf(sim);
    // A process that has exited: its pid is free.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(lock, JSON.stringify({ pid: gone.pid, command: 'down', startedAt: new Date(0).toISOString() }));
    const down = await convergesAgain(sim, ['down']);
    expect(down.stdout).toContain('deleted kind cluster flink-sandbox');
    expect(existsSync(lock)).toBe(false);
  });
});
