// The README's Quick start on a fresh clone with nothing beside it: `npm ci` alone (from npm's
// local cache, which the project's own install filled) must leave a working `npx sandbox`, with
// no separate build step. The clone is of the committed HEAD, as a new user would get it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

/** The environment of a user's shell: no npm run-script variables and no project bin folder. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.toLowerCase().startsWith('npm_') && k !== 'INIT_CWD' && !k.startsWith('VITEST')) env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => !p.includes('node_modules'))
    .join(':');
  env.CI = 'true';
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeout: number): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', timeout });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('a fresh clone', () => {
  let parent: string;
  let clone: string;
  let install: { code: number; out: string };
  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'sandbox-clone-'));
    clone = join(parent, 'flink-sandbox');
    execFileSync('git', ['clone', '--quiet', REPO_ROOT, clone]);
    install = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone, 240_000);
  }, 300_000);
  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('installs with npm ci alone, which also builds the CLI', () => {
    expect(install.code, install.out.slice(-2000)).toBe(0);
    expect(install.out).toContain('node scripts/build.mjs');
  });

  it('runs `npx sandbox --help` and `npx sandbox up --dry-run` with nothing beside it', () => {
    const help = run('npx', ['--no-install', 'sandbox', '--help'], clone, 60_000);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain('Usage: sandbox');
    const version = run('npx', ['--no-install', 'sandbox', '--version'], clone, 60_000);
    expect(version.code, version.out).toBe(0);
    expect(version.out.trim()).toBe((JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { version: string }).version);

    const plan = run('npx', ['--no-install', 'sandbox', 'up', '--dry-run'], clone, 60_000);
    expect(plan.code, plan.out).toBe(0);
    for (const step of ['cluster', 'minio', 'cert-manager', 'flink-operator', 'eck-operator', 'logging-pipeline']) expect(plan.out).toContain(step);
  });

  it("runs through the bin with the system's own Node, handing over to the project's Node when that one is too old", () => {
    const help = run('node', [join(clone, 'bin', 'sandbox.js'), '--help'], parent, 60_000);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain('Usage: sandbox');
    // Exit codes pass through the hand-over unchanged (64: bad usage).
    expect(run('node', [join(clone, 'bin', 'sandbox.js'), 'no-such-command'], parent, 60_000).code).toBe(64);
  });

  it('runs from outside the project folder once linked (what `npm link` does, into a temporary prefix)', () => {
    const prefix = join(parent, 'global');
    const link = run('npm', ['install', '--global', '--prefix', prefix, clone], parent, 120_000);
    expect(link.code, link.out).toBe(0);
    const elsewhere = mkdtempSync(join(parent, 'elsewhere-'));
    const help = run(join(prefix, 'bin', 'sandbox'), ['--help'], elsewhere, 60_000);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain('Usage: sandbox');
  });
});
