// What `up` shows while it runs, in both of listr2's renderers: the plain timestamped one
// (no terminal, CI) and the default one (a terminal, driven here through a pseudo-terminal).
// Every line names its step; a failure in the first second shows the error, its hint and one
// line of what did not run, not a line per step that never started.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { pipeline } from '../../scripts/steps/index.ts';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

const steps = pipeline({ ...defaults, with: ['ui'] });
const TITLES = steps.map((s) => s.title);
const IDS = steps.map((s) => s.id);
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** A line of the plain renderer: icon, [hh:mm:ss], text. */
const PLAIN_LINE = /^([❯›✔✖↓]) \[\d\d:\d\d:\d\d\] ?(.*)$/;

function namesAStep(text: string): boolean {
  return TITLES.some((t) => text.startsWith(t)) || IDS.some((id) => text.startsWith(`${id}: `));
}

/** Runs the built CLI under a pseudo-terminal (util-linux `script`) 160 columns wide; returns the transcript without ANSI codes. */
function inTerminal(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const cmd = `stty cols 160 rows 50 2>/dev/null; exec ${process.execPath} ${join(REPO_ROOT, 'bin', 'sandbox.js')} ${args.join(' ')}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, cwd: REPO_ROOT });
    let screen = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replace(ANSI, '').replace(/\r/g, '') });
    });
  });
}

describe('a failure in the first second (no Docker)', () => {
  let dir: string;
  let env: Record<string, string | undefined>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-progress-'));
    env = { PATH: process.env.PATH, HOME: dir, TERM: 'xterm', DOCKER_HOST: 'unix:///nonexistent.sock', KUBECONFIG: '/nonexistent', SANDBOX_STATE_DIR: join(dir, 'state') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plain renderer: the failed step, the error, its hint and one line of what did not run', async () => {
    const res = await runCli(['up'], { env: { ...env, CI: 'true' }, timeoutMs: 30_000 });
    expect(res.code).toBe(1);
    const lines = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(lines.filter((l) => /waiting for|SKIPPED|not run: needs/.test(l))).toEqual([]);
    for (const line of lines.filter((l) => PLAIN_LINE.test(l))) expect(namesAStep(PLAIN_LINE.exec(line)![2]!), line).toBe(true);
    expect(lines.filter((l) => l.includes('not run'))).toEqual([
      'not run because of that: cluster, minio, cert-manager, flink-operator, job-image, eck-operator, elasticsearch, logging-operator, logging-pipeline',
    ]);
    expect(res.stderr).toMatch(/^✖ Preflight: Docker and resources failed: Docker is/m);
    expect(res.stderr).toMatch(/^ {2}hint: .*start Docker/m);
    // The start and end of the step that ran, the error, the summary, the hint, the diagnostics path.
    expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(6);
  });

  it('default renderer in a terminal: no unnamed "not run" lines, and whatever waits says which step it is', async () => {
    const { code, screen } = await inTerminal(['up'], env);
    expect(code).toBe(1);
    expect(screen).toContain('✖ Preflight: Docker and resources failed');
    expect(screen).not.toMatch(/not run: needs/);
    const waiting = screen.split('\n').filter((l) => l.includes('waiting for'));
    for (const line of waiting) expect(TITLES.some((t) => line.startsWith(`› ${t}: waiting for `)), line).toBe(true);
    expect(screen.match(/not run because of that: cluster, minio/g)).toHaveLength(1);
  });
});

describe('a run that gets going', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('plain renderer: every line names its step, including each step\'s output', async () => {
    const res = await runCli(['up', '--only', 'preflight,cluster,minio'], { env: sim.env, timeoutMs: 90_000 });
    expect(res.code, res.stderr).toBe(0);
    const lines = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => PLAIN_LINE.test(l));
    expect(lines.length).toBeGreaterThan(6);
    for (const line of lines) expect(namesAStep(PLAIN_LINE.exec(line)![2]!), line).toBe(true);
    // Output lines carry the id of the step that wrote them.
    expect(lines.filter((l) => l.startsWith('›')).map((l) => PLAIN_LINE.exec(l)![2]!.split(':')[0])).toEqual(expect.arrayContaining(['preflight', 'cluster', 'minio']));
    // Each step starts once its needs are done, and only then shows up.
    const started = lines.filter((l) => l.startsWith('❯')).map((l) => PLAIN_LINE.exec(l)![2]);
    expect(started).toEqual(['Preflight: Docker and resources', 'Kubernetes cluster', 'MinIO (S3) with bucket flink-data']);
    expect(lines.findIndex((l) => l.startsWith('✔') && l.includes('Kubernetes cluster'))).toBeLessThan(lines.findIndex((l) => l.startsWith('❯') && l.includes('MinIO')));
  });
});
