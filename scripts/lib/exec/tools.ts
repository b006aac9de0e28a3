// The external tools the sandbox drives. Each is found on PATH first (the user's own
// install wins), else in the per-user cache, else (kind, kubectl, helm only) downloaded
// at the pinned version and verified, so that a user needs nothing but Docker.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from 'zx/core';
import type { SandboxConfig, ToolPin } from '../config.ts';
import { downloadVerified } from './download.ts';
import { SandboxError } from '../errors.ts';
import { cacheDir } from '../paths.ts';
import { probe as shProbe, run as shRun, type ProbeResult, type RunOptions, type RunResult } from './sh.ts';
import { toolSlots } from './slots.ts';

export type ToolName = 'docker' | 'kind' | 'kubectl' | 'helm';
type Downloadable = Exclude<ToolName, 'docker'>;

export interface ResolvedTool {
  name: ToolName;
  path: string;
  version: string;
  source: 'path' | 'cache' | 'download';
}

/** A tool found, its version known only when it is the pinned one (cached or downloaded). */
type Located = Omit<ResolvedTool, 'version'> & { version?: string };

export interface ResolveOptions {
  /** Download a missing kind/kubectl/helm (default true); false throws instead. */
  download?: boolean;
  onProgress?: (msg: string) => void;
  signal?: AbortSignal;
}

export interface DockerInfo {
  serverVersion: string;
  cpus: number;
  memBytes: number;
  /** e.g. "Docker Desktop", "Ubuntu 24.04.1 LTS". */
  os: string;
  /** Docker's data root as the daemon sees it (may live inside a VM). */
  rootDir?: string;
}

export interface Toolbox {
  resolve(name: ToolName, opts?: ResolveOptions): Promise<ResolvedTool>;
  run(name: ToolName, args: string[], opts?: RunOptions): Promise<RunResult>;
  probe(name: ToolName, args: string[], opts?: RunOptions): Promise<ProbeResult>;
  dockerInfo(): Promise<DockerInfo>;
}

/** How long `docker info` may take before we call the daemon unresponsive. */
const INFO_TIMEOUT_MS = 5_000;
/** Version queries are local, except docker's (it asks the daemon, which may hang). */
const VERSION_TIMEOUT_MS = 3_000;

const DOCKER_HINT = "start Docker (Docker Desktop, or 'sudo systemctl start docker'), then re-run";

export function platformKey(): { os: string; arch: string } {
  const os = process.platform === 'darwin' ? 'darwin' : process.platform === 'linux' ? 'linux' : '';
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : '';
  return { os, arch };
}

/** Fills {version}, {os} and {arch} in a ToolPin template. */
export function fillTemplate(template: string, pin: Pick<ToolPin, 'version'>, os: string, arch: string): string {
  return template.replaceAll('{version}', pin.version).replaceAll('{os}', os).replaceAll('{arch}', arch);
}

/** The version in a tool's own words (`kind version`, `kubectl version -o json`, ...). */
export function parseVersion(name: ToolName, stdout: string): string | undefined {
  const text = stdout.trim();
  if (name === 'kubectl') {
    try {
      const parsed = JSON.parse(text) as { clientVersion?: { gitVersion?: string } };
      if (parsed.clientVersion?.gitVersion) return parsed.clientVersion.gitVersion;
    } catch {
      // older kubectl or unexpected output: fall through to the pattern
    }
  }
  if (name === 'docker') {
    const m = /(\d+\.\d+\.\d+[\w.+-]*)/.exec(text);
    return m?.[1];
  }
  // helm prints v4.3.0+g<sha>; the build suffix is noise for users.
  const m = /v\d+\.\d+\.\d+(?:-[\w.]+)?/.exec(text);
  return m?.[0];
}

