// The control plane's binaries, compiled once from test/real/controlplane (a Go module that
// names kube-apiserver, kube-controller-manager and a small etcd main) and cached per
// Kubernetes version in the user cache. Only the first run compiles (about 9 minutes on two
// shared cores, most of it kube-apiserver); later runs reuse the binaries as long as the
// module's files and the build flags are unchanged (a change relinks from Go's build cache).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SandboxError } from '../../../scripts/lib/errors.ts';
import { cacheDir } from '../../../scripts/lib/paths.ts';

/** The Go module that pins the control plane. */
export const MODULE_DIR: string = fileURLToPath(new URL('../controlplane/', import.meta.url));

export interface ControlPlaneBinaries {
  /** The Kubernetes version, as pinned in go.mod (v1.36.1). */
  version: string;
  dir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  /** False when the cache already held them. */
  built: boolean;
}

const SOURCES = ['go.mod', 'go.sum', 'etcd/main.go'];
const PACKAGES = ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager', './etcd'];
const STAMP = 'source.sha256';

/** The k8s.io/kubernetes version go.mod requires. */
export async function pinnedKubernetesVersion(): Promise<string> {
  const gomod = await readFile(join(MODULE_DIR, 'go.mod'), 'utf8');
  const version = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)\b/m.exec(gomod)?.[1];
  if (!version) throw new Error('test/real/controlplane/go.mod does not require k8s.io/kubernetes');
  return version;
}

/**
 * The linker flags the Kubernetes release build sets, so /version answers v1.36.1 instead of
 * v0.0.0-master (the binary would otherwise not know its own version).
 */
function ldflags(version: string): string {
  const [major, minor] = version.slice(1).split('.');
  const vars = { gitVersion: version, gitMajor: major, gitMinor: minor, gitTreeState: 'clean' };
  const sets = Object.entries(vars).flatMap(([k, v]) => ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].map((pkg) => `-X ${pkg}.${k}=${v}`));
  return ['-s', '-w', ...sets].join(' ');
}

function buildEnv(): NodeJS.ProcessEnv {
  // Two packages at a time: the machines this runs on have two cores, shared. No cgo: static
  // binaries, and no C compiler needed. -trimpath keeps this machine's paths out of them.
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-p=2 -trimpath -buildvcs=false -mod=readonly' };
}

async function sourceHash(version: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(f).update('\0').update(await readFile(join(MODULE_DIR, f))).update('\0');
  h.update(ldflags(version)).update(buildEnv().GOFLAGS!);
  return h.digest('hex');
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; log: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(opts.log, { flags: 'a' });
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (err) => {
      out.end();
      reject(err);
    });
    child.on('close', (code) => out.end(() => resolve(code ?? 1)));
  });
}

async function goVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('go', ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', () => resolve(''));
    child.on('close', () => resolve(text.trim()));
  });
}

/** The cached binaries, compiling them first when the cache lacks them or holds stale ones. */
export async function ensureControlPlaneBinaries(onProgress: (line: string) => void = () => {}): Promise<ControlPlaneBinaries> {
  const version = await pinnedKubernetesVersion();
  const root = join(cacheDir(), 'controlplane');
  const dir = join(root, version);
  const binaries = {
    version,
    dir,
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    etcd: join(dir, 'etcd'),
  };
  const hash = await sourceHash(version);
  const stamp = await readFile(join(dir, STAMP), 'utf8').catch(() => '');
  const present = [binaries.kubeApiserver, binaries.kubeControllerManager, binaries.etcd].every((f) => existsSync(f));
  if (present && stamp.trim() === hash) return { ...binaries, built: false };

  const go = await goVersion();
  if (!go) {
    throw new SandboxError('Go is needed to build the control plane for the apiserver tests, and `go` is not on PATH', {
      hint: 'install Go 1.26 or newer (https://go.dev/dl/); the first run then compiles kube-apiserver and etcd into the user cache',
    });
  }
  // Built beside the cache entry and renamed into place, so an interrupted build never leaves
  // binaries that look complete.
  await mkdir(root, { recursive: true });
  const staging = join(root, `.${version}.${process.pid}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const log = join(root, `${version}.build.log`);
  await writeFile(log, `${go}\n`);
  onProgress(`building the ${version} control plane with ${go} (first run only; log: ${log})`);
  const code = await run('go', ['build', `-ldflags=${ldflags(version)}`, '-o', staging + '/', ...PACKAGES], { cwd: MODULE_DIR, env: buildEnv(), log });
  if (code !== 0) {
    await rm(staging, { recursive: true, force: true });
    const tail = (await readFile(log, 'utf8')).trim().split('\n').slice(-15).join('\n');
    throw new SandboxError(`go build of the control plane failed (exit ${code}):\n${tail}`, {
      hint: `the whole log is ${log}; the module proxy must be reachable (GOPROXY) on the first run`,
    });
  }
  await writeFile(join(staging, STAMP), hash + '\n');
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  return { ...binaries, built: true };
}
