// `sandbox` with no command: the interactive menu in a terminal, and never a prompt
// without one (CI must not hang).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';

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

it('shows the menu in a terminal; choosing status reports the missing cluster and the menu goes on; Quit exits 0', async () => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', KUBECONFIG: '/nonexistent/kubeconfig', SANDBOX_STATE_DIR: '/tmp/sandbox-menu-test' };
  // Down to "Show status", enter; once it has answered, up (wraps) to "Quit", enter.
  const { code, screen } = await inTerminal(
    [
      { after: 'what next?', keys: DOWN + ENTER },
      { after: 'no sandbox cluster reachable', keys: UP + ENTER },
    ],
    env,
  );
  expect(screen).toContain('flink-sandbox: what next?');
  expect(screen).toContain('Run a scenario (arrives with the scenarios)');
  expect(screen).toMatch(/no sandbox cluster reachable/);
  expect(code).toBe(0);
}, 30_000);

it('never prompts without a terminal: prints the help and exits 64', async () => {
  const res = await runCli([], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  expect(res.code).toBe(64);
  expect(res.stderr).toContain('Usage: sandbox');
  expect(res.stderr).toContain('the interactive menu needs a terminal');
});
