// The simulation's own endpoints under /_sim/ (not Kubernetes; JSON in and out): fault knobs,
// the audit of state-changing requests, fake tool calls, kind clusters, container logs,
// port-forward targets, and a state dump for debugging.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJson, readBody, sendJson } from './http.ts';
import type { LogStore } from './logs.ts';
import { mergePatch } from './patch.ts';
import type { PortForwardHub } from './portforward.ts';
import type { Store } from './store.ts';
import { type Obj, isObj } from './types.ts';
import type { WatchHub } from './watch.ts';

export interface AuditEntry {
  /** 1-based position; `?since=n` returns the entries with index > n. */
  index: number;
  time: string;
  actor: string;
  verb: string;
  method: string;
  path: string;
  apiVersion: string;
  kind: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  dryRun: boolean;
  code: number;
  /** Content type of a PATCH: json, merge, strategic or apply. */
  patchType?: string;
}

export interface CallRecord {
  index: number;
  time: string;
  tool: string;
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
}

export interface ClusterRecord {
  name: string;
  createdAt: string;
}

/** Everything the /_sim endpoints read and change, shared with the API handlers. */
export class SimState {
  faults: Obj = {};
  audit: AuditEntry[] = [];
  /** Client requests the latencyMs knob held back, so a test can tell the knob fired. */
  delayedRequests = 0;
  /** Requests per actor per verb (reads included). */
  counts: Record<string, Record<string, number>> = {};
  calls: CallRecord[] = [];
  clusters = new Map<string, ClusterRecord>();

  count(actor: string, verb: string): void {
    const byVerb = (this.counts[actor] ??= {});
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
  }

  record(entry: Omit<AuditEntry, 'index' | 'time'>): void {
    this.audit.push({ index: this.audit.length + 1, time: new Date().toISOString(), ...entry });
  }
}

export interface ControlDeps {
  state: SimState;
  store: Store;
  logs: LogStore;
  portForward: PortForwardHub;
  watches: WatchHub;
  /** Removes every object, the history and the logs (the cluster is gone), then nothing is seeded. */
  wipe(): void;
  /** Creates the namespaces and objects a fresh cluster has. */
  seed(): void;
}

class ControlError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function need<T>(cond: T, message: string): asserts cond {
  if (!cond) throw new ControlError(400, message);
}

function since(q: URLSearchParams): number {
  const n = Number(q.get('since') ?? 0);
  return Number.isFinite(n) ? n : 0;
}

