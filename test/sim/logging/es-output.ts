// fluentd's elasticsearch output (fluent-plugin-elasticsearch, as the logging operator configures
// it from an Output/ClusterOutput): one `_bulk` request per buffer chunk to `host:port` over the
// scheme given, with basic auth (the password read from its Secret in the output's namespace),
// certificate checks unless `ssl_verify: false`, into `index_name` (default `fluentd`) or, with
// `logstash_format`, `<logstash_prefix>-YYYY.MM.DD`. `@timestamp` is added only with
// `include_timestamp` or `logstash_format`, as the plugin does. The cluster DNS name resolves the
// way kube-proxy would: the Service, a ready pod behind it, and the address the simulated
// kubelet registered for that pod's port.
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeObject, SimClient } from '../api-client.ts';
import { isPodReady } from '../controllers/names.ts';
import type { FluentEvent } from './filters.ts';

interface EsOutputSpec {
  host?: string;
  port?: number;
  scheme?: string;
  ssl_verify?: boolean;
  user?: string;
  password?: string | { valueFrom?: { secretKeyRef?: { name?: string; key?: string } } };
  index_name?: string;
  logstash_format?: boolean;
  logstash_prefix?: string;
  include_timestamp?: boolean;
}

/** fluent-plugin-elasticsearch's `@timestamp`: ISO 8601 with nine fraction digits (time_precision 9). */
export function pluginTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000+00:00');
}

function indexFor(spec: EsOutputSpec, time: number): string {
  if (!spec.logstash_format) return spec.index_name || 'fluentd';
  const d = new Date(time).toISOString().slice(0, 10).replaceAll('-', '.');
  return `${spec.logstash_prefix || 'logstash'}-${d}`;
}

/** The NDJSON body of one `_bulk` request for these events. */
export function bulkBody(spec: EsOutputSpec, events: FluentEvent[]): string {
  const lines: string[] = [];
  for (const ev of events) {
    const stamp = spec.include_timestamp || spec.logstash_format;
    const doc = stamp && !('@timestamp' in ev.record) ? { ...ev.record, '@timestamp': pluginTimestamp(ev.time) } : ev.record;
    lines.push(JSON.stringify({ index: { _index: indexFor(spec, ev.time) } }), JSON.stringify(doc));
  }
  return `${lines.join('\n')}\n`;
}

/** Where `<service>.<namespace>.svc[.cluster.local]:<port>` leads inside the simulation. */
async function resolve(api: SimClient, host: string, port: number, defaultNs: string): Promise<{ host: string; port: number }> {
  const [service, namespace = defaultNs] = host.split('.');
  const svc = await api.get<KubeObject>(`/api/v1/namespaces/${namespace}/services/${service}`);
  if (!svc) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  const sp = ((svc.spec?.ports ?? []) as { port: number; targetPort?: number | string }[]).find((p) => p.port === port);
  if (!sp) throw new Error(`connect ECONNREFUSED ${host}:${port} (the Service has no port ${port})`);
  const selector = Object.entries((svc.spec?.selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = (await api.list(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selector })).items.filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp);
  const pod = pods[0];
  if (!pod) throw new Error(`connect ECONNREFUSED ${host}:${port} (no ready endpoint)`);
  let target = typeof sp.targetPort === 'number' ? sp.targetPort : Number(sp.targetPort ?? port);
  if (Number.isNaN(target)) {
    const named = ((pod.spec?.containers ?? []) as { ports?: { name?: string; containerPort: number }[] }[]).flatMap((c) => c.ports ?? []).find((p) => p.name === sp.targetPort);
    target = named?.containerPort ?? port;
  }
  const targets = await api.request<{ namespace: string; pod: string; port: number; host: string; targetPort: number }[]>('GET', '/_sim/portforward-targets');
  const t = targets.find((x) => x.namespace === namespace && x.pod === pod.metadata.name && x.port === target);
  if (!t) throw new Error(`connect ECONNREFUSED ${host}:${port} (nothing listens on ${pod.metadata.name}:${target})`);
  return { host: t.host, port: t.targetPort };
}

async function password(api: SimClient, spec: EsOutputSpec, namespace: string): Promise<string> {
  const p = spec.password;
  if (typeof p === 'string' || p === undefined) return p ?? '';
  const ref = p.valueFrom?.secretKeyRef;
  const secret = ref?.name ? await api.get<KubeObject>(`/api/v1/namespaces/${namespace}/secrets/${ref.name}`) : undefined;
  const v = (secret?.data as Record<string, string> | undefined)?.[ref?.key ?? ''];
  if (v === undefined) throw new Error(`failed to load the password secret ${namespace}/${ref?.name ?? ''}`);
  return Buffer.from(v, 'base64').toString('utf8');
}

/** Writes events with one `_bulk` call; throws (so the chunk is retried) on any failure. */
export async function writeBulk(api: SimClient, output: KubeObject, events: FluentEvent[], signal: AbortSignal): Promise<void> {
  const spec = (output.spec?.elasticsearch ?? {}) as EsOutputSpec;
  const host = spec.host ?? 'localhost';
  const port = spec.port ?? 9200;
  const where = await resolve(api, host, port, output.metadata.namespace ?? 'default');
  const auth = spec.user ? `Basic ${Buffer.from(`${spec.user}:${await password(api, spec, output.metadata.namespace ?? 'default')}`).toString('base64')}` : undefined;
  const body = bulkBody(spec, events);
  const https = (spec.scheme ?? 'http') === 'https';
  const answer = await new Promise<{ status: number; text: string }>((ok, fail) => {
    const req = (https ? request : httpRequest)(
      {
        host: where.host,
        port: where.port,
        method: 'POST',
        path: '/_bulk',
        servername: https ? host : undefined,
        rejectUnauthorized: spec.ssl_verify !== false,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body), ...(auth ? { authorization: auth } : {}) },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
  if (answer.status !== 200) throw new Error(`could not push logs to Elasticsearch: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  const result = JSON.parse(answer.text) as { errors?: boolean; items?: Record<string, { status: number }>[] };
  // Rejected documents (4xx) are dropped by the plugin; a busy or failing cluster (429, 5xx) means retry.
  const retry = (result.items ?? []).some((i) => Object.values(i).some((x) => x.status === 429 || x.status >= 500));
  if (result.errors && retry) throw new Error('Elasticsearch rejected part of the bulk request (retrying the chunk)');
}
