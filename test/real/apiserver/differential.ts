// The machinery of the differential test: one raw HTTP client for both servers (no retries, no
// error mapping: the answers as they are), and the observation each answer is reduced to so
// that two servers can be compared: status code, Status reason and causes, and for objects
// what a client relies on (managers and the fields they own, whether the resourceVersion moved,
// generation, the object's content without per-server noise).
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, inject } from 'vitest';
import { startSimServer, type SimServer } from '../../sim/api/server.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

export interface Endpoint {
  base: string;
  /** Client certificate and CA, PEM text (the real server); none for the fake's plain HTTP. */
  tls?: { ca: string; cert: string; key: string };
}

/**
 * A kube-apiserver (with etcd) and a bare fake API server for the file's tests, started before
 * them and stopped after; the endpoints are set once both answer.
 */
export function bothServers(): { real: Endpoint; fake: Endpoint } {
  const servers = { real: { base: '' } as Endpoint, fake: { base: '' } as Endpoint };
  let plane: ControlPlane | undefined;
  let sim: SimServer | undefined;
  beforeAll(async () => {
    [plane, sim] = await Promise.all([startControlPlane(inject('controlPlaneBinaries')), startSimServer()]);
    const read = (f: string): Promise<string> => readFile(f, 'utf8');
    servers.real = { base: plane.server, tls: { ca: await read(plane.certs.caCert), cert: await read(plane.certs.adminCert), key: await read(plane.certs.adminKey) } };
    servers.fake = { base: sim.url };
  });
  afterAll(async () => {
    await plane?.stop();
    await sim?.close();
  });
  return servers;
}

export interface Call {
  /** What the step shows in a difference report: "apply ConfigMap as helm, no force". */
  label: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Default: JSON. */
  contentType?: string;
}

export interface Answer {
  status: number;
  body: any;
}

export function send(ep: Endpoint, call: Call): Promise<Answer> {
  const url = new URL(ep.base + call.path);
  for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'differential/1.0' };
  if (payload !== undefined) headers['content-type'] = call.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = (ep.tls ? httpsRequest : httpRequest)(url, { method: call.method, headers, ...(ep.tls ?? {}), timeout: 20_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${call.method} ${call.path}: no answer in 20 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a watch and collects its events until `stop()`; events are reduced by `reduce`. */
export function watch(ep: Endpoint, path: string, query: Record<string, string>): { events: any[]; ready: Promise<void>; stop(): void } {
  const url = new URL(ep.base + path);
  for (const [k, v] of Object.entries({ ...query, watch: '1' })) url.searchParams.set(k, v);
  const events: any[] = [];
  let stopper = (): void => {};
  const ready = new Promise<void>((resolve, reject) => {
    const req = (ep.tls ? httpsRequest : httpRequest)(url, { method: 'GET', headers: { accept: 'application/json' }, ...(ep.tls ?? {}) }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) events.push(JSON.parse(line));
        }
      });
      res.on('error', () => {});
      resolve();
    });
    req.on('error', (err) => (events.length ? undefined : reject(err)));
    req.end();
    stopper = () => req.destroy();
  });
  return { events, ready, stop: () => stopper() };
}

/**
 * A FieldsV1 tree as the fake models ownership (DIFFERENCES.md): without "." (ownership of a
 * map or list item itself), and a set-typed list (`v:` members) as one field.
 */
export function ownedLeaves(tree: unknown): unknown {
  if (typeof tree !== 'object' || tree === null) return tree;
  const entries = Object.entries(tree as Record<string, unknown>).filter(([k]) => k !== '.');
  if (entries.some(([k]) => k.startsWith('v:'))) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const inner = v as Record<string, unknown>;
    // A node that held nothing but "." was a membership mark only.
    if (Object.keys(inner).length === 1 && '.' in inner) continue;
    out[k] = ownedLeaves(v);
  }
  return out;
}

/** JSON with object keys sorted, so that two servers' field orders do not count as differences. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    typeof val === 'object' && val !== null && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );
}

/** What differs between servers by nature: identity, clocks and counters. */
const VOLATILE_META = ['uid', 'creationTimestamp', 'resourceVersion', 'managedFields', 'deletionTimestamp', 'selfLink'];

/** An object reduced to what a client can rely on; `lastRv` tracks resourceVersions per object across calls. */
export function observeObject(obj: any, lastRv: Map<string, string>): Record<string, unknown> {
  const md = obj.metadata ?? {};
  const key = `${obj.kind}/${md.namespace ?? ''}/${md.name}`;
  const rv = md.resourceVersion as string | undefined;
  const before = lastRv.get(key);
  if (rv) lastRv.set(key, rv);
  const managed = (md.managedFields ?? []) as Array<{ manager: string; operation: string; subresource?: string; fieldsV1?: unknown }>;
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) if (!VOLATILE_META.includes(k)) meta[k] = v;
  if (md.deletionTimestamp) meta.deletionTimestamp = '(set)';
  const { metadata: _m, ...rest } = obj;
  return {
    resourceVersion: rv === undefined ? 'none' : before === undefined ? 'first seen' : before === rv ? 'unchanged' : 'moved',
    managers: managed.map((m) => `${m.manager} ${m.operation}${m.subresource ? ` /${m.subresource}` : ''}`).sort(),
    fields: Object.fromEntries(managed.map((m) => [`${m.manager} ${m.operation}${m.subresource ? ` /${m.subresource}` : ''}`, ownedLeaves(m.fieldsV1)])),
    metadata: meta,
    ...rest,
  };
}

/** An answer reduced for comparison. A Status keeps code, reason and causes; an object its observation. */
export function observe(answer: Answer, lastRv: Map<string, string>): Record<string, unknown> {
  const b = answer.body;
  if (b && typeof b === 'object' && b.kind === 'Status') {
    return { status: answer.status, reason: b.reason ?? '', message: b.message ?? '', causes: b.details?.causes ?? [] };
  }
  if (b && typeof b === 'object' && Array.isArray(b.items)) {
    return { status: answer.status, items: b.items.map((o: any) => o.metadata?.name) };
  }
  if (b && typeof b === 'object' && b.metadata) return { status: answer.status, object: observeObject(b, lastRv) };
  return { status: answer.status, body: b };
}

/** The paths (a.b[2].c) at which two observations differ, with both values, shortened. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (canonical(a) === canonical(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => differences(a[k], b[k], `${path}.${k}`));
  }
  // Lists of strings (watch events): item by item, so one extra event shows as one difference.
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => typeof x === 'string')) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => differences(a[i], b[i], `${path}[${i}]`)).flat();
  }
  const show = (v: unknown): string => (v === undefined ? '(absent)' : canonical(v).slice(0, 300));
  return [`${path || '.'}: fake ${show(a)}, real ${show(b)}`];
}
