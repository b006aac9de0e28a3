// One run changing a cluster at a time (`sandbox up`, `sandbox down`). Two at once would race
// (two `kind create cluster`, two `helm upgrade --install` of one release, the second failing
// with helm's "another operation is in progress" and leaving a pending release; a `down`
// deleting the cluster under an `up` that is installing into it). The lock is a
// file in the user's cache, named after the kube context, created exclusively and holding the
// owner's pid; a lock whose process is gone (killed, machine restarted) is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxError } from './errors.ts';
import { cacheDir, newRunId } from './paths.ts';

export interface LockOwner {
  pid: number;
  command: string;
  startedAt: string;
}

export interface HeldLock {
  file: string;
  release(): void;
}

/** The lock file of a kube context (its name made safe for a file name). */
export function lockFile(context: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'locks', `${context.replace(/[^\w.-]/g, '_')}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock of `context` for `command`, or throws naming the run that holds it. */
export function acquireLock(context: string, command: string, env: NodeJS.ProcessEnv = process.env): HeldLock {
  const file = lockFile(context, env);
  mkdirSync(join(file, '..'), { recursive: true });
  const me: LockOwner = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SandboxError(`cannot create the lock file ${file}`, { cause: err, hint: 'check that the cache directory is writable (SANDBOX_CACHE_DIR or XDG_CACHE_HOME move it)' });
      }
      const owner = readOwner(file);
      // A file without an owner yet may be one being written this instant.
      const fresh = !owner && Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 5000;
      if (fresh) throw new SandboxError(`another sandbox run is taking the lock of context ${context}`, { hint: `wait for it to finish, then run this again; if none runs, delete ${file}` });
      if (owner && alive(owner.pid) && owner.pid !== process.pid) {
        throw new SandboxError(`another \`sandbox ${owner.command}\` (pid ${owner.pid}, started ${owner.startedAt}) is already changing the cluster of context ${context}`, {
          hint: `wait for it to finish (or stop it with Ctrl-C), then run this again; if no such process runs, delete ${file}`,
          data: { lock: file, owner },
        });
      }
      // Its owner is gone (or the file is half-written by a crash): take it over, once.
      if (attempt > 0) throw new SandboxError(`cannot take over the stale lock file ${file}`, { cause: err, hint: `delete ${file} and run this again` });
      rmSync(file, { force: true });
    }
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: never one another run took over.
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  // A run that ends without reaching its finally (process.exit on a second Ctrl-C) still lets go.
  process.on('exit', release);
  return { file, release };
}

/**
 * acquireLock for a command whose refusal is reported like any failure: the error carries a
 * diagnostics bundle (its error.txt) under the run's id.
 */
export async function takeLock(context: string, command: string, runId: string = newRunId()): Promise<HeldLock> {
  try {
    return acquireLock(context, command);
  } catch (err) {
    if (err instanceof SandboxError) {
      const { writeDiagnostics } = await import('./diagnostics/bundle.ts');
      err.artifacts = await writeDiagnostics(undefined, { runId, namespaces: [], error: err });
    }
    throw err;
  }
}
