// The fake Kubernetes API server of the simulated cluster: plain HTTP on 127.0.0.1 speaking
// the real REST protocol (discovery, CRUD, selectors, the four patch types incl. server-side
// apply, dry-run, the status subresource, finalizers and garbage collection, watch, pod logs,
// port-forward over WebSocket), plus the simulation's control endpoints under /_sim/.
// Clients are @kubernetes/client-node, the CLI under test and the simulated controllers (which
// mark their requests with `x-sim-actor`; fault knobs never apply to them).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimState, handleControl } from './control.ts';
import { handleApi, parseResourcePath } from './handlers.ts';
import { sendError, toApiError } from './http.ts';
import { lifecycleSweeper } from './lifecycle.ts';
import { LogStore } from './logs.ts';
import { systemCtx } from './meta.ts';
import { Api } from './objects.ts';
import { PortForwardHub, rejectUpgrade } from './portforward.ts';
import { badRequest, internalError } from './status.ts';
import { Store, type EventType } from './store.ts';
import { type Obj, clone, isObj } from './types.ts';
import { WatchHub } from './watch.ts';

export const ACTOR_HEADER = 'x-sim-actor';

/** A change to a stored object, for in-process subscribers (the simulated controllers). */
export interface SimEvent {
  type: EventType;
  /** "apps/deployments", "/pods" (core group), "flink.apache.org/flinkdeployments". */
  storageKey: string;
  resourceVersion: string;
  object: Obj;
}

export interface SimServer {
  url: string;
  close(): Promise<void>;
  /** Every stored change, synchronously, in order; returns the unsubscribe function. */
  subscribe(listener: (ev: SimEvent) => void): () => void;
  /** The current fault knobs (the same object GET /_sim/faults returns). */
  faults(): Obj;
  /** The containers' logs and port-forward targets, for the kubelet endpoint on a real API server. */
  logs: LogStore;
  portForward: PortForwardHub;
}

export interface SimServerOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 1000 ms). */
  bookmarkIntervalMs?: number;
  /** Change events kept for watches to resume from (default 10000); older -> 410 Gone. */
  historyLimit?: number;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function seed(api: Api): void {
  const ctx = systemCtx('system:apiserver');
  const nsType = api.registry.find('', 'v1', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) {
    if (!api.store.get('/namespaces', '', name)) api.create(nsType, '', { metadata: { name } }, ctx);
  }
  const svc = api.registry.find('', 'v1', 'services')!;
  if (!api.store.get('/services', 'default', 'kubernetes')) {
    api.create(svc, 'default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    }, ctx);
  }
  const ep = api.registry.find('', 'v1', 'endpoints')!;
  if (!api.store.get('/endpoints', 'default', 'kubernetes')) {
    api.create(ep, 'default', {
      metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: '172.18.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
    }, ctx);
  }
}

interface Api500Fault {
  count?: number;
  pathRegex?: string;
  methods?: string[];
}

/** True (and one fewer left) when the api500 knob claims this request. */
function takeApi500(faults: Obj, method: string, url: URL): boolean {
  const f = faults.api500 as Api500Fault | undefined;
  if (!isObj(f) || typeof f.count !== 'number' || f.count <= 0) return false;
  if (Array.isArray(f.methods) && f.methods.length && !f.methods.some((m) => m.toUpperCase() === method.toUpperCase())) return false;
  if (f.pathRegex) {
    let re: RegExp;
    try {
      re = new RegExp(f.pathRegex);
    } catch {
      return false;
    }
    if (!re.test(url.pathname + url.search)) return false;
  }
  f.count -= 1;
  if (f.count === 0) delete faults.api500;
  return true;
}

function actorOf(req: IncomingMessage): string | undefined {
  const v = req.headers[ACTOR_HEADER];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

export async function startSimServer(opts: SimServerOptions = {}): Promise<SimServer> {
  const store = new Store(opts.historyLimit);
  const state = new SimState();
  const api = new Api(store, () => state.faults);
  api.setSweeper(lifecycleSweeper(api));
  const logs = new LogStore(() => state.faults);
  const portForward = new PortForwardHub();
  store.subscribe((ev) => logs.onStoreEvent(ev));
  store.subscribe((ev) => portForward.onStoreEvent(ev));
  const watches = new WatchHub(api, () => state.faults, opts.bookmarkIntervalMs ?? 1000);
  let address = '127.0.0.1:0';

  const wipe = (): void => {
    watches.closeAll();
    logs.clearAll();
    portForward.clearAll();
    store.wipe();
    api.registry.invalidate();
  };
  const deps = { api, state, logs, watches, serverAddress: () => address };
  const controlDeps = { state, store, logs, portForward, watches, wipe, seed: () => seed(api) };

  /** Latency and injected 500s, for requests from clients only. */
  const clientFaults = async (req: IncomingMessage, url: URL, actor: string | undefined): Promise<void> => {
    if (actor) return;
    const latency = state.faults.latencyMs;
    if (typeof latency === 'number' && latency > 0) {
      state.delayedRequests++;
      await sleep(latency);
    }
    if (takeApi500(state.faults, req.method ?? 'GET', url)) throw internalError('simulated fault (api500)');
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    try {
      if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) return await handleControl(req, res, url, controlDeps);
      const actor = actorOf(req);
      await clientFaults(req, url, actor);
      await handleApi(req, res, url, deps, actor);
    } catch (err) {
      sendError(res, err);
    }
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    try {
      const actor = actorOf(req);
      await clientFaults(req, url, actor);
      const p = parseResourcePath(api, url.pathname);
      if (!p || p.subresource !== 'portforward' || !p.name) throw badRequest('only pods/portforward accepts upgrade requests');
      state.count(actor ?? 'client', 'connect');
      portForward.handleUpgrade(api, req, socket, head, p.namespace, p.name, url.searchParams);
    } catch (err) {
      rejectUpgrade(socket, toApiError(err));
    }
  };

  const server = createServer((req, res) => void onRequest(req, res));
  server.on('upgrade', (req, socket, head) => void onUpgrade(req, socket, head));
  seed(api);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    subscribe(listener) {
      return store.subscribe((ev) => listener({ type: ev.type, storageKey: ev.storageKey, resourceVersion: String(ev.rv), object: clone(ev.object) }));
    },
    faults: () => state.faults,
    logs,
    portForward,
    async close() {
      watches.closeAll();
      logs.clearAll();
      portForward.clearAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
