// What every fault of the matrix is held to: the CLI ends with the right exit code and a specific
// message, a `hint:` line saying what to do, no stack trace, and the diagnostics bundle written
// (its error.txt saying the same). The re-run after the fault clears is each test's own.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim, type SimFaults, type SimOptions } from '../sim/harness.ts';

/** The steps most faults need: the cluster and one workload. */
export const STEPS = ['up', '--only', 'preflight,cluster,minio'];
/** The MinIO server's pod (not its bucket Job's). */
export const MINIO_POD = '^minio-[a-z0-9]+-[a-z0-9]+$';

let current: Sim | undefined;

/** Each test of the file gets a simulation of its own (freshSim), closed after it. */
export function closeSimAfterEach(): void {
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

export async function freshSim(opts: SimOptions = {}): Promise<Sim> {
  current = await startSim(opts);
  return current;
}

/** `sandbox up` (STEPS and `extra`) on a fresh simulation with these knobs set from the start. */
export async function upWith(faults: SimFaults, config?: object, extra: string[] = []): Promise<{ sim: Sim; res: CliResult }> {
  const sim = await freshSim({ faults });
  const args = [...STEPS, ...extra];
  if (config) {
    const file = join(sim.dir, 'sandbox.yaml');
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const res = await runCli(args, { env: sim.env, timeoutMs: 90_000 });
  return { sim, res };
}

/**
 * A fresh simulation with the cluster already up (`up --only preflight,cluster`), then the knobs
 * set: the run that meets the fault is timed and bounded by its own step alone.
 */
export async function clusterThen(faults: SimFaults): Promise<Sim> {
  const sim = await freshSim();
  await convergesAgain(sim, ['up', '--only', 'preflight,cluster']);
  await sim.patchFaults(faults);
  return sim;
}

/** A config file in the sim's dir: the sim's download overrides plus `extra` YAML. */
export function configWith(sim: Sim, extra: string): string {
  const file = join(sim.dir, `sandbox-${Math.random().toString(36).slice(2, 8)}.yaml`);
  writeFileSync(file, `${readFileSync(sim.configFile, 'utf8')}${extra}`);
  return file;
}

/** The fault cleared: the same `up` again ends with exit 0. */
export async function convergesAgain(sim: Sim, args: string[] = STEPS): Promise<CliResult> {
  const again = await runCli(args, { env: sim.env, timeoutMs: 120_000 });
  expect(again.code, again.stderr).toBe(0);
  return again;
}

/** The `kind create` calls the fake kind received. */
export async function kindCreates(sim: Sim): Promise<unknown[]> {
  return (await sim.calls('kind')).filter((c) => c.argv[0] === 'create');
}

export interface Reported {
  /** The diagnostics bundle the CLI printed. */
  bundle: string;
  /** The text of the `hint:` line. */
  hint: string;
}

/** Asserts the failure was reported as the matrix demands; returns the bundle and the hint. */
export function expectReported(res: CliResult, o: { code?: number; message: RegExp; hint: RegExp }): Reported {
  const all = `${res.stderr}\n${res.stdout}`;
  expect(res.code, all).toBe(o.code ?? 1);
  expect(res.stderr).toMatch(o.message);
  expect(res.stderr, 'a stack trace is printed').not.toMatch(/^\s+at .+\(/m);
  const hint = /^\s*hint: (.+)$/m.exec(res.stderr)?.[1];
  expect(hint, `no hint line in:\n${res.stderr}`).toBeDefined();
  expect(hint).toMatch(o.hint);
  const bundle = /diagnostics: (\S+)/.exec(res.stderr)?.[1];
  expect(bundle, `no diagnostics path in:\n${res.stderr}`).toBeDefined();
  const errorTxt = join(bundle!, 'error.txt');
  expect(existsSync(errorTxt), `${errorTxt} missing`).toBe(true);
  expect(readFileSync(errorTxt, 'utf8')).toMatch(o.message);
  return { bundle: bundle!, hint: hint! };
}

/** A file of the bundle (it must exist). */
export function bundleFile(bundle: string, rel: string): string {
  const file = join(bundle, rel);
  expect(existsSync(file), `${rel} missing from the bundle`).toBe(true);
  return readFileSync(file, 'utf8');
}

/** The run wrote no diagnostics bundle (nothing failed). */
export function expectNoBundle(res: CliResult, stateDir: string): void {
  expect(res.stderr).not.toMatch(/diagnostics: /);
  expect(existsSync(join(stateDir, 'artifacts'))).toBe(false);
}
