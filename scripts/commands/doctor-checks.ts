// The checks behind `sandbox doctor`: can this machine run the sandbox, and if not, the
// one line that fixes each problem. Checks run concurrently and every external query has a
// short timeout, so that doctor answers in seconds even when Docker is down.
import { statfs } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { SandboxConfig } from '../lib/config.ts';
import { isSandboxError } from '../lib/errors.ts';
import { stateDir } from '../lib/paths.ts';
import { probe as shProbe } from '../lib/exec/sh.ts';
import { probeDownload } from '../lib/exec/download.ts';
import { createToolbox, fillTemplate, platformKey, type DockerInfo, type ToolName, type Toolbox } from '../lib/exec/tools.ts';

export interface Check {
  id: string;
  title: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  toolbox?: Toolbox;
  /** Memory the chosen profile needs (the lead's preflight sum); defaults per profile. */
  profileMemoryBytes?: number;
  profileCpus?: number;
  /** Reads /proc files; injectable for tests. */
  readProcFile?: (path: string) => Promise<string>;
  /** Defaults to process.platform; injectable for tests. */
  platform?: NodeJS.Platform;
  /** For the download servers' reachability probe; injectable for tests. */
  fetchImpl?: typeof fetch;
  /** How long a download server may take to answer the probe (default 3 s). */
  downloadProbeMs?: number;
}

const GiB = 1024 ** 3;
export const DEFAULT_NEEDS = {
  full: { memBytes: 8 * GiB, cpus: 4 },
  minimal: { memBytes: 4 * GiB, cpus: 2 },
} as const;
/** Below this much free space, image pulls and Elasticsearch start failing or get evicted. */
export const MIN_FREE_DISK_BYTES = 10 * GiB;
// kind's known-issues page ("Pod errors due to too many open files").
export const INOTIFY_MIN = { max_user_watches: 524288, max_user_instances: 512 } as const;
export const INOTIFY_FIX = 'sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512';
const DOCKER_START_FIX = "start Docker (Docker Desktop, or 'sudo systemctl start docker'), then re-run";

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function fixOf(err: unknown): string | undefined {
  return isSandboxError(err) ? err.hint : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function toolCheck(cfg: SandboxConfig, toolbox: Toolbox, name: ToolName, opts: DoctorOptions): Promise<Check> {
  const id = `tool.${name}`;
  const title = name === 'docker' ? 'Docker CLI' : name;
  try {
    const tool = await toolbox.resolve(name, { download: false });
    return { id, title, status: 'ok', detail: `${tool.version} (${tool.source}: ${tool.path})` };
  } catch (err) {
    if (name === 'docker') return { id, title, status: 'fail', detail: messageOf(err), fix: fixOf(err) };
    const pin = cfg.tools[name];
    if (name === 'kind' && cfg.cluster.provider !== 'kind') {
      return { id, title, status: 'ok', detail: `not installed (not needed with cluster provider ${cfg.cluster.provider})` };
    }
    if (name === 'kubectl') {
      // The sandbox itself talks to the API server; kubectl is only for looking around by hand.
      return { id, title, status: 'warn', detail: 'not on PATH; the sandbox does not need it, but the hints and the blog use it', fix: `install kubectl (${pin.version} matches the cluster) to look around yourself` };
    }
    const installYourself = `install ${name} ${pin.version} yourself and put it on PATH`;
    const { os, arch } = platformKey();
    if (!os || !arch) {
      return { id, title, status: 'fail', detail: `not on PATH, and there is no ${name} download for ${process.platform}/${process.arch}`, fix: installYourself };
    }
    // "Will be downloaded" is only true when the download server answers from here.
    const url = fillTemplate(pin.url, pin, os, arch);
    const host = new URL(url).host;
    const probe = await probeDownload(url, { fetchImpl: opts.fetchImpl, timeoutMs: opts.downloadProbeMs });
    if (!probe.reachable) {
      return { id, title, status: 'fail', detail: `not on PATH, and ${pin.version} cannot be downloaded: ${probe.reason}`, fix: `${installYourself}, or run where ${host} is reachable` };
    }
    if (probe.status >= 400 && probe.status !== 405) {
      return { id, title, status: 'fail', detail: `not on PATH, and ${host} answers HTTP ${probe.status} for ${url}`, fix: `${installYourself}, or set tools.${name}.url in your config file to a working download` };
    }
    return {
      id,
      title,
      status: 'warn',
      detail: `not on PATH; ${pin.version} will be downloaded from ${host} on first up`,
      fix: `nothing to do, or install ${name} yourself and put it on PATH`,
    };
  }
}

function resourceCheck(cfg: SandboxConfig, info: DockerInfo | undefined, opts: DoctorOptions): Check {
  const id = 'docker.resources';
  const title = 'Docker CPUs and memory';
  if (cfg.cluster.provider === 'existing') {
    return { id, title, status: 'ok', detail: 'not checked: the sandbox uses an existing cluster (--context)' };
  }
  if (!info) return { id, title, status: 'warn', detail: 'not checked: Docker is not reachable', fix: DOCKER_START_FIX };
  const needMem = opts.profileMemoryBytes ?? DEFAULT_NEEDS[cfg.profile].memBytes;
  const needCpus = opts.profileCpus ?? DEFAULT_NEEDS[cfg.profile].cpus;
  const numbers = `Docker has ${info.cpus} CPUs and ${gib(info.memBytes)} memory; profile ${cfg.profile} needs ${needCpus} CPUs and ${gib(needMem)}`;
  const giveMore = 'give Docker more memory (Docker Desktop: Settings > Resources > Memory)';
  // The same rule as up's preflight, so that doctor and up never disagree.
  if (info.memBytes < needMem) {
    const fix = cfg.profile === 'full' ? `${giveMore}, or use --profile minimal` : giveMore;
    return { id, title, status: 'fail', detail: numbers, fix };
  }
  if (info.cpus < needCpus) {
    return { id, title, status: 'warn', detail: `${numbers} (it will run, slowly)`, fix: 'give Docker more CPUs (Docker Desktop: Settings > Resources > CPUs)' };
  }
  return { id, title, status: 'ok', detail: numbers };
}

/** The nearest existing directory at or above `path` (statfs needs one). */
async function existingAncestor(path: string): Promise<string> {
  let dir = path;
  for (;;) {
    try {
      await statfs(dir);
      return dir;
    } catch {
      const up = dirname(dir);
      if (up === dir) return dir;
      dir = up;
    }
  }
}

async function diskCheck(id: string, title: string, path: string): Promise<Check> {
  try {
    const dir = await existingAncestor(path);
    const fs = await statfs(dir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    const detail = `${gib(free)} free at ${dir}`;
    if (free < MIN_FREE_DISK_BYTES) {
      return { id, title, status: 'warn', detail: `${detail} (under ${gib(MIN_FREE_DISK_BYTES)})`, fix: `free disk space on the volume holding ${dir} (e.g. 'docker system prune')` };
    }
    return { id, title, status: 'ok', detail };
  } catch (err) {
    return { id, title, status: 'warn', detail: `cannot measure free space at ${path}: ${messageOf(err)}`, fix: `check that ${path} exists and is readable` };
  }
}

async function dockerDiskCheck(info: DockerInfo | undefined): Promise<Check> {
  const id = 'disk.docker';
  const title = "free disk in Docker's data root";
  if (!info) return { id, title, status: 'warn', detail: 'not checked: Docker is not reachable', fix: DOCKER_START_FIX };
  const root = info.rootDir;
  const local = root ? await statfs(root).then(() => true, () => false) : false;
  if (!root || !local) {
    // Docker Desktop and remote daemons keep their data inside a VM the host cannot measure.
    return { id, title, status: 'ok', detail: `not measurable from this host (${root ?? 'unknown root'} is inside Docker's VM); see Docker Desktop > Settings > Resources` };
  }
  return diskCheck(id, title, root);
}

type PortProbe = { free: true } | { free: false; reason: string };

function tryListen(port: number, host: string): Promise<PortProbe> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve({ free: false, reason: err.code ?? err.message }));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve({ free: true })));
  });
}

