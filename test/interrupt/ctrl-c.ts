// Ctrl-C as a terminal sends it: the built CLI runs in a process group of its own and SIGINT goes
// to that group (the CLI puts the tools it runs in groups of their own, so they get only what the
// CLI sends them). Meanwhile every process the CLI starts is noted from /proc, so that a test
// can tell whether any of them outlived it, and the simulation's open client watches are read.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';

/**
 * The CLI under test: this checkout's build, or the copy SANDBOX_BIN names (a build of its own,
 * for a machine where others rebuild dist/ while the tier runs).
 */
export const BIN: string = process.env.SANDBOX_BIN ?? join(REPO_ROOT, 'bin', 'sandbox.js');

export interface Exit {
  code: number;
  /** From the (first) signal to the exit, in ms. */
  afterSignalMs: number;
}

export interface Running {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr together, in arrival order. */
  output(): string;
  /**
   * Resolves when `pattern` shows up in the output; rejects after `timeoutMs` (150 s: reaching a
   * phase is not what these tests judge, and the CLI has its own limits) with the output.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGINT to the CLI's process group, as a terminal's Ctrl-C. */
  ctrlC(): void;
  /** A second Ctrl-C: the exit, and how long after this press it came. */
  ctrlCAgain(): Promise<Exit & { afterSecondMs: number }>;
  exited: Promise<Exit>;
  /** Every process the CLI started (children and theirs) seen while it ran, by pid and start time. */
  descendants(): Map<number, string>;
}

interface ProcInfo {
  state: string;
  ppid: number;
  start: string;
  comm: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after it are what we need.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const rest = stat.slice(close + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]), start: rest[19]!, comm };
  } catch {
    return undefined;
  }
}

function descendantsOf(root: number, into: Map<number, string>): void {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = procInfo(pid);
    if (!info) continue;
    const list = parent.get(info.ppid) ?? [];
    list.push(pid);
    parent.set(info.ppid, list);
  }
  const queue = [...(parent.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    const info = procInfo(pid);
    if (info) into.set(pid, `${info.start} ${info.comm}`);
    queue.push(...(parent.get(pid) ?? []));
  }
}

/**
 * The processes of `seen` still alive (the same pid with the same start time). A zombie is dead:
 * an orphan's exit status waits for a reaper, which a container's first process may never be.
 */
export function stillAlive(seen: Map<number, string>): string[] {
  const out: string[] = [];
  for (const [pid, id] of seen) {
    const info = procInfo(pid);
    if (info && info.state !== 'Z' && `${info.start} ${info.comm}` === id) out.push(`${pid} ${info.comm} (${info.state})`);
  }
  return out;
}

const started = new Set<number>();

/** Ends every CLI still running (a test that failed half-way), so the next one starts alone. */
export async function stopAll(): Promise<void> {
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  started.clear();
  await new Promise((r) => setTimeout(r, 100));
}

export function startCli(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let all = '';
  // When each piece of output came, for a failure message that shows where the CLI stalled.
  const startedAt = Date.now();
  const stamps: Array<{ at: number; offset: number }> = [];
  const take = (d: string): void => {
    stamps.push({ at: Date.now() - startedAt, offset: all.length });
    all += d;
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    take(d);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    take(d);
  });
  const timed = (): string =>
    stamps
      .map((s, i) => `+${String(s.at).padStart(6)} ms ${all.slice(s.offset, stamps[i + 1]?.offset ?? all.length).trimEnd().replaceAll('\n', '\n          ')}`)
      .join('\n');
  const pid = child.pid!;
  started.add(pid);
  const seen = new Map<number, string>();
  const sampler = setInterval(() => descendantsOf(pid, seen), 25);
  let signalledAt: number | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      resolve({ code: code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15), afterSignalMs: signalledAt === undefined ? -1 : Date.now() - signalledAt });
    });
  });
  // A test that fails half-way must not leave the CLI running.
  const guard = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, 240_000);
  void exited.then(() => {
    clearTimeout(guard);
    started.delete(pid);
  });
  return {
    pid,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => all,
    async waitFor(pattern, timeoutMs = 150_000) {
      const deadline = Date.now() + timeoutMs;
      let done = false;
      void exited.then(() => (done = true));
      while (!pattern.test(all)) {
        if (done) throw new Error(`the CLI exited before ${pattern} showed up:\n${timed()}`);
        if (Date.now() > deadline) throw new Error(`never saw ${pattern} within ${timeoutMs} ms, in:\n${timed()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      // What it started just before the line is part of what a Ctrl-C must stop.
      descendantsOf(pid, seen);
    },
    ctrlC() {
      descendantsOf(pid, seen);
      signalledAt ??= Date.now();
      process.kill(-pid, 'SIGINT');
    },
    async ctrlCAgain() {
      const second = Date.now();
      process.kill(-pid, 'SIGINT');
      const exit = await exited;
      return { ...exit, afterSecondMs: Date.now() - second };
    },
    exited,
    descendants: () => seen,
  };
}

/**
 * A folder of stand-ins for the fake tools, put first on PATH: a call whose arguments match
 * `slow` hangs (like a tool waiting on a daemon) before it runs; `ignoreTerm` makes that wait
 * deaf to SIGTERM, like a tool that does not stop when asked. Other calls run as they are.
 */
export function slowTools(dir: string, fakeBinDir: string, slow: Partial<Record<'kind' | 'helm' | 'docker', string>>, opts: { ignoreTerm?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of ['kind', 'helm', 'docker'] as const) {
    const pattern = slow[tool];
    const hold = pattern ? `case " $* " in *" ${pattern} "*) ${opts.ignoreTerm ? "trap '' TERM; " : ''}sleep 60;; esac\n` : '';
    writeFileSync(join(dir, tool), `#!/bin/sh\n${hold}exec "${join(fakeBinDir, tool)}" "$@"\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
}

/** Open watches of clients (the CLI) on the simulated API server. */
export async function clientWatches(simUrl: string): Promise<number> {
  const res = await fetch(`${simUrl}/_sim/state`);
  return ((await res.json()) as { clientWatches: number }).clientWatches;
}
