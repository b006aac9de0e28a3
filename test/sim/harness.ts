// The simulated cluster for integration tests: the fake API server, the simulated
// controllers, the fake kind/helm/docker on PATH, and a fresh temp dir holding HOME, the
// kubeconfig and the CLI's state and cache. Tests run the real CLI with `sim.env`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, SimClient, type KubeObject, type ObjectList } from './api-client.ts';
import { startControllers, type ControllerOptions, type SimTiming } from './controllers/index.ts';
import { startDownloadServer, type DownloadServer } from './tools/downloads.ts';
import { ACTOR_HEADER, type SimFaults } from './faults.ts';
import { startKubeletEndpoint, type KubeletEndpoint, type KubeletTls } from './controllers/kubelet-endpoint.ts';
import { REAL_KUBECONFIG_ENV } from './real-underlay.ts';
import { KUBELET_ENDPOINT_ENV } from './tools/kind-cluster.ts';
import { startSimServer } from './api/server.ts';
import { SIM_TIME_SCALE } from './time-scale.ts';

export type { SimFaults } from './faults.ts';

/** Where the fake `kind`, `helm` and `docker` live. */
export const FAKE_BIN_DIR: string = join(dirname(fileURLToPath(import.meta.url)), 'bin');

export interface ToolCall {
  index: number;
  time: string;
  tool: string;
  argv: string[];
  cwd: string;
}

export interface AuditEntry {
  time: string;
  actor: string;
  verb: string;
  method: string;
  path: string;
  kind: string;
  namespace?: string;
  name?: string;
  dryRun: boolean;
  [key: string]: unknown;
}

export interface KubeHelpers {
  /** undefined when absent (404). */
  get(path: string): Promise<KubeObject | undefined>;
  list(path: string, query?: { labelSelector?: string; fieldSelector?: string }): Promise<KubeObject[]>;
  create(path: string, obj: unknown): Promise<KubeObject>;
  /** JSON merge patch. */
  patch(path: string, body: unknown): Promise<KubeObject>;
  delete(path: string): Promise<void>;
  /** Polls `path` (an object or a collection's items) until `check` holds; throws with the last value on timeout. */
  waitFor<T = KubeObject>(path: string, check: (value: T) => boolean, timeoutMs?: number): Promise<T>;
}

