// Tool resolution: PATH first, then the cache, then a verified download; docker is never
// downloaded and an unreachable daemon is reported fast, in Docker's own words.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaults, type SandboxConfig } from '../../scripts/lib/config.ts';
import { SandboxError } from '../../scripts/lib/errors.ts';
import { startHttp, type LocalHttp } from '../helpers/http.ts';
import { createToolbox, parseVersion, platformKey } from '../../scripts/lib/exec/tools.ts';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const { os, arch } = platformKey();

let dir: string;
let binDir: string;
let cache: string;
let env: NodeJS.ProcessEnv;
let files: Map<string, Buffer>;
let requests: string[];
let server: LocalHttp;
let base: string;

async function script(path: string, body: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

function config(): SandboxConfig {
  const cfg = structuredClone(defaults);
  cfg.tools.kind.url = `${base}/kind/{version}/kind-{os}-{arch}`;
  cfg.tools.kubectl.url = `${base}/kubectl/{version}/bin/{os}/{arch}/kubectl`;
  cfg.tools.helm.url = `${base}/helm/helm-{version}-{os}-{arch}.tar.gz`;
  // The served test binaries are checked against the checksum files the server publishes.
  delete cfg.tools.helm.sha256;
  delete cfg.tools.kind.sha256;
  return cfg;
}

beforeAll(async () => {
  server = await startHttp((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  base = server.base;
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-tools-'));
  binDir = join(dir, 'bin');
  cache = join(dir, 'cache');
  await mkdir(binDir, { recursive: true });
  // Only our fake bin folder is on PATH: whatever the machine has installed stays out.
  env = { PATH: binDir, SANDBOX_CACHE_DIR: cache, HOME: dir };
  files = new Map();
  requests = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseVersion', () => {
  it("reads each tool's own version output", () => {
    expect(parseVersion('kind', 'kind v0.32.0 go1.24.4 linux/amd64\n')).toBe('v0.32.0');
    expect(parseVersion('kubectl', JSON.stringify({ clientVersion: { gitVersion: 'v1.36.1', major: '1' }, kustomizeVersion: 'v5.7.1' }))).toBe('v1.36.1');
    expect(parseVersion('helm', 'v4.3.0+g1a2b3c4\n')).toBe('v4.3.0');
    expect(parseVersion('docker', '27.3.1\n')).toBe('27.3.1');
    expect(parseVersion('docker', 'Docker version 27.3.1, build ce12230\n')).toBe('27.3.1');
    expect(parseVersion('kind', 'garbage')).toBeUndefined();
  });
});

describe('createToolbox().resolve', () => {
  it('finds tools on the PATH it was given and reads their versions', async () => {
    await script(join(binDir, 'kind'), 'echo "kind v0.31.0 go1.24.2 linux/amd64"');
    await script(join(binDir, 'kubectl'), `echo '{"clientVersion":{"gitVersion":"v1.35.2"}}'`);
    await script(join(binDir, 'helm'), 'echo "v4.2.4+gdeadbee"');
    const tools = createToolbox(config(), env);
    expect(await tools.resolve('kind')).toEqual({ name: 'kind', path: join(binDir, 'kind'), version: 'v0.31.0', source: 'path' });
    expect(await tools.resolve('kubectl')).toMatchObject({ version: 'v1.35.2', source: 'path' });
    expect(await tools.resolve('helm')).toMatchObject({ version: 'v4.2.4', source: 'path' });
    expect(requests).toEqual([]);
  });

  it('runs a tool without asking its version first (only resolve asks, once)', async () => {
    const log = join(dir, 'calls.log');
    await script(join(binDir, 'kind'), `echo "$*" >> '${log}'; echo "kind v0.31.0 go1.24.2 linux/amd64"`);
    const tools = createToolbox(config(), env);
    await tools.run('kind', ['get', 'clusters']);
    await tools.probe('kind', ['get', 'nodes']);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['get clusters', 'get nodes']);
    expect(await tools.resolve('kind')).toMatchObject({ version: 'v0.31.0', source: 'path' });
    expect(await tools.resolve('kind')).toMatchObject({ version: 'v0.31.0' });
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['get clusters', 'get nodes', 'version']);
  });

  it('uses the cached pinned version when the tool is not on PATH', async () => {
    const cached = await script(join(cache, 'bin', 'kind-v0.32.0'), 'echo "kind v0.32.0 (cached) $*"');
    const tools = createToolbox(config(), env);
    expect(await tools.resolve('kind')).toEqual({ name: 'kind', path: cached, version: 'v0.32.0', source: 'cache' });
    const { stdout } = await tools.run('kind', ['get', 'clusters']);
    expect(stdout).toBe('kind v0.32.0 (cached) get clusters\n');
    expect(requests).toEqual([]);
  });

  it('downloads, verifies and caches a missing tool, then runs it', async () => {
    const body = Buffer.from('#!/bin/sh\necho "kind v0.32.0 go1.24 fake $*"\n');
    const path = `/kind/v0.32.0/kind-${os}-${arch}`;
    files.set(path, body);
    files.set(`${path}.sha256sum`, Buffer.from(`${sha(body)}  kind-${os}-${arch}\n`));
    const progress: string[] = [];
    const tools = createToolbox(config(), env);
    const kind = await tools.resolve('kind', { onProgress: (m) => progress.push(m) });
    expect(kind).toEqual({ name: 'kind', path: join(cache, 'bin', 'kind-v0.32.0'), version: 'v0.32.0', source: 'download' });
    expect((await stat(kind.path)).mode & 0o111).toBe(0o111);
    expect(await readFile(kind.path)).toEqual(body);
    expect(progress.join('\n')).toContain('kind v0.32.0');
    expect((await tools.run('kind', ['version'])).stdout).toBe('kind v0.32.0 go1.24 fake version\n');
    expect(requests).toEqual([`${path}.sha256sum`, path]);

    // a second toolbox (a new CLI run) finds it in the cache
    expect(await createToolbox(config(), env).resolve('kind')).toMatchObject({ source: 'cache' });
    expect(requests).toHaveLength(2);
  });

  it('downloads kubectl against its bare-hex .sha256 file', async () => {
    const body = Buffer.from(`#!/bin/sh\necho '{"clientVersion":{"gitVersion":"v1.36.1"}}'\n`);
    const path = `/kubectl/v1.36.1/bin/${os}/${arch}/kubectl`;
    files.set(path, body);
    files.set(`${path}.sha256`, Buffer.from(sha(body)));
    const tools = createToolbox(config(), env);
    expect(await tools.resolve('kubectl')).toMatchObject({ source: 'download', version: 'v1.36.1' });
  });

  it("unpacks helm from its tar.gz, verified against the pinned sha256 for this platform", async () => {
    const src = join(dir, 'src', `${os}-${arch}`);
    await script(join(src, 'helm'), 'echo "v4.3.0+gfake"');
    const archive = join(dir, 'helm.tgz');
    await createTar({ gzip: true, file: archive, cwd: join(dir, 'src') }, [`${os}-${arch}`]);
    const bytes = await readFile(archive);
    files.set(`/helm/helm-v4.3.0-${os}-${arch}.tar.gz`, bytes);
    const cfg = config();
    cfg.tools.helm.sha256 = { [`${os}-${arch}`]: sha(bytes) };
    const tools = createToolbox(cfg, env);
    const helm = await tools.resolve('helm');
    expect(helm).toMatchObject({ source: 'download', version: 'v4.3.0', path: join(cache, 'bin', 'helm-v4.3.0') });
    expect((await tools.run('helm', ['version', '--short'])).stdout).toBe('v4.3.0+gfake\n');
    // the pin was used: no checksum file was asked for
    expect(requests).toEqual([`/helm/helm-v4.3.0-${os}-${arch}.tar.gz`]);
  });

  it('with download:false, a missing tool is an error that says it will be downloaded', async () => {
    const err = await createToolbox(config(), env)
      .resolve('helm', { download: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).message).toBe('helm is not on PATH and v4.3.0 is not cached yet');
    expect(requests).toEqual([]);
  });

  it('never downloads docker: a missing docker names Docker and how to install it', async () => {
    const err = await createToolbox(config(), env)
      .resolve('docker')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).message).toMatch(/Docker is not installed/);
    expect((err as SandboxError).hint).toMatch(/Docker Desktop.*Docker Engine/);
    expect(requests).toEqual([]);
  });
});

