// `sandbox doctor`'s checks against fake docker executables, real sockets and injected
// /proc files: each problem is reported with numbers and a one-line fix, fast.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaults, type SandboxConfig } from '../../scripts/lib/config.ts';
import { INOTIFY_FIX, inotifyCheck, runDoctorChecks, type Check } from '../../scripts/commands/doctor-checks.ts';
import { platformKey } from '../../scripts/lib/exec/tools.ts';
import { startHttp } from '../helpers/http.ts';

const GiB = 1024 ** 3;
const DAEMON_DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

let dir: string;
let binDir: string;
let env: NodeJS.ProcessEnv;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-doctor-'));
  binDir = join(dir, 'bin');
  await mkdir(binDir);
  // The fake docker comes first; the system folders give lsof/ss for "who holds the port".
  env = { PATH: `${binDir}:/usr/bin:/bin`, SANDBOX_STATE_DIR: join(dir, 'state'), SANDBOX_CACHE_DIR: join(dir, 'cache'), HOME: dir };
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function fakeDocker(body: string): Promise<void> {
  const path = join(binDir, 'docker');
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

/** A docker whose daemon answers with these resources; `ps` prints `publisher`. */
async function healthyDocker(memBytes: number, cpus: number, publisher = ''): Promise<void> {
  const info = JSON.stringify({ ServerVersion: '27.3.1', NCPU: cpus, MemTotal: memBytes, OperatingSystem: 'Docker Desktop', DockerRootDir: '/nonexistent/docker' });
  await fakeDocker(`case "$1" in
  info) echo '${info}' ;;
  version) echo 27.3.1 ;;
  ps) echo '${publisher}' ;;
esac`);
}

async function listen(port: number, host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  servers.push(server);
  return server;
}

/** Two ports that are free right now. */
async function freePorts(): Promise<[number, number]> {
  const a = await listen(0, '127.0.0.1');
  const b = await listen(0, '127.0.0.1');
  const ports: [number, number] = [(a.address() as AddressInfo).port, (b.address() as AddressInfo).port];
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  return ports;
}

async function config(edit: (cfg: SandboxConfig) => void = () => undefined): Promise<SandboxConfig> {
  const cfg = structuredClone(defaults);
  [cfg.cluster.ingressHttpPort, cfg.cluster.ingressHttpsPort] = await freePorts();
  edit(cfg);
  return cfg;
}

const goodInotify = async (path: string): Promise<string> => (path.endsWith('max_user_watches') ? '524288\n' : '512\n');

function check(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id);
  expect(found, `check ${id} in ${checks.map((c) => c.id).join(', ')}`).toBeDefined();
  return found!;
}

