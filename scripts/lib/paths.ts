// Where the sandbox reads its own files and writes its state.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'manifests'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start, '..');
    dir = up;
  }
}

/** The installed package (holds manifests/, kind-config.yaml, job/). */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

export function packagePath(...parts: string[]): string {
  return join(packageRoot, ...parts);
}

/** Per-project state: run records and diagnostics bundles (`.sandbox/` in the working dir). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SANDBOX_STATE_DIR ?? join(process.cwd(), '.sandbox'));
}

/** Per-user cache for downloaded tools, following XDG on Linux and the OS convention elsewhere. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SANDBOX_CACHE_DIR) return resolve(env.SANDBOX_CACHE_DIR);
  const home = homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'flink-sandbox');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'flink-sandbox', 'cache');
  return join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'flink-sandbox');
}

export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