describe('createToolbox().dockerInfo', () => {
  const daemonDown = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

  it('reads CPUs, memory, version and OS from docker info', async () => {
    const info = { ServerVersion: '27.3.1', NCPU: 8, MemTotal: 8_232_914_944, OperatingSystem: 'Docker Desktop', OSType: 'linux', DockerRootDir: '/var/lib/docker' };
    await script(join(binDir, 'docker'), `case "$1" in
  info) echo '${JSON.stringify(info)}' ;;
  version) echo 27.3.1 ;;
esac`);
    const tools = createToolbox(config(), env);
    expect(await tools.dockerInfo()).toEqual({ serverVersion: '27.3.1', cpus: 8, memBytes: 8_232_914_944, os: 'Docker Desktop', rootDir: '/var/lib/docker' });
    expect(await tools.resolve('docker')).toMatchObject({ version: '27.3.1', source: 'path' });
  });

  it("reports an unreachable daemon fast, in Docker's words, with the fix", async () => {
    await script(join(binDir, 'docker'), `case "$1" in
  --version) echo "Docker version 27.3.1, build ce12230" ;;
  *) echo "${daemonDown}" >&2; exit 1 ;;
esac`);
    const tools = createToolbox(config(), { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' });
    const started = Date.now();
    const err = await tools.dockerInfo().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).message).toBe(`Docker is not reachable: ${daemonDown}`);
    expect((err as SandboxError).hint).toBe("start Docker (Docker Desktop, or 'sudo systemctl start docker'), then re-run");
    // the CLI itself is there, so resolving it still works and says what it knows
    expect(await tools.resolve('docker')).toMatchObject({ version: '27.3.1 (client; daemon not reachable)' });
  });

  it('sees through the empty JSON that Docker 28 prints beside the error', async () => {
    // docker 28.2 with no daemon: a JSON skeleton on stdout, the reason on stderr, exit 1
    const skeleton = JSON.stringify({ ID: '', Containers: 0, NCPU: 0, MemTotal: 0, ServerVersion: '', ClientInfo: { Debug: false } });
    await script(join(binDir, 'docker'), `echo '${skeleton}'; echo "${daemonDown}" >&2; exit 1`);
    const err = await createToolbox(config(), env)
      .dockerInfo()
      .catch((e: unknown) => e);
    expect((err as SandboxError).message).toBe(`Docker is not reachable: ${daemonDown}`);

    // and the ServerErrors field, when a CLI reports the failure there
    const withErrors = JSON.stringify({ ID: '', ServerErrors: ['error during connect: dial tcp 10.0.0.9:2376: i/o timeout'] });
    await script(join(binDir, 'docker'), `echo '${withErrors}'; exit 1`);
    const err2 = await createToolbox(config(), env)
      .dockerInfo()
      .catch((e: unknown) => e);
    expect((err2 as SandboxError).message).toBe('Docker is not reachable: error during connect: dial tcp 10.0.0.9:2376: i/o timeout');
  });

  it('gives up on a daemon that does not answer within a few seconds', async () => {
    await script(join(binDir, 'docker'), 'exec sleep 30');
    // sleep must be found: give this fake the system folders too
    const tools = createToolbox(config(), { ...env, PATH: `${binDir}:/usr/bin:/bin` });
    const started = Date.now();
    const err = await tools.dockerInfo().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(8000);
    expect((err as SandboxError).message).toBe('Docker is not reachable: no answer within 5s');
  }, 20_000);
});
