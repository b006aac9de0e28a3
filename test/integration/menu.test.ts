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

/** Keys to type once `after` shows (after the previous step's keys), `pauseMs` later. */
interface Step {
  after: string;
  keys: string;
  pauseMs?: number;
}

/** Runs the CLI under a pseudo-terminal (util-linux `script`), typing each step's keys once its text shows. */
function inTerminal(steps: Step[], env: Record<string, string | undefined>, { args = '', timeoutMs = 20_000 } = {}): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    // A wide terminal, so that inquirer does not wrap the lines the tests look for.
    const cmd = `stty cols 250 rows 60; exec ${process.execPath} ${join(REPO_ROOT, 'bin', 'sandbox.js')} ${args}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, cwd: REPO_ROOT });
    let screen = '';
    let next = 0;
    let typedAt = 0;
    let pausing = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const advance = (): void => {
      const step = steps[next];
      if (!step || pausing) return;
      const at = screen.indexOf(step.after, typedAt);
      if (at < 0) return;
      const type = (): void => {
        pausing = false;
        // Keys make the prompt draw itself again: look for the next text in what follows them.
        // A step without keys only marks a point; what came after its text counts.
        typedAt = step.keys ? screen.length : at + step.after.length;
        next++;
        child.stdin.write(step.keys);
        advance();
      };
      if (step.pauseMs) {
        pausing = true;
        setTimeout(type, step.pauseMs);
      } else type();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      advance();
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
  expect(screen).toContain('Run scenarios');
  expect(screen).toContain('Follow the sequence live');
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
    // A cluster whose install record says: profile minimal, with ui. Its nodes have 2 GiB (Docker's
    // memory, as kind nodes report it): the run then ends at once in the preflight, and what it
    // planned is in its run record.
    await sim.patchFaults({ docker: { memBytes: 2 * 1024 ** 3 } });
    expect((await sim.tool('kind', ['create', 'cluster', '--name', 'flink-sandbox'])).code).toBe(0);
    await sim.kube.create('/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: INSTALL_CONFIGMAP, namespace: 'default' },
      data: { profile: 'minimal', with: 'ui', releases: '' },
    });
    const env: Record<string, string | undefined> = { ...sim.env, TERM: 'xterm' };
    delete env.CI;
    const { code, screen } = await inTerminal(
      [
        { after: 'what next?', keys: ENTER },
        { after: 'Which profile?', keys: ENTER },
        { after: 'Extras?', keys: ENTER },
        { after: 'of memory, but profile', keys: UP + ENTER },
      ],
      env,
    );
    expect(screen).toMatch(/❯ minimal: cluster, MinIO/);
    expect(screen).toContain('Docker has 2.0 GiB of memory, but profile "minimal" requests');
    expect(screen).toContain('hint: give Docker more memory');
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

describe('the job from the menu, on a simulated sandbox', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim();
    const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
  }, 150_000);
  afterAll(async () => {
    await sim?.close();
  });

  it('offers to deploy a missing job, runs a scenario (and stops one with Ctrl-C), takes and lists a savepoint, suspends and resumes, follows the sequence and redeploys', async () => {
    const env: Record<string, string | undefined> = { ...sim.env, TERM: 'xterm' };
    delete env.CI;
    const SPACE = ' ';
    // Menu entries are picked by typing the start of their name (inquirer's select jumps to it).
    const { code, screen } = await inTerminal(
      [
        { after: 'what next?', keys: `susp${ENTER}` },
        { after: 'Deploy it now', keys: `n${ENTER}` },
        // deploy is the first scenario: tick it, run it; Ctrl-C stops it, back to the menu.
        { after: 'what next?', keys: `run${ENTER}` },
        { after: 'Which scenarios?', keys: SPACE + ENTER },
        { after: 'deploying hello-ha afresh', keys: CTRL_C },
        { after: 'stopped: back to the menu', keys: '' },
        { after: 'what next?', keys: `run${ENTER}` },
        { after: 'Which scenarios?', keys: SPACE + ENTER },
        { after: 'scenarios passed', keys: '' },
        { after: 'what next?', keys: `take${ENTER}` },
        { after: 'COMPLETED:', keys: '' },
        { after: 'what next?', keys: `list${ENTER}` },
        { after: 'AGE', keys: '' },
        { after: 'what next?', keys: `susp${ENTER}` },
        { after: 'Suspend it', keys: ENTER },
        { after: 'suspended:', keys: '' },
        { after: 'what next?', keys: `susp${ENTER}` },
        { after: 'Resume it', keys: ENTER },
        { after: 'resumed:', keys: '' },
        // Follow for a while, stop with q; again, stop with Ctrl-C: both lead back to the menu.
        { after: 'what next?', keys: `foll${ENTER}` },
        { after: 'records/s', keys: 'q', pauseMs: 1500 },
        { after: 'stopped following', keys: '' },
        { after: 'what next?', keys: `foll${ENTER}` },
        { after: 'records/s', keys: CTRL_C, pauseMs: 500 },
        { after: 'stopped following', keys: '' },
        { after: 'what next?', keys: `rede${ENTER}` },
        // The one taken by hand, not the suspend's upgrade savepoint.
        { after: 'from which savepoint?', keys: `hello-ha-m${ENTER}` },
        { after: 'redeployed from', keys: '' },
        { after: 'what next?', keys: `quit${ENTER}` },
      ],
      env,
      { args: `--config=${sim.configFile}`, timeoutMs: 80_000 },
    );
    const tail = screen.slice(-3000);
    expect(screen, tail).toContain('There is no hello-ha job in namespace default. Deploy it now (the deploy scenario)?');
    expect(screen, tail).toContain('Ctrl-C: stopping cleanly');
    expect(screen.match(/stopped: back to the menu/g)).toHaveLength(1);
    expect(screen, tail).toMatch(/✓ deploy \(/);
    expect(screen, tail).toContain('1 of 1 scenarios passed');
    // The savepoint taken is listed with its state and path.
    const taken = /savepoint (hello-ha-manual-\S+) COMPLETED: (\S+)/.exec(screen);
    expect(taken, tail).not.toBeNull();
    const [, name, path] = taken!;
    expect(screen).toMatch(new RegExp(`${name}\\s+hello-ha\\s+MANUAL\\s+COMPLETED\\s+${path!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\d+s`));
    // Suspend, then resume: each says the state before and after.
    expect(screen).toMatch(/hello-ha: lifecycle (STABLE|DEPLOYED), job RUNNING, JobManager READY/);
    expect(screen).toMatch(/hello-ha suspended: lifecycle SUSPENDED, job FINISHED, JobManager \S+; savepoint \S+/);
    expect(screen).toMatch(/hello-ha: lifecycle SUSPENDED, job FINISHED[^\n]*\n[^\n]*It is suspended\. Resume it from \S+\?/);
    expect(screen).toMatch(/hello-ha resumed: lifecycle (STABLE|DEPLOYED), job RUNNING, JobManager READY/);
    // The live line's last number grows while it is watched.
    const follow = screen.slice(screen.indexOf('following hello-ha'), screen.indexOf('stopped following'));
    const seen = [...follow.matchAll(/last (\d+) · ([\d.]+) records\/s/g)].map((m) => Number(m[1]));
    expect(seen.length, follow.slice(-500)).toBeGreaterThan(1);
    expect(Math.max(...seen)).toBeGreaterThan(seen[0]!);
    expect(follow).toMatch(/gaps 0 · duplicates \d+/);
    expect(screen.match(/stopped following/g)).toHaveLength(2);
    // Redeployed from that savepoint: the spec says so, and so did the menu.
    expect(screen).toMatch(/hello-ha redeployed from \S+: lifecycle (STABLE|DEPLOYED), job RUNNING, JobManager READY/);
    const fd = await sim.kube.get('/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments/hello-ha');
    expect((fd!.spec as { job: Record<string, unknown> }).job).toMatchObject({ initialSavepointPath: path, savepointRedeployNonce: 1, state: 'running' });
    expect(code, tail).toBe(0);
  }, 90_000);
});

it('never prompts without a terminal: prints the help and exits 64', async () => {
  const res = await runCli([], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  expect(res.code).toBe(64);
  expect(res.stderr).toContain('Usage: sandbox');
  expect(res.stderr).toContain('the interactive menu needs a terminal');
});
