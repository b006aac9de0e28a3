// The simulated Elasticsearch's REST API: a real HTTPS server on 127.0.0.1 (self-signed
// certificate) with basic authentication against the elastic user's password, serving what the
// logging pipeline writes and what the sandbox and its users read: `GET /`, `_cluster/health`,
// `_bulk` (index/create), `_search`, `_count`, `_refresh` and `<index>/_doc`. Errors have ES's
// shape and status codes. Indices live in an `EsData` that outlasts the server (the node's data
// volume), so a restarted Elasticsearch pod still has its documents.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EsIndex, isObject } from './es-index.ts';
import { EsError } from './es-query.ts';
import { count, search } from './es-search.ts';

/** The indices of one cluster (what its data volume holds). */
export class EsData {
  readonly indices = new Map<string, EsIndex>();
  readonly uuid: string = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url').slice(0, 22);

  index(name: string): EsIndex {
    let i = this.indices.get(name);
    if (!i) this.indices.set(name, (i = new EsIndex(name)));
    return i;
  }

  /** An index expression (`fluentd`, `logs-*`, `a,b`, `_all`): the indices it names; a missing concrete name is an error. */
  resolve(expr: string | undefined): EsIndex[] {
    if (!expr || expr === '_all' || expr === '*') return [...this.indices.values()];
    const out = new Set<EsIndex>();
    for (const part of expr.split(',')) {
      if (part.includes('*')) {
        const re = new RegExp(`^${part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
        for (const [name, i] of this.indices) if (re.test(name)) out.add(i);
        continue;
      }
      const i = this.indices.get(part);
      if (!i) throw new EsError(404, 'index_not_found_exception', `no such index [${part}]`, { 'resource.type': 'index_or_alias', 'resource.id': part, index_uuid: '_na_', index: part });
      out.add(i);
    }
    return [...out];
  }
}

export interface EsServerOptions {
  clusterName: string;
  nodeName: string;
  version: string;
  data: EsData;
  tls: { key: string; cert: string };
  /** The elastic user's current password (ECK's Secret), undefined while there is none. */
  password(): Promise<string | undefined>;
  /** How long after indexing a document becomes searchable (index.refresh_interval). */
  refreshMs: number;
}

export interface EsServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-elastic-product': 'Elasticsearch', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: EsError, headers: Record<string, string> = {}): void {
  const cause = { type: err.type, reason: err.message, ...err.extra };
  const rootCause = (err.extra.root_cause as unknown[] | undefined) ?? [{ type: err.type, reason: err.message, ...err.extra }];
  send(res, err.status, { error: { root_cause: rootCause, ...cause }, status: err.status }, headers);
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new EsError(400, 'x_content_parse_exception', `[1:1] Unexpected character: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw new EsError(400, 'parse_exception', 'request body or source parameter is required');
  return v;
}

function bulk(data: EsData, text: string, defaultIndex: string | undefined, visibleAt: number): Record<string, unknown> {
  const started = Date.now();
  if (text.length > 0 && !text.endsWith('\n')) throw new EsError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const items: Record<string, unknown>[] = [];
  let errors = false;
  for (let i = 0; i < lines.length; i++) {
    const action = json(lines[i]!);
    const [op, meta] = Object.entries(action)[0] ?? [];
    if (op !== 'index' && op !== 'create') throw new EsError(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected field [create], [delete], [index] or [update] but found [${op}]`);
    const m = isObject(meta) ? meta : {};
    const name = String(m._index ?? defaultIndex ?? '');
    const source = json(lines[++i] ?? '');
    if (!name) {
      errors = true;
      items.push({ [op]: { _index: null, _id: null, status: 400, error: { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: index is missing;' } } });
      continue;
    }
    const index = data.index(name);
    try {
      const r = index.put(source, { id: m._id === undefined ? undefined : String(m._id), create: op === 'create', visibleAt });
      items.push({ [op]: { _index: name, _id: r.id, _version: r.version, result: r.result, _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: r.seqNo, _primary_term: 1, status: r.result === 'created' ? 201 : 200 } });
    } catch (err) {
      errors = true;
      items.push({ [op]: { _index: name, _id: String(m._id), status: 409, error: { type: 'version_conflict_engine_exception', reason: (err as Error).message, index: name } } });
    }
  }
  return { errors, took: Date.now() - started, items };
}

async function authorized(req: IncomingMessage, opts: EsServerOptions, uri: string): Promise<EsError | undefined> {
  const header = req.headers.authorization ?? '';
  const m = /^Basic (.+)$/i.exec(header);
  if (!m) return new EsError(401, 'security_exception', `missing authentication credentials for REST request [${uri}]`);
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const expected = await opts.password();
  if (user === 'elastic' && expected !== undefined && password === expected) return undefined;
  return new EsError(401, 'security_exception', `unable to authenticate user [${user}] for REST request [${uri}]`);
}

async function route(req: IncomingMessage, res: ServerResponse, opts: EsServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://es.local');
  const method = req.method ?? 'GET';
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const denied = await authorized(req, opts, url.pathname + url.search);
  if (denied) return sendError(res, denied, { 'www-authenticate': 'Basic realm="security", charset="UTF-8"' });
  const { data } = opts;
  const now = Date.now();
  const refresh = url.searchParams.get('refresh');
  const visibleAt = refresh === 'true' || refresh === '' || refresh === 'wait_for' ? now : now + opts.refreshMs;
  const last = parts.at(-1);
  const params = (b: Record<string, unknown>): Record<string, unknown> => ({
    ...b,
    ...(url.searchParams.has('size') ? { size: url.searchParams.get('size') } : {}),
    ...(url.searchParams.has('from') ? { from: url.searchParams.get('from') } : {}),
  });

  if (parts.length === 0 && (method === 'GET' || method === 'HEAD')) {
    return send(res, 200, {
      name: opts.nodeName,
      cluster_name: opts.clusterName,
      cluster_uuid: data.uuid,
      version: { number: opts.version, build_flavor: 'default', build_type: 'docker', lucene_version: '9.12.2', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
      tagline: 'You Know, for Search',
    });
  }
  if (parts[0] === '_cluster' && parts[1] === 'health' && method === 'GET') {
    return send(res, 200, { cluster_name: opts.clusterName, status: 'green', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1, active_primary_shards: data.indices.size, active_shards: data.indices.size, relocating_shards: 0, initializing_shards: 0, unassigned_shards: 0 });
  }
  if (last === '_bulk' && parts.length <= 2 && (method === 'POST' || method === 'PUT')) {
    return send(res, 200, bulk(data, await body(req), parts.length === 2 ? parts[0] : undefined, visibleAt));
  }
  if (last === '_refresh' && parts.length <= 2 && (method === 'POST' || method === 'GET')) {
    const indices = data.resolve(parts.length === 2 ? parts[0] : undefined);
    for (const i of indices) for (const d of i.docs) d.visibleAt = Math.min(d.visibleAt, now);
    return send(res, 200, { _shards: { total: indices.length, successful: indices.length, failed: 0 } });
  }
  if ((last === '_search' || last === '_count') && parts.length <= 2 && (method === 'GET' || method === 'POST')) {
    const indices = data.resolve(parts.length === 2 ? parts[0] : undefined);
    const b = params(json(await body(req)));
    return send(res, 200, last === '_search' ? search(indices, b, now) : count(indices, b, now));
  }
  if (parts.length >= 2 && parts[1] === '_doc' && (method === 'POST' || method === 'PUT') && parts.length <= 3) {
    const r = data.index(parts[0]!).put(json(await body(req)), { id: parts[2], visibleAt });
    return send(res, r.result === 'created' ? 201 : 200, { _index: parts[0], _id: r.id, _version: r.version, result: r.result, _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: r.seqNo, _primary_term: 1 });
  }
  // ES answers an unknown endpoint this way (not with an error object).
  return send(res, 400, { error: `no handler found for uri [${url.pathname}] and method [${method}]` });
}

export async function startEsServer(opts: EsServerOptions): Promise<EsServer> {
  const server: Server = createServer({ key: opts.tls.key, cert: opts.tls.cert }, (req, res) => {
    route(req, res, opts).catch((err: unknown) => {
      if (err instanceof EsError) return sendError(res, err);
      sendError(res, new EsError(500, 'exception', err instanceof Error ? err.message : String(err)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