async function bodyOf(req: IncomingMessage): Promise<Obj> {
  const text = await readBody(req);
  const body: unknown = text.trim() ? parseJson(text, 'invalid JSON') : {};
  need(isObj(body), 'the body must be a JSON object');
  return body as Obj;
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, d: ControlDeps): Promise<void> {
  const { state } = d;
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '');
  const q = url.searchParams;

  if (path === '/_sim/faults') {
    if (method === 'GET') return sendJson(res, 200, state.faults);
    if (method === 'PUT' || method === 'PATCH') {
      const body = await bodyOf(req);
      state.faults = method === 'PUT' ? body : (mergePatch(state.faults, body) as Obj);
      d.watches.refaults();
      return sendJson(res, 200, state.faults);
    }
  }
  if (path === '/_sim/audit' && method === 'GET') return sendJson(res, 200, state.audit.filter((e) => e.index > since(q)));
  if (path === '/_sim/audit/counts' && method === 'GET') {
    const byVerb: Record<string, number> = {};
    for (const verbs of Object.values(state.counts)) for (const [v, n] of Object.entries(verbs)) byVerb[v] = (byVerb[v] ?? 0) + n;
    return sendJson(res, 200, { byVerb, byActor: state.counts });
  }
  if (path === '/_sim/audit/reset' && method === 'POST') {
    state.audit = [];
    state.counts = {};
    return sendJson(res, 200, { ok: true });
  }
  if (path === '/_sim/calls') {
    if (method === 'GET') {
      const tool = q.get('tool');
      return sendJson(res, 200, state.calls.filter((c) => c.index > since(q) && (!tool || c.tool === tool)));
    }
    if (method === 'POST') {
      const b = await bodyOf(req);
      need(typeof b.tool === 'string' && Array.isArray(b.argv), 'tool (string) and argv (string[]) are required');
      const rec: CallRecord = { index: state.calls.length + 1, time: new Date().toISOString(), tool: b.tool, argv: b.argv.map(String), cwd: String(b.cwd ?? '') };
      if (isObj(b.env)) rec.env = b.env as Record<string, string>;
      state.calls.push(rec);
      return sendJson(res, 201, rec);
    }
  }
  if (path === '/_sim/calls/reset' && method === 'POST') {
    state.calls = [];
    return sendJson(res, 200, { ok: true });
  }
  if (path === '/_sim/clusters') {
    if (method === 'GET') return sendJson(res, 200, [...state.clusters.values()]);
    if (method === 'POST') {
      const b = await bodyOf(req);
      need(typeof b.name === 'string' && b.name, 'name (string) is required');
      if (state.clusters.has(b.name)) throw new ControlError(409, `cluster ${b.name} already exists`);
      // A first cluster after none (or after a wipe) starts from a fresh cluster's objects.
      if (state.clusters.size === 0 && d.store.count() === 0) d.seed();
      const rec = { name: b.name, createdAt: new Date().toISOString() };
      state.clusters.set(b.name, rec);
      return sendJson(res, 201, rec);
    }
  }
  const cm = /^\/_sim\/clusters\/([^/]+)$/.exec(path);
  if (cm) {
    const name = decodeURIComponent(cm[1]);
    const rec = state.clusters.get(name);
    if (!rec) throw new ControlError(404, `cluster ${name} not found`);
    if (method === 'GET') return sendJson(res, 200, rec);
    if (method === 'DELETE') {
      state.clusters.delete(name);
      d.wipe();
      return sendJson(res, 200, rec);
    }
  }
  if (path === '/_sim/logs' && method === 'POST') {
    const b = await bodyOf(req);
    need(typeof b.namespace === 'string' && typeof b.pod === 'string' && typeof b.container === 'string', 'namespace, pod and container are required');
    need(Array.isArray(b.lines), 'lines (string[]) is required');
    const attempt = Number(b.attempt ?? 0);
    need(Number.isInteger(attempt) && attempt >= 0, 'attempt must be a non-negative integer');
    // The writer names the pod's uid (the kubelet does); a test's write without one goes to the pod of that name now.
    const uid = typeof b.uid === 'string' ? b.uid : String(d.store.get('/pods', b.namespace, b.pod)?.metadata?.uid ?? '');
    d.logs.append({ ns: b.namespace, pod: b.pod, uid }, b.container, attempt, b.lines.map(String), b.terminated === true);
    return sendJson(res, 200, { ok: true, lines: b.lines.length });
  }
  if (path === '/_sim/portforward-targets') {
    if (method === 'GET') return sendJson(res, 200, d.portForward.list());
    if (method === 'POST') {
      const b = await bodyOf(req);
      need(typeof b.namespace === 'string' && typeof b.pod === 'string', 'namespace and pod are required');
      need(Number.isInteger(b.port) && Number.isInteger(b.targetPort), 'port and targetPort must be integers');
      d.portForward.register(b.namespace, b.pod, b.port, { host: String(b.host ?? '127.0.0.1'), port: b.targetPort });
      return sendJson(res, 201, { ok: true });
    }
  }
  if (path === '/_sim/compact' && method === 'POST') {
    d.store.compact();
    return sendJson(res, 200, { resourceVersion: String(d.store.rv) });
  }
  if (path === '/_sim/state' && method === 'GET') {
    const objects: Record<string, number> = {};
    const all: Obj[] = [];
    for (const [k, o] of d.store.entries()) {
      objects[k] = (objects[k] ?? 0) + 1;
      if (q.get('objects') === 'true') all.push(o);
    }
    const body: Obj = {
      resourceVersion: String(d.store.rv),
      oldestResourceVersion: String(d.store.oldestRv),
      clusters: [...state.clusters.values()],
      objects,
      watches: d.watches.size,
      clientWatches: d.watches.clientOpen,
      watchesDropped: d.watches.dropped,
      delayedRequests: state.delayedRequests,
      logStreamsDropped: d.logs.dropped,
      faults: state.faults,
      auditEntries: state.audit.length,
      calls: state.calls.length,
    };
    if (q.get('objects') === 'true') body.items = all;
    return sendJson(res, 200, body);
  }
  throw new ControlError(404, `no such sim endpoint: ${method} ${path}`);
}

export async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, d: ControlDeps): Promise<void> {
  try {
    await route(req, res, url, d);
  } catch (err) {
    const code = err instanceof ControlError ? err.code : (err as { code?: unknown }).code === 400 ? 400 : 500;
    sendJson(res, code, { error: err instanceof Error ? err.message : String(err) });
  }
}