function somethingAnswers(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Who listens on a port, when lsof or ss can tell quickly; undefined otherwise. */
async function portHolder(port: number, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const quick = { timeoutMs: 2000, env };
  const lsof = await shProbe('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN'], quick).catch(() => undefined);
  const row = lsof?.ok ? lsof.stdout.split('\n')[1]?.trim().split(/\s+/) : undefined;
  if (row?.[0]) return `${row[0]} (pid ${row[1]})`;
  const ss = await shProbe('ss', ['-Hltnp', `sport = :${port}`], quick).catch(() => undefined);
  const users = ss?.ok ? /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout) : null;
  if (users) return `${users[1]} (pid ${users[2]})`;
  return undefined;
}

/** The container publishing a host port, if Docker answers: our own kind node is fine. */
async function publishingContainer(toolbox: Toolbox, port: number): Promise<string | undefined> {
  const res = await toolbox.probe('docker', ['ps', '--filter', `publish=${port}`, '--format', '{{.Names}}'], { timeoutMs: 3000 }).catch(() => undefined);
  const name = res?.ok ? res.stdout.split('\n')[0]?.trim() : undefined;
  return name || undefined;
}

async function portCheck(cfg: SandboxConfig, key: 'ingressHttpPort' | 'ingressHttpsPort', toolbox: Toolbox, env: NodeJS.ProcessEnv, dockerUp: boolean): Promise<Check> {
  const port = cfg.cluster[key];
  const id = `port.${port}`;
  const title = `host port ${port} (cluster.${key})`;
  // One after the other: two test listeners on the same port would collide with each other.
  const results = [await tryListen(port, '0.0.0.0'), await tryListen(port, '127.0.0.1')];
  const inUse = results.some((r) => !r.free && r.reason === 'EADDRINUSE');
  // Ports under 1024 need root to listen on; Docker binds them as root, so an unprivileged
  // doctor asks instead whether anything already answers there.
  const denied = !inUse && results.some((r) => !r.free && (r.reason === 'EACCES' || r.reason === 'EPERM'));
  const taken = inUse || (denied && ((await somethingAnswers(port, '127.0.0.1')) || (await somethingAnswers(port, '0.0.0.0'))));
  if (!taken) {
    const other = results.find((r): r is { free: false; reason: string } => !r.free && r.reason !== 'EACCES' && r.reason !== 'EPERM');
    if (other) return { id, title, status: 'warn', detail: `cannot test port ${port}: ${other.reason}`, fix: `set cluster.${key} to another port in your config file` };
    return { id, title, status: 'ok', detail: `port ${port} is free` };
  }
  const container = dockerUp ? await publishingContainer(toolbox, port) : undefined;
  if (container && container.startsWith(`${cfg.cluster.name}-`)) {
    return { id, title, status: 'ok', detail: `port ${port} is held by this sandbox's cluster (${container})` };
  }
  const holder = container ? `container ${container}` : await portHolder(port, env);
  return {
    id,
    title,
    status: 'fail',
    detail: `port ${port} is already in use${holder ? ` by ${holder}` : ''}`,
    fix: `stop what holds port ${port}, or set cluster.${key} to a free port (e.g. ${key === 'ingressHttpPort' ? 8080 : 8443}) in your config file`,
  };
}

