// Elasticsearch as a scenario reads it: a port-forward on 127.0.0.1 to ECK's Service
// `<name>-es-http` port 9200, HTTPS without certificate checks (ECK's certificate is
// self-signed), basic auth as `elastic` with the password from ECK's Secret
// `<name>-es-elastic-user`. node:https rather than fetch, because fetch cannot skip certificate
// checks per request. An index that does not exist yet reads as empty: the pipeline creates
// `fluentd` with its first write.
import { request } from 'node:https';
import type { SandboxConfig } from '../scripts/lib/config.ts';
import { SandboxError } from '../scripts/lib/errors.ts';
import type { Kube, PortForward } from '../scripts/lib/kube/kube.ts';
import { ES_NAME } from '../scripts/steps/eck.ts';

const PORT = 9200;
const REQUEST_TIMEOUT_MS = 30_000;

export interface Hit {
  _id: string;
  _source?: Record<string, unknown>;
  sort?: unknown[];
}

export interface Elasticsearch extends AsyncDisposable {
  /** Hits of one `_search` page and the total (exact up to 10000). */
  search(index: string, body: Record<string, unknown>): Promise<{ total: number; hits: Hit[] }>;
  count(index: string, body: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

/** The Service scenarios reach Elasticsearch through (ECK's `<name>-es-http`). */
export function elasticsearchService(cfg: SandboxConfig): { namespace: string; name: string } {
  return { namespace: cfg.namespaces.logging, name: `${ES_NAME}-es-http` };
}

interface Answer {
  status: number;
  body: any;
}

function call(forward: PortForward, auth: string, path: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: forward.localPort,
        method: 'POST',
        path,
        rejectUnauthorized: false,
        timeout: REQUEST_TIMEOUT_MS,
        signal,
        headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = raw ? JSON.parse(raw) : undefined;
          } catch {
            // not JSON: keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Elasticsearch did not answer ${path} within ${REQUEST_TIMEOUT_MS / 1000}s`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** ES's error object in one line: `type: reason (root cause)`. */
function errorText(a: Answer): string {
  const e = a.body?.error;
  if (typeof e === 'string') return e;
  if (!e) return `HTTP ${a.status}`;
  const cause = e.caused_by?.reason ?? e.root_cause?.[0]?.reason;
  return `${e.type}: ${e.reason}${cause && cause !== e.reason ? ` (${cause})` : ''}`;
}

export async function openElasticsearch(kube: Kube, cfg: SandboxConfig, signal?: AbortSignal): Promise<Elasticsearch> {
  const svc = elasticsearchService(cfg);
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: `${ES_NAME}-es-elastic-user`, namespace: svc.namespace });
  const password = (secret?.data as Record<string, string> | undefined)?.elastic;
  if (password === undefined) {
    throw new SandboxError(`no elastic user password: Secret ${svc.namespace}/${ES_NAME}-es-elastic-user is missing or has no key "elastic"`, { hint: 'run `sandbox up --profile full` so that ECK sets up Elasticsearch' });
  }
  const auth = `Basic ${Buffer.from(`elastic:${Buffer.from(password, 'base64').toString('utf8')}`).toString('base64')}`;
  const forward = await kube.portForward({ namespace: svc.namespace, service: svc.name, port: PORT });
  const post = async (path: string, body: unknown): Promise<Answer | undefined> => {
    const a = await call(forward, auth, path, body, signal);
    if (a.status === 404 && a.body?.error?.type === 'index_not_found_exception') return undefined;
    if (a.status !== 200) throw new Error(`Elasticsearch refused ${path}: ${errorText(a)}`);
    return a;
  };
  return {
    async search(index, body) {
      const a = await post(`/${encodeURIComponent(index)}/_search`, body);
      return { total: Number(a?.body?.hits?.total?.value ?? 0), hits: (a?.body?.hits?.hits ?? []) as Hit[] };
    },
    async count(index, body) {
      const a = await post(`/${encodeURIComponent(index)}/_count`, body);
      return Number(a?.body?.count ?? 0);
    },
    close: () => forward.close(),
    [Symbol.asyncDispose]: () => forward.close(),
  };
}
