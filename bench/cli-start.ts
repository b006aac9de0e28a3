// CLI start: `sandbox --help` and `sandbox status --json` on a stopped sandbox (no cluster, no
// kubeconfig), through the bin directly and through `npx`; the difference is npm's own start.
// The median of several runs, as one run on a shared machine says little.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../test/helpers/cli.ts';
import { percentile } from './readiness.ts';

export interface StartResult {
  command: string;
  binMs: number;
  npxMs: number;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - started));
  });
}

async function median(runs: number, once: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  return percentile(times, 50);
}

export async function cliStart(runs = 7): Promise<StartResult[]> {
  const home = mkdtempSync(join(tmpdir(), 'sandbox-bench-'));
  // No kubeconfig and an empty state dir: the sandbox is not there.
  const env = {
    PATH: [join(REPO_ROOT, 'node_modules', '.bin'), dirname(process.execPath), process.env.PATH ?? ''].join(':'),
    HOME: home,
    KUBECONFIG: join(home, 'no-kubeconfig'),
    SANDBOX_STATE_DIR: join(home, 'state'),
    SANDBOX_CACHE_DIR: join(home, 'cache'),
    CI: 'true',
    NO_COLOR: '1',
  };
  const bin = join(REPO_ROOT, 'bin', 'sandbox.js');
  try {
    const out: StartResult[] = [];
    for (const args of [['--help'], ['status', '--json']]) {
      const binMs = await median(runs, () => timed(process.execPath, [bin, ...args], env));
      const npxMs = await median(runs, () => timed('npx', ['sandbox', ...args], env));
      out.push({ command: `sandbox ${args.join(' ')}`, binMs, npxMs });
    }
    return out;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