/** Parses the two inotify limits kind cares about; pure so that tests can feed it. */
export function inotifyCheck(watches: string | undefined, instances: string | undefined): Check {
  const id = 'linux.inotify';
  const title = 'inotify limits';
  const w = Number.parseInt(watches ?? '', 10);
  const i = Number.parseInt(instances ?? '', 10);
  if (Number.isNaN(w) || Number.isNaN(i)) {
    return { id, title, status: 'warn', detail: 'cannot read /proc/sys/fs/inotify limits', fix: INOTIFY_FIX };
  }
  const detail = `max_user_watches=${w} (need >= ${INOTIFY_MIN.max_user_watches}), max_user_instances=${i} (need >= ${INOTIFY_MIN.max_user_instances})`;
  if (w < INOTIFY_MIN.max_user_watches || i < INOTIFY_MIN.max_user_instances) {
    return { id, title, status: 'warn', detail: `${detail}; pods may fail with "too many open files"`, fix: INOTIFY_FIX };
  }
  return { id, title, status: 'ok', detail };
}

async function linuxInotify(read: (path: string) => Promise<string>): Promise<Check> {
  const get = (name: string): Promise<string | undefined> => read(`/proc/sys/fs/inotify/${name}`).catch(() => undefined);
  const [watches, instances] = await Promise.all([get('max_user_watches'), get('max_user_instances')]);
  return inotifyCheck(watches, instances);
}

/** Runs every check; never throws for a machine problem (that is what the checks report). */
export async function runDoctorChecks(cfg: SandboxConfig, opts: DoctorOptions = {}): Promise<Check[]> {
  const env = opts.env ?? process.env;
  const toolbox = opts.toolbox ?? createToolbox(cfg, env);
  const platform = opts.platform ?? process.platform;
  const read = opts.readProcFile ?? ((path: string) => readFile(path, 'utf8'));

  const tools = Promise.all((['docker', 'kind', 'kubectl', 'helm'] as const).map((name) => toolCheck(cfg, toolbox, name, opts)));
  const docker = toolbox.dockerInfo().then(
    (info) => ({ info, error: undefined }),
    (error: unknown) => ({ info: undefined, error }),
  );
  const reachable = docker.then(({ info, error }): Check => {
    const id = 'docker.reachable';
    const title = 'Docker daemon';
    if (info) return { id, title, status: 'ok', detail: `Docker ${info.serverVersion} on ${info.os}` };
    return { id, title, status: 'fail', detail: messageOf(error), fix: fixOf(error) ?? DOCKER_START_FIX };
  });
  const resources = docker.then(({ info }) => resourceCheck(cfg, info, opts));
  const stateDisk = diskCheck('disk.state', 'free disk for sandbox state', stateDir(env));
  const dockerDisk = docker.then(({ info }) => dockerDiskCheck(info));
  const ports =
    cfg.cluster.provider === 'kind'
      ? docker.then(({ info }) =>
          Promise.all((['ingressHttpPort', 'ingressHttpsPort'] as const).map((key) => portCheck(cfg, key, toolbox, env, info !== undefined))),
        )
      : Promise.resolve([]);
  const inotify = platform === 'linux' ? linuxInotify(read).then((c) => [c]) : Promise.resolve([]);

  const [toolChecks, ...rest] = await Promise.all([tools, reachable, resources, stateDisk, dockerDisk, ports, inotify]);
  return [...toolChecks, ...rest.flat()];
}
