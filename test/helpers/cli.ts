// Runs the built CLI (bin/sandbox.js) as a child process, the way a user runs it, on the
// same Node as the tests, with exactly the environment given (e.g. a simulation's `env`).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT: string = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'sandbox.js');

export interface CliResult {
  /** Exit code; 128 + signal number when killed by a signal (as shells report it). */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
}

export interface CliOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the CLI after this long (default 60 s); the result then has code 128 + 15 (or 9). */
  timeoutMs?: number;
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string;
  /** Sends this signal to the CLI once `when` resolves (e.g. a line seen in its output) - a user's Ctrl-C. */
  interrupt?: { signal: NodeJS.Signals; when: (output: () => string) => Promise<void> };
  /** Another copy of bin/sandbox.js (a package copy with one file changed); default: this checkout's. */
  bin?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading its input
    child.stdin.end(opts.input ?? '');
    if (opts.interrupt) {
      const { signal, when } = opts.interrupt;
      void when(() => stdout + stderr).then(() => child.kill(signal));
    }
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

/**
 * `sandbox open <ui> --json` as a user runs it: once it prints its URL, `whileOpen` gets the
 * output so far (to use the port-forward), then Ctrl-C ends it.
 */
export function runOpen(ui: string, env: Record<string, string | undefined>, whileOpen: (output: string) => Promise<void> = async () => undefined): Promise<CliResult> {
  return runCli(['open', ui, '--json'], {
    env,
    timeoutMs: 30_000,
    interrupt: {
      signal: 'SIGINT',
      when: async (out) => {
        while (!out().includes('"url"')) await new Promise((r) => setTimeout(r, 50));
        await whileOpen(out());
      },
    },
  });
}