export interface Sim {
  url: string;
  /**
   * Base URL of the static download server (ECK's crds.yaml/operator.yaml under
   * /eck/<version>/, ingress-nginx's kind deploy.yaml under /ingress-nginx/<version>/);
   * the `downloads` fault knob makes it fail.
   */
  downloadsUrl: string;
  /**
   * A sandbox config file (in `dir`) that points the CLI's ECK and ingress-nginx downloads at
   * `downloadsUrl`: run the CLI with `--config <configFile>`.
   */
  configFile: string;
  /** What the download server was asked, "GET /path -> status", in order. */
  downloadRequests(): string[];
  /** A complete environment for running the CLI against the simulation. */
  env: Record<string, string>;
  /** The temp dir (HOME, kubeconfig, state, cache); removed by close(). */
  dir: string;
  /** Replaces the knobs; the docker image store (`dockerImages`) is kept unless given. */
  setFaults(f: SimFaults): Promise<void>;
  /** Merge-patches the knobs (null deletes one). */
  patchFaults(f: Partial<Record<keyof SimFaults, unknown>>): Promise<void>;
  faults(): Promise<SimFaults>;
  /** What the fault knobs did so far: watches cut, client requests delayed. */
  faultCounts(): Promise<{ watchesDropped: number; delayedRequests: number }>;
  calls(tool?: 'kind' | 'helm' | 'docker'): Promise<ToolCall[]>;
  audit(): Promise<AuditEntry[]>;
  kube: KubeHelpers;
  /** The simulated kubelets' endpoint, with `realApiServer` and `kubelet` (controllers/). */
  kubelet?: KubeletEndpoint;
  /** Runs a fake tool the way the CLI would (PATH and env of `env`), asynchronously. */
  tool(name: 'kind' | 'helm' | 'docker', args: string[], opts?: { cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
  close(): Promise<void>;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SimOptions {
  faults?: SimFaults;
  /** Faster or slower simulated work (pulls, starts, backoffs). */
  timing?: Partial<SimTiming>;
  /** More simulated controllers (operators), see ControllerOptions.extra. */
  extraControllers?: ControllerOptions['extra'];
  /**
   * A kubeconfig of a real kube-apiserver (test/real/apiserver) to run on instead of the fake
   * one: controllers, fake tools and `kube` helpers then act through it (real-underlay.ts), and
   * the fake server keeps only the simulation's own endpoints (faults, tool calls, pod logs).
   */
  realApiServer?: string;
  /**
   * With realApiServer: the TLS of the kubelet endpoint that kube-apiserver calls for pods/log
   * and pods/portforward (controllers/kubelet-endpoint.ts); fake kind publishes it in the Nodes
   * it makes.
   */
  kubelet?: KubeletTls;
}

async function simJson<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { [ACTOR_HEADER]: 'test', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** An object without its managedFields noise, for failure messages. */
function brief(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(brief);
  if (v && typeof v === 'object' && 'metadata' in v) {
    const o = v as KubeObject;
    return { name: o.metadata.name, resourceVersion: o.metadata.resourceVersion, spec: o.spec, status: o.status };
  }
  return v;
}

function kubeHelpers(client: SimClient): KubeHelpers {
  return {
    get: (path) => client.get(path),
    list: async (path, query) => (await client.list(path, query)).items,
    create: (path, obj) => client.create(path, obj),
    patch: (path, body) => client.mergePatch(path, body),
    delete: (path) => client.delete(path),
    async waitFor<T>(path: string, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          const got = await client.get<KubeObject | ObjectList>(path);
          last = got && typeof got === 'object' && 'items' in got && Array.isArray(got.items) ? got.items : got;
          if (last !== undefined && check(last as T)) return last as T;
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          last = err.message;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${path}; last seen: ${JSON.stringify(brief(last))?.slice(0, 3000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  // In this process too: the controllers and the helpers below route through it.
  if (opts.realApiServer) process.env[REAL_KUBECONFIG_ENV] = opts.realApiServer;
  const server = await startSimServer();
  const url = server.url;
  let controllers: Awaited<ReturnType<typeof startControllers>> | undefined;
  let downloads: DownloadServer | undefined;
  let kubelet: KubeletEndpoint | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-sim-'));
  try {
    if (opts.faults) await simJson(url, 'PUT', '/_sim/faults', opts.faults);
    downloads = await startDownloadServer(() => server.faults());
    controllers = await startControllers(url, { timing: opts.timing, extra: opts.extraControllers });
    if (opts.realApiServer && opts.kubelet) kubelet = await startKubeletEndpoint({ simUrl: url, logs: server.logs, portForward: server.portForward, tls: opts.kubelet });
  } catch (err) {
    await kubelet?.close();
    await controllers?.stop();
    await downloads?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const home = join(dir, 'home');
  for (const d of [home, join(home, '.kube'), join(dir, 'state'), join(dir, 'cache')]) mkdirSync(d, { recursive: true });
  const env: Record<string, string> = {
    PATH: [FAKE_BIN_DIR, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: home,
    KUBECONFIG: join(home, '.kube', 'config'),
    SANDBOX_STATE_DIR: join(dir, 'state'),
    SANDBOX_CACHE_DIR: join(dir, 'cache'),
    SIM_URL: url,
    // The fake tools' shims run on the same Node as the tests.
    SIM_NODE: process.execPath,
    CI: 'true',
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    ...(opts.realApiServer ? { [REAL_KUBECONFIG_ENV]: opts.realApiServer } : {}),
    ...(kubelet ? { [KUBELET_ENDPOINT_ENV]: kubelet.address } : {}),
  };
  const configFile = join(dir, 'sandbox-config.yaml');
  writeFileSync(configFile, sandboxConfig(downloads!.url));
  const client = new SimClient(url, 'test');
  let closed = false;
  return {
    url,
    downloadsUrl: downloads!.url,
    configFile,
    downloadRequests: () => [...downloads!.requests],
    env,
    dir,
    async setFaults(f) {
      const current = await simJson<SimFaults>(url, 'GET', '/_sim/faults');
      const keep = f.dockerImages === undefined && current.dockerImages ? { dockerImages: current.dockerImages } : {};
      await simJson(url, 'PUT', '/_sim/faults', { ...f, ...keep });
    },
    async patchFaults(f) {
      await simJson(url, 'PATCH', '/_sim/faults', f);
    },
    faults: () => simJson<SimFaults>(url, 'GET', '/_sim/faults'),
    faultCounts: () => simJson<{ watchesDropped: number; delayedRequests: number }>(url, 'GET', '/_sim/state'),
    calls: (tool) => simJson<ToolCall[]>(url, 'GET', `/_sim/calls${tool ? `?tool=${tool}` : ''}`),
    audit: () => simJson<AuditEntry[]>(url, 'GET', '/_sim/audit'),
    kube: kubeHelpers(client),
    kubelet,
    tool(name, args, o = {}) {
      // Asynchronous on purpose: the API server runs in this process and must keep serving.
      return new Promise((resolve, reject) => {
        // maxBuffer: `helm show crds` of the logging operator prints ~2 MB of real CRDs.
        execFile(join(FAKE_BIN_DIR, name), args, { env: { ...env, ...(o.env ?? {}) }, cwd: o.cwd ?? dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(err);
          resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await kubelet?.close();
      await controllers?.stop();
      await downloads?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
      if (opts.realApiServer) delete process.env[REAL_KUBECONFIG_ENV];
    },
  };
}

/** The overrides of scripts/lib/config.ts that send the CLI's manifest downloads to the sim. */
function sandboxConfig(downloadsUrl: string): string {
  return [
    '# Written by the simulation harness: upstream manifests come from its download server.',
    'components:',
    '  eck:',
    `    baseUrl: ${downloadsUrl}/eck/{version}`,
    '  ingressNginx:',
    `    manifestUrl: ${downloadsUrl}/ingress-nginx/{version}/deploy.yaml`,
    '# The simulated job runs at SIM_TIME_SCALE: 5 s of in-flight records take a fraction of a second.',
    'scenarios:',
    `  settleSeconds: ${5 * SIM_TIME_SCALE}`,
    '  livenessSeconds: 15',
    '',
  ].join('\n');
}
