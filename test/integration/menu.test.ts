// `sandbox` with no command: the interactive menu in a terminal, and never a prompt
// without one (CI must not hang).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_CONFIGMAP } from '../../scripts/steps/kit.ts';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

const UP = '\x1b[A';
const DOWN = '\x1b[B';
const ENTER = '\r';

/** Runs the CLI under a pseudo-terminal (util-linux `script`), typing each step's keys once its text shows. */
function inTerminal(steps: Array<{ after: string; keys: string }>, env: Record<string, string | undefined>): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const cmd = `${process.execPath} ${join(REPO_ROOT, 'bin', 'sandbox.js')}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, cwd: REPO_ROOT });
    let screen = '';
    let next = 0;
    let typedAt = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      const step = steps[next];
      if (step && screen.indexOf(step.after, typedAt) >= 0) {
        typedAt = screen.length;
        next++;
        child.stdin.write(step.keys);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') });
    });
  });
}

const CTRL_C = '\x03';
const noCluster = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', KUBECONFIG: '/nonexistent/kubeconfig', SANDBOX_STATE_DIR: '/tmp/sandbox-menu-test' };

it('shows the menu in a terminal; an error keeps its causes and hint, the cursor stays on the action, Quit exits 0', async () => {
  // Down to "Show status", enter; once it has answered, enter again (the cursor is still on
  // it); then up twice (to "Stand up", then wrapping) to "Quit", enter.
  const { code, screen } = await inTerminal(
    [
      { after: 'what next?', keys: DOWN + ENTER },
      { after: 'no sandbox cluster reachable', keys: ENTER },
      { after: 'no sandbox cluster reachable', keys: UP + UP + ENTER },
    ],
    noCluster,
  );
  expect(screen).toContain('flink-sandbox: what next?');
  expect(screen).toContain('Run a scenario (arrives with the scenarios)');
  expect(screen.match(/✖ no sandbox cluster reachable \(context kind-flink-sandbox\)/g)).toHaveLength(2);
  expect(screen).toContain('caused by: no kubeconfig found (looked at /nonexistent/kubeconfig)');
  expect(screen).toContain('hint: run `sandbox up` first, or pass --context <kube-context>');
  expect(code).toBe(0);
}, 30_000);

it('Ctrl-C at the menu exits 130, as an interrupted command does', async () => {
  const { code } = await inTerminal([{ after: 'what next?', keys: CTRL_C }], noCluster);
  expect(code).toBe(130);
}, 30_000);

describe('Stand up the sandbox from the menu', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('asks for the profile and extras, offering what was installed last, and runs up with the answers', async () => {
    // A cluster whose install record says: profile minimal, with ui.
    expect((await sim.tool('kind', ['create', 'cluster', '--name', 'flink-sandbox'])).code).toBe(0);
    await sim.kube.create('/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: INSTALL_CONFIGMAP, namespace: 'default' },
      data: { profile: 'minimal', with: 'ui', releases: '' },
    });
    // The run then ends at once in the preflight: what it planned is in its run record.
    await sim.patchFaults({ docker: { down: true } });
    const env: Record<string, string | undefined> = { ...sim.env, TERM: 'xterm' };
    delete env.CI;
    const { code, screen } = await inTerminal(
      [
        { after: 'what next?', keys: ENTER },
        { after: 'Which profile?', keys: ENTER },
        { after: 'Extras?', keys: ENTER },
        { after: 'Docker is not reachable', keys: UP + ENTER },
      ],
      env,
    );
    expect(screen).toMatch(/❯ minimal: cluster, MinIO/);
    expect(screen).toContain('hint: start Docker');
    expect(code).toBe(0);
    const runs = join(env.SANDBOX_STATE_DIR!, 'runs');
    const files = readdirSync(runs);
    expect(files).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(runs, files[0]!), 'utf8')) as { steps: Array<{ id: string }> };
    const ids = record.steps.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['preflight', 'cluster', 'minio', 'ingress-nginx', 'heimdall']));
    expect(ids).not.toContain('eck-operator');
  }, 60_000);
});

it('never prompts without a terminal: prints the help and exits 64', async () => {
  const res = await runCli([], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  expect(res.code).toBe(64);
  expect(res.stderr).toContain('Usage: sandbox');
  expect(res.stderr).toContain('the interactive menu needs a terminal');
});