describe('runDoctorChecks', () => {
  it('with the Docker daemon down: fails with the fix, warns about what depends on it, in seconds', async () => {
    await fakeDocker(`echo "${DAEMON_DOWN}" >&2; exit 1`);
    const started = Date.now();
    const checks = await runDoctorChecks(await config(), { env, platform: 'linux', readProcFile: goodInotify });
    expect(Date.now() - started).toBeLessThan(5000);

    const docker = check(checks, 'docker.reachable');
    expect(docker.status).toBe('fail');
    expect(docker.detail).toBe(`Docker is not reachable: ${DAEMON_DOWN}`);
    expect(docker.fix).toBe("start Docker (Docker Desktop, or 'sudo systemctl start docker'), then re-run");
    expect(check(checks, 'docker.resources')).toMatchObject({ status: 'warn', detail: 'not checked: Docker is not reachable' });
    // every problem comes with a one-line fix
    for (const c of checks.filter((c) => c.status !== 'ok')) {
      expect(c.fix, c.id).toBeTruthy();
      expect(c.fix, c.id).not.toContain('\n');
    }
  });

  it('reports missing kind/helm as warnings when their download server answers (they are downloaded on first up), and kubectl as not needed', async () => {
    await healthyDocker(16 * GiB, 8);
    const requests: string[] = [];
    const server = await startHttp((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end();
    });
    try {
      const cfg = await config((c) => {
        for (const name of ['kind', 'kubectl', 'helm'] as const) c.tools[name].url = `${server.base}/${name}/{version}/{os}-{arch}`;
      });
      const checks = await runDoctorChecks(cfg, { env: { ...env, PATH: binDir }, platform: 'linux', readProcFile: goodInotify });
      expect(check(checks, 'tool.docker')).toMatchObject({ status: 'ok', detail: `27.3.1 (path: ${join(binDir, 'docker')})` });
      for (const [name, version] of [['kind', 'v0.32.0'], ['helm', 'v4.3.0']]) {
        expect(check(checks, `tool.${name}`)).toMatchObject({ status: 'warn', detail: `not on PATH; ${version} will be downloaded from 127.0.0.1:${server.port} on first up` });
      }
      // The sandbox never runs kubectl: nothing to download, only a note.
      expect(check(checks, 'tool.kubectl')).toMatchObject({ status: 'warn', detail: 'not on PATH; the sandbox does not need it, but the hints and the blog use it' });
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      // One HEAD each: a probe, not a download.
      const { os, arch } = platformKey();
      expect(requests.sort()).toEqual([`HEAD /helm/v4.3.0/${os}-${arch}`, `HEAD /kind/v0.32.0/${os}-${arch}`]);
    } finally {
      await server.close();
    }
  });

  it('fails a missing tool whose download server cannot be reached or refuses it, in seconds, with the way out', async () => {
    await healthyDocker(16 * GiB, 8);
    const gone = await startHttp((_, res) => {
      res.statusCode = 404;
      res.end();
    });
    // A port that was just free: nothing listens there.
    const [closed] = await freePorts();
    // Not through listen(): config() closes the servers listen() made, to free their ports.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    try {
      const cfg = await config((c) => {
        c.tools.kind.url = `http://127.0.0.1:${closed}/kind-{os}-{arch}`;
        // Accepts connections and never answers: the probe's own deadline ends it.
        c.tools.helm.url = `http://127.0.0.1:${silentPort}/helm.tar.gz`;
      });
      const started = performance.now();
      const checks = await runDoctorChecks(cfg, { env: { ...env, PATH: binDir }, platform: 'linux', readProcFile: goodInotify, downloadProbeMs: 500 });
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(check(checks, 'tool.kind')).toMatchObject({
        status: 'fail',
        detail: `not on PATH, and v0.32.0 cannot be downloaded: connection refused by 127.0.0.1:${closed} (the server is down or unreachable)`,
        fix: `install kind v0.32.0 yourself and put it on PATH, or run where 127.0.0.1:${closed} is reachable`,
      });
      expect(check(checks, 'tool.helm')).toMatchObject({ status: 'fail', detail: `not on PATH, and v4.3.0 cannot be downloaded: 127.0.0.1:${silentPort} did not answer within 0.5s` });

      // A server that answers, but not with the file.
      const moved = await config((c) => {
        c.tools.helm.url = `${gone.base}/helm.tar.gz`;
        c.tools.kind.url = `${gone.base}/kind`;
      });
      const again = await runDoctorChecks(moved, { env: { ...env, PATH: binDir }, platform: 'linux', readProcFile: goodInotify });
      expect(check(again, 'tool.helm')).toMatchObject({ status: 'fail', detail: `not on PATH, and 127.0.0.1:${gone.port} answers HTTP 404 for ${gone.base}/helm.tar.gz` });
      expect(check(again, 'tool.helm').fix).toContain('tools.helm.url');
    } finally {
      await gone.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('fails when Docker has too little memory for the profile, with both numbers', async () => {
    await healthyDocker(3 * GiB, 2);
    const checks = await runDoctorChecks(await config(), { env, platform: 'darwin' });
    const res = check(checks, 'docker.resources');
    expect(res.status).toBe('fail');
    expect(res.detail).toBe('Docker has 2 CPUs and 3.0 GiB memory; profile full needs 4 CPUs and 8.0 GiB');
    expect(res.fix).toMatch(/give Docker more memory .*, or use --profile minimal/);

    // the lead's preflight number wins over the default
    const precise = await runDoctorChecks(await config(), { env, platform: 'darwin', profileMemoryBytes: 2.5 * GiB, profileCpus: 2 });
    expect(check(precise, 'docker.resources')).toMatchObject({ status: 'ok', detail: 'Docker has 2 CPUs and 3.0 GiB memory; profile full needs 2 CPUs and 2.5 GiB' });
  });

  it('passes the minimal profile on a 6 GiB Docker and only warns about few CPUs', async () => {
    await healthyDocker(6 * GiB, 1);
    const checks = await runDoctorChecks(await config((c) => (c.profile = 'minimal')), { env, platform: 'darwin' });
    const res = check(checks, 'docker.resources');
    expect(res.status).toBe('warn');
    expect(res.detail).toContain('Docker has 1 CPUs and 6.0 GiB memory; profile minimal needs 2 CPUs and 4.0 GiB');
    expect(res.fix).toMatch(/more CPUs/);
  });

  it('finds a host port that is already taken, and who holds it', async () => {
    await healthyDocker(16 * GiB, 8);
    const cfg = await config();
    await listen(cfg.cluster.ingressHttpPort, '0.0.0.0');
    const checks = await runDoctorChecks(cfg, { env, platform: 'darwin' });
    const taken = check(checks, `port.${cfg.cluster.ingressHttpPort}`);
    expect(taken.status).toBe('fail');
    expect(taken.detail).toContain(`port ${cfg.cluster.ingressHttpPort} is already in use`);
    // lsof or ss names this very process
    expect(taken.detail).toContain(`(pid ${process.pid})`);
    expect(taken.fix).toMatch(/set cluster\.ingressHttpPort to a free port \(e\.g\. 8080\)/);
    expect(check(checks, `port.${cfg.cluster.ingressHttpsPort}`)).toMatchObject({ status: 'ok' });
  });

  it('a port held by this sandbox\'s own kind node is fine (re-running doctor after up)', async () => {
    await healthyDocker(16 * GiB, 8, 'flink-sandbox-worker');
    const cfg = await config();
    await listen(cfg.cluster.ingressHttpsPort, '127.0.0.1');
    const checks = await runDoctorChecks(cfg, { env, platform: 'darwin' });
    expect(check(checks, `port.${cfg.cluster.ingressHttpsPort}`)).toMatchObject({
      status: 'ok',
      detail: `port ${cfg.cluster.ingressHttpsPort} is held by this sandbox's cluster (flink-sandbox-worker)`,
    });
  });

  it('does not check host ports or Docker resources against an existing cluster', async () => {
    await healthyDocker(1 * GiB, 1);
    const cfg = await config((c) => {
      c.cluster.provider = 'existing';
      c.cluster.context = 'minikube';
    });
    const checks = await runDoctorChecks(cfg, { env, platform: 'darwin' });
    expect(checks.some((c) => c.id.startsWith('port.'))).toBe(false);
    expect(check(checks, 'docker.resources').status).toBe('ok');
  });

  it('reads the inotify limits on Linux only', async () => {
    await healthyDocker(16 * GiB, 8);
    const low = async (path: string): Promise<string> => (path.endsWith('max_user_watches') ? '8192\n' : '128\n');
    const linux = await runDoctorChecks(await config(), { env, platform: 'linux', readProcFile: low });
    expect(check(linux, 'linux.inotify')).toMatchObject({ status: 'warn', fix: INOTIFY_FIX });
    const mac = await runDoctorChecks(await config(), { env, platform: 'darwin', readProcFile: low });
    expect(mac.some((c) => c.id === 'linux.inotify')).toBe(false);
  });

  it('measures free disk where the state goes, even before the folder exists', async () => {
    await healthyDocker(16 * GiB, 8);
    const checks = await runDoctorChecks(await config(), { env, platform: 'darwin' });
    const disk = check(checks, 'disk.state');
    expect(disk.detail).toMatch(new RegExp(`^\\d+\\.\\d GiB free at ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // Docker's root is inside its VM here: not measurable, not a problem
    expect(check(checks, 'disk.docker')).toMatchObject({ status: 'ok' });
  });
});

describe('inotifyCheck', () => {
  it('accepts the limits kind recommends', () => {
    expect(inotifyCheck('524288\n', '512\n')).toMatchObject({ status: 'ok', detail: 'max_user_watches=524288 (need >= 524288), max_user_instances=512 (need >= 512)' });
    expect(inotifyCheck('1048576', '8192')).toMatchObject({ status: 'ok' });
  });

  it('warns below them with the sysctl fix from kind\'s known issues', () => {
    const low = inotifyCheck('8192', '512');
    expect(low.status).toBe('warn');
    expect(low.detail).toContain('max_user_watches=8192 (need >= 524288)');
    expect(low.fix).toBe('sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512');
    expect(inotifyCheck('524288', '128').status).toBe('warn');
  });

  it('warns when the limits cannot be read', () => {
    expect(inotifyCheck(undefined, '512')).toMatchObject({ status: 'warn', detail: 'cannot read /proc/sys/fs/inotify limits', fix: INOTIFY_FIX });
    expect(inotifyCheck('lots', '512').status).toBe('warn');
  });
});
