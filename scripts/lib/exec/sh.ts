// The one shell seam (google/zx). Every external command goes through run() or probe():
// the binary and its arguments are passed as values and quoted by zx, never assembled
// into a command string. Output goes to an onLine callback (the step renderer), never to
// the console. A child runs in its own process group so that Ctrl-C (the signal) and
// timeouts stop it together with whatever it started (kind, helm and docker all fork).
import { basename } from 'node:path';
import { $, type ProcessOutput, type ProcessPromise } from 'zx/core';
import { commandEnded, commandStarted } from '../activity.ts';
import { InterruptedError, SandboxError, TimeoutError } from '../errors.ts';

export interface RunOptions {
  /** Aborted on Ctrl-C: the child (and its children) are killed. */
  signal?: AbortSignal;
  /** Written to the child's stdin. */
  input?: string;
  /** Merged over the current environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Every line of stdout and stderr, as it arrives. */
  onLine?: (line: string) => void;
  /** Kill the child after this long and throw a TimeoutError. */
  timeoutMs?: number;
  /** Through a Toolbox: which of the processes waiting for a slot starts first (higher first; see slots.ts). */
  priority?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface ProbeResult {
  ok: boolean;
  /** Exit code; null when the child was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero; its output is kept for diagnostics. */
export class CommandError extends SandboxError {
  readonly argv: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(message: string, fields: { argv: string[]; code: number | null; stdout: string; stderr: string; hint?: string }) {
    super(message, { hint: fields.hint });
    this.name = 'CommandError';
    this.argv = fields.argv;
    this.code = fields.code;
    this.stdout = fields.stdout;
    this.stderr = fields.stderr;
  }
}

/**
 * How long a child may take to end after SIGTERM (Ctrl-C, a timeout) before it is killed: helm
 * uses it to mark its release failed; a child that ignores it must not hold the command up.
 */
export const TERM_GRACE_MS = 3_000;

// Children still running, killed when this process exits so that nothing is orphaned
// (they are in their own process groups, out of reach of the terminal's Ctrl-C).
const live = new Set<number>();
let exitHookInstalled = false;
function track(pid: number | undefined, what: string): void {
  if (pid === undefined) return;
  live.add(pid);
  commandStarted(pid, what);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of live) killGroup(p, 'SIGKILL');
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function childEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  // zx runs the command through bash; Debian's bash sources ~/.bashrc when stdin is a
  // socket (node's pipes are) and SHLVL is unset, which adds noise to stderr and time.
  if (env.SHLVL === undefined) env.SHLVL = '1';
  return env;
}

/** `kind create cluster --name x`, with long arguments shortened, for messages. */
export function describeCommand(bin: string, args: readonly string[]): string {
  const shown = args.map((a) => {
    const s = a.length > 80 ? `${a.slice(0, 77)}...` : a;
    return /[\s"'$`\\]/.test(s) || s === '' ? JSON.stringify(s) : s;
  });
  return [basename(bin), ...shown].join(' ');
}

/** The last few non-empty lines of a command's output, for error messages. */
export function lastLines(text: string, count = 5): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-count)
    .join('\n');
}

interface Outcome {
  output: ProcessOutput;
  timedOut: boolean;
  aborted: boolean;
}

function lineSplitter(onLine: (line: string) => void): { push(chunk: unknown): void; flush(): void } {
  let buf = '';
  return {
    push(chunk: unknown): void {
      buf += String(chunk);
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    },
    flush(): void {
      if (buf !== '') onLine(buf);
      buf = '';
    },
  };
}

async function execute(bin: string, args: string[], opts: RunOptions): Promise<Outcome> {
  const what = describeCommand(bin, args);
  if (opts.signal?.aborted) throw interrupted(what);
  const shell = $({
    env: childEnv(opts.env),
    cwd: opts.cwd,
    input: opts.input,
    nothrow: true,
    quiet: true,
    verbose: false,
    detached: true,
    // Without input, stdin is closed so a tool never waits for a keyboard.
    stdio: opts.input === undefined ? ['ignore', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
  });
  const child: ProcessPromise = shell`${bin} ${args}`;
  const pid = child.pid;
  track(pid, what);

  if (opts.onLine) {
    const out = lineSplitter(opts.onLine);
    const err = lineSplitter(opts.onLine);
    child.stdout.on('data', (c: unknown) => out.push(c));
    child.stderr.on('data', (c: unknown) => err.push(c));
    child.stdout.on('end', () => out.flush());
    child.stderr.on('end', () => err.flush());
  }

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (child.pid === undefined || killTimer) return;
    killGroup(child.pid, 'SIGTERM');
    const group = child.pid;
    killTimer = setTimeout(() => killGroup(group, 'SIGKILL'), TERM_GRACE_MS);
  };
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const output = await child;
    return { output, timedOut, aborted };
  } finally {
    if (timer) clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (pid !== undefined) {
      live.delete(pid);
      commandEnded(pid);
    }
  }
}

function interrupted(what: string): SandboxError {
  return new InterruptedError(`${what} was interrupted`);
}

/** Runs a command and returns its output; throws a CommandError when it fails. */
export async function run(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const what = describeCommand(bin, args);
  const { output, timedOut, aborted } = await execute(bin, args, opts);
  const stdout = output.stdout;
  const stderr = output.stderr;
  if (aborted) throw interrupted(what);
  if (timedOut) {
    throw new TimeoutError(`${what} did not finish within ${formatMs(opts.timeoutMs ?? 0)}`, {
      lastSeen: lastLines(stderr || stdout, 1) || '(no output)',
      hint: 'the tool may be waiting on a slow or unreachable service; re-run with --verbose to see its output',
    });
  }
  if (output.exitCode !== 0) {
    const tail = lastLines(stderr) || lastLines(stdout) || '(no output)';
    const code = output.exitCode;
    throw new CommandError(`${what} failed (exit ${code ?? output.signal ?? 'unknown'}): ${tail}`, {
      argv: [bin, ...args],
      code,
      stdout,
      stderr,
    });
  }
  return { stdout, stderr };
}

/** Runs a command for its answer; never throws on failure (only on Ctrl-C). */
export async function probe(bin: string, args: string[], opts: RunOptions = {}): Promise<ProbeResult> {
  const { output, aborted, timedOut } = await execute(bin, args, opts);
  if (aborted) throw interrupted(describeCommand(bin, args));
  const code = timedOut ? null : output.exitCode;
  return { ok: code === 0, code, stdout: output.stdout, stderr: output.stderr };
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}
