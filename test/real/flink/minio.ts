// Real S3 storage for the real Flink: MinIO's server and `mc` at the releases the sandbox's
// manifests pin, compiled from the Go module proxy into the user cache once, then started on
// loopback with a temp data dir and generated credentials. The bucket is made by running the
// sandbox's own bucket Job script (manifests/minio/make-bucket-job.yaml) with the local `mc`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { SandboxError } from '../../../scripts/lib/errors.ts';
import { cacheDir, packagePath } from '../../../scripts/lib/paths.ts';
import { freePort } from './ports.ts';

/**
 * MinIO tags releases RELEASE.<date> and publishes no semver tags, so the module proxy serves a
 * release only as the pseudo-version of its commit (asking for the tag itself is refused here).
 * The commits are the ones the tags point at in github.com/minio/minio and github.com/minio/mc.
 */
const RELEASE_COMMITS: Record<string, { module: string; pseudo: string; commit: string }> = {
  'RELEASE.2025-09-07T16-13-09Z': { module: 'github.com/minio/minio', pseudo: 'v0.0.0-20250907161309-07c3a429bfed', commit: '07c3a429bfed433e49018cb0f78a52145d4bedeb' },
  'RELEASE.2025-08-13T08-35-41Z': { module: 'github.com/minio/mc', pseudo: 'v0.0.0-20250813083541-7394ce0dd2a8', commit: '7394ce0dd2a80935aded936b09fa12cbb3cb8096' },
};

interface ContainerSpec {
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }>;
}

async function container(manifest: string): Promise<ContainerSpec> {
  const doc = parse(await readFile(packagePath('manifests', 'minio', manifest), 'utf8')) as { spec: { template: { spec: { containers: ContainerSpec[] } } } };
  return doc.spec.template.spec.containers[0]!;
}

function releaseOf(image: string): string {
  const tag = image.split(':').pop() ?? '';
  if (!tag.startsWith('RELEASE.')) throw new Error(`image ${image} is not pinned to a MinIO RELEASE tag`);
  return tag;
}

export interface MinioReleases {
  server: string;
  client: string;
}

/** The releases manifests/minio pins (the server Deployment's and the bucket Job's images). */
export async function pinnedMinioReleases(): Promise<MinioReleases> {
  return { server: releaseOf((await container('deployment.yaml')).image), client: releaseOf((await container('make-bucket-job.yaml')).image) };
}

function ldflags(release: string, pin: { module: string; commit: string }): string {
  // What MinIO's buildscripts/gen-ldflags.go sets, so `minio --version` names the release.
  const version = release.slice('RELEASE.'.length).replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z');
  const pkg = `${pin.module}/cmd`;
  return ['-s', '-w', `-X ${pkg}.Version=${version}`, `-X ${pkg}.CopyrightYear=${version.slice(0, 4)}`, `-X ${pkg}.ReleaseTag=${release}`, `-X ${pkg}.CommitID=${pin.commit}`, `-X ${pkg}.ShortCommitID=${pin.commit.slice(0, 12)}`].join(' ');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    const child = spawn(cmd, args, { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (err: NodeJS.ErrnoException) => {
      out.end();
      reject(
        err.code === 'ENOENT'
          ? new SandboxError('Go is needed to build MinIO for the real Flink tests, and `go` is not on PATH', { hint: 'install Go 1.24 or newer; the first run compiles MinIO and mc into the user cache' })
          : err,
      );
    });
    child.on('close', (code) => out.end(() => resolve(code ?? 1)));
  });
}