function versionArgs(name: ToolName): string[] {
  switch (name) {
    case 'kind':
      return ['version'];
    case 'kubectl':
      return ['version', '--client', '-o', 'json'];
    case 'helm':
      return ['version', '--short'];
    case 'docker':
      return ['version', '--format', '{{.Server.Version}}'];
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Docker's own words for why it cannot reach the daemon, one line. */
export function dockerFailureMessage(stdout: string, stderr: string): string {
  try {
    const parsed = JSON.parse(stdout) as { ServerErrors?: string[] };
    if (parsed.ServerErrors?.length) return parsed.ServerErrors.join('; ');
  } catch {
    // not JSON
  }
  const lines = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'Server:');
  return lines.find((l) => /cannot connect|error during connect|permission denied|no such file|is the docker daemon running/i.test(l)) ?? lines[0] ?? 'no answer';
}

// Long on purpose: one closure over the resolved tools and their cache, returning the Toolbox's
// methods; each method is short, and splitting them apart would only pass that state around.
export function createToolbox(cfg: SandboxConfig, env: NodeJS.ProcessEnv = process.env): Toolbox {
  const located = new Map<ToolName, Promise<Located>>();
  const resolved = new Map<ToolName, Promise<ResolvedTool>>();

  // Tools run with the toolbox's environment (tests and --context point PATH, KUBECONFIG
  // and DOCKER_HOST elsewhere), with per-call additions on top.
  const withEnv = (opts: RunOptions = {}): RunOptions => ({ ...opts, env: { ...env, ...opts.env } });

  async function readVersion(name: ToolName, path: string, signal?: AbortSignal): Promise<string> {
    const res = await shProbe(path, versionArgs(name), withEnv({ timeoutMs: VERSION_TIMEOUT_MS, signal }));
    const version = res.ok ? parseVersion(name, res.stdout) : undefined;
    if (version) return version;
    if (name === 'docker') {
      // The daemon is down: the client still knows its own version.
      const client = await shProbe(path, ['--version'], withEnv({ timeoutMs: VERSION_TIMEOUT_MS, signal }));
      const clientVersion = client.ok ? parseVersion('docker', client.stdout) : undefined;
      if (clientVersion) return `${clientVersion} (client; daemon not reachable)`;
    }
    return 'unknown';
  }

  async function onPath(name: ToolName): Promise<string | undefined> {
    const found = await which(name, { path: env.PATH ?? '', nothrow: true });
    return typeof found === 'string' ? found : undefined;
  }

  async function dockerPath(): Promise<string> {
    const found = await onPath('docker');
    if (found) return found;
    throw new SandboxError('Docker is not installed (no `docker` on PATH)', {
      hint: 'install Docker Desktop (macOS, Windows) or Docker Engine (Linux): https://docs.docker.com/get-docker/, then re-run',
    });
  }

  /**
   * Where the tool is, without asking it anything: running a tool needs only its path, and each
   * version query is a process of its own (`kind version`, `helm version`) that `up` never reads.
   * A cached or downloaded tool is the pinned version; one on PATH is asked only by `resolve`.
   */
  async function doLocate(name: ToolName, opts: ResolveOptions): Promise<Located> {
    if (name === 'docker') return { name, path: await dockerPath(), source: 'path' };
    const fromPath = await onPath(name);
    if (fromPath) return { name, path: fromPath, source: 'path' };
    const pin = cfg.tools[name];
    const cached = join(cacheDir(env), 'bin', `${name}-${pin.version}`);
    if (await isExecutable(cached)) return { name, path: cached, version: pin.version, source: 'cache' };
    if (opts.download === false) {
      throw new SandboxError(`${name} is not on PATH and ${pin.version} is not cached yet`, {
        hint: `it is downloaded on first 'sandbox up'; or install ${name} yourself and put it on PATH`,
      });
    }
    await download(name, pin, cached, opts);
    return { name, path: cached, version: pin.version, source: 'download' };
  }

  async function download(name: Downloadable, pin: ToolPin, dest: string, opts: ResolveOptions): Promise<void> {
    const { os, arch } = platformKey();
    if (!os || !arch) {
      throw new SandboxError(`cannot download ${name} for ${process.platform}/${process.arch}`, {
        hint: `install ${name} ${pin.version} yourself and put it on PATH`,
      });
    }
    const url = fillTemplate(pin.url, pin, os, arch);
    const sha256 = pin.sha256?.[`${os}-${arch}`];
    await downloadVerified(url, dest, {
      sha256,
      checksumUrl: sha256 ? undefined : `${url}${pin.checksumSuffix}`,
      archivePath: pin.archivePath ? fillTemplate(pin.archivePath, pin, os, arch) : undefined,
      name: `${name} ${pin.version}`,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
  }

  /** Remembers a pending lookup per tool; a failed one is forgotten (the user may fix it and retry). */
  function remembered<T>(cache: Map<ToolName, Promise<T>>, name: ToolName, lookup: () => Promise<T>): Promise<T> {
    const existing = cache.get(name);
    if (existing) return existing;
    const pending = lookup();
    cache.set(name, pending);
    pending.catch(() => cache.delete(name));
    return pending;
  }

  const locate = (name: ToolName, opts: ResolveOptions = {}): Promise<Located> => remembered(located, name, () => doLocate(name, opts));

  const toolbox: Toolbox = {
    resolve(name, opts = {}) {
      return remembered(resolved, name, async () => {
        const tool = await locate(name, opts);
        return { ...tool, version: tool.version ?? (await readVersion(name, tool.path, opts.signal)) };
      });
    },

    async run(name, args, opts = {}) {
      const tool = await locate(name, { signal: opts.signal, onProgress: opts.onLine });
      return toolSlots.run(opts.priority ?? 0, () => shRun(tool.path, args, withEnv(opts)));
    },

    async probe(name, args, opts = {}) {
      const tool = await locate(name, { signal: opts.signal, onProgress: opts.onLine });
      return toolSlots.run(opts.priority ?? 0, () => shProbe(tool.path, args, withEnv(opts)));
    },

    async dockerInfo() {
      // Only the path: asking for the version first would wait on a hung daemon twice.
      const docker = await dockerPath();
      const res = await shProbe(docker, ['info', '--format', '{{json .}}'], withEnv({ timeoutMs: INFO_TIMEOUT_MS }));
      let info: Record<string, unknown> | undefined;
      try {
        info = JSON.parse(res.stdout) as Record<string, unknown>;
      } catch {
        info = undefined;
      }
      const serverErrors = Array.isArray(info?.ServerErrors) && info.ServerErrors.length > 0;
      if (!res.ok || !info || serverErrors || !info.ServerVersion) {
        const why = res.code === null && !res.stderr ? `no answer within ${INFO_TIMEOUT_MS / 1000}s` : dockerFailureMessage(res.stdout, res.stderr);
        throw new SandboxError(`Docker is not reachable: ${why}`, { hint: DOCKER_HINT });
      }
      return {
        serverVersion: String(info.ServerVersion),
        cpus: Number(info.NCPU ?? 0),
        memBytes: Number(info.MemTotal ?? 0),
        os: String(info.OperatingSystem ?? info.OSType ?? 'unknown'),
        rootDir: typeof info.DockerRootDir === 'string' ? info.DockerRootDir : undefined,
      };
    },
  };
  return toolbox;
}