/** The binary of one release, compiled by `go install <module>@<pseudo-version>` on the first call. */
async function ensureBinary(release: string, name: 'minio' | 'mc', onProgress: (line: string) => void): Promise<string> {
  const dir = join(cacheDir(), 'minio', release);
  const binary = join(dir, name);
  if (existsSync(binary)) return binary;
  const pin = RELEASE_COMMITS[release];
  if (!pin) {
    throw new SandboxError(`no module proxy pseudo-version is known for MinIO ${release}`, {
      hint: `add the commit the tag points at to RELEASE_COMMITS in test/real/flink/minio.ts (git ls-remote --tags of the MinIO repository)`,
    });
  }
  const root = join(cacheDir(), 'minio');
  await mkdir(root, { recursive: true });
  // Built beside the cache entry and renamed into place, so an interrupted build leaves nothing
  // that looks complete.
  const staging = join(root, `.${release}.${name}.${process.pid}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const log = join(root, `${release}.${name}.build.log`);
  await writeFile(log, `go install ${pin.module}@${pin.pseudo}\n`);
  onProgress(`building ${name} ${release} from the Go module proxy (first run only; log: ${log})`);
  // Two packages at a time: the machines have two cores, shared. No cgo: a static binary.
  const env = { ...process.env, GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: '-p=2 -trimpath -buildvcs=false -mod=mod', GOTOOLCHAIN: 'local' };
  const code = await run('go', ['install', `-ldflags=${ldflags(release, pin)}`, `${pin.module}@${pin.pseudo}`], env, log);
  if (code !== 0) {
    await rm(staging, { recursive: true, force: true });
    const tail = (await readFile(log, 'utf8')).trim().split('\n').slice(-15).join('\n');
    throw new SandboxError(`go install of ${name} ${release} failed (exit ${code}):\n${tail}`, { hint: `the whole log is ${log}; the Go module proxy must be reachable on the first run` });
  }
  await mkdir(dir, { recursive: true });
  await rename(join(staging, name), binary);
  await rm(staging, { recursive: true, force: true });
  return binary;
}

export interface MinioBinaries {
  releases: MinioReleases;
  minio: string;
  mc: string;
}

export async function ensureMinio(onProgress: (line: string) => void = () => {}): Promise<MinioBinaries> {
  const releases = await pinnedMinioReleases();
  // One after the other: two concurrent Go builds would each want both cores.
  const minio = await ensureBinary(releases.server, 'minio', onProgress);
  const mc = await ensureBinary(releases.client, 'mc', onProgress);
  return { releases, minio, mc };
}

export interface LocalMinio extends AsyncDisposable {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  pid: number;
  /** The server's and the bucket script's output. */
  logFile: string;
  /** HOME of `mc`, where the bucket script set the alias `sandbox` for this server. */
  mcHome: string;
  stop(): Promise<void>;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function waitReady(endpoint: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`minio exited (${child.exitCode}) during start-up; see ${logFile}`);
    // The Deployment's readiness probe path.
    const res = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2000) }).catch((err: Error) => err);
    if (!(res instanceof Error) && res.ok) return;
    last = res instanceof Error ? res.message : `HTTP ${res.status}`;
    if (Date.now() > deadline) throw new Error(`MinIO at ${endpoint} was not ready within ${timeoutMs / 1000}s; last seen: ${last}`);
    await sleep(250);
  }
}

/**
 * Starts MinIO on 127.0.0.1 and a free port with a fresh data dir, then creates the bucket with
 * the bucket Job's own script: its command, arguments and environment read from the manifest,
 * with the endpoint, HOME and the secret's values as the only local differences.
 */
export async function startMinio(bins: MinioBinaries, workDir: string, credentials?: { accessKey: string; secretKey: string }): Promise<LocalMinio> {
  const dataDir = join(workDir, 'data');
  const mcHome = join(workDir, 'mc-home');
  await mkdir(dataDir, { recursive: true });
  await mkdir(mcHome, { recursive: true });
  // Generated as scripts/steps/minio.ts generates the sandbox's credentials.
  const accessKey = credentials?.accessKey ?? `sandbox-${randomBytes(4).toString('hex')}`;
  const secretKey = credentials?.secretKey ?? randomBytes(24).toString('base64url');
  const [port, consolePort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = join(workDir, 'minio.log');
  const out = openSync(logFile, 'a');
  const server = spawn(bins.minio, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`], {
    stdio: ['ignore', out, out],
    env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
  });
  closeSync(out);
  if (server.pid === undefined) throw new Error(`could not start ${bins.minio}`);
  const pid = server.pid;
  const stop = async (): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    process.kill(pid, 'SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
  };
  try {
    await waitReady(endpoint, server, logFile, 60_000);
    const job = await container('make-bucket-job.yaml');
    const secret: Record<string, string> = { accessKey, secretKey };
    const env: NodeJS.ProcessEnv = { PATH: `${join(bins.mc, '..')}${delimiter}${process.env.PATH ?? ''}`, HOSTNAME: 'local-make-bucket' };
    for (const e of job.env ?? []) env[e.name] = e.value ?? secret[e.valueFrom?.secretKeyRef?.key ?? ''];
    // The local differences: this server's endpoint, and a HOME of our own for mc's config.
    Object.assign(env, { MINIO_ENDPOINT: endpoint, HOME: mcHome });
    const [cmd, ...cmdArgs] = [...(job.command ?? []), ...(job.args ?? [])];
    const made = await exec(cmd!, cmdArgs, env);
    await writeFile(logFile + '.bucket', made.out);
    if (made.code !== 0) throw new Error(`the bucket Job's script failed (exit ${made.code}):\n${made.out}`);
    const bucket = env.BUCKET!;
    return { endpoint, accessKey, secretKey, bucket, pid, logFile, mcHome, stop, [Symbol.asyncDispose]: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs `mc` with the given HOME (where its aliases are); returns its output, throws on failure. */
export async function runMc(mcBinary: string, home: string, args: string[]): Promise<string> {
  const r = await exec(mcBinary, ['--no-color', ...args], { ...process.env, HOME: home });
  if (r.code !== 0) throw new Error(`mc ${args.join(' ')} failed (exit ${r.code}): ${r.out}`);
  return r.out;
}
