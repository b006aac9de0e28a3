// A static HTTP server standing in for the places the CLI downloads upstream manifests from
// (download.elastic.co for ECK, raw.githubusercontent.com for ingress-nginx's kind provider):
//   /eck/<V>/crds.yaml                          the real CRDs (test/fixtures/crds/eck-all-crds.yaml)
//   /eck/<V>/operator.yaml                      the operator manifest (eck/manifest.ts)
//   /ingress-nginx/controller-v<V>/deploy.yaml  the kind provider manifest (ingress-nginx/manifest.ts)
// Anything else is 404. The `downloads` fault knob makes it answer an error status or drop
// connections, for some paths, some number of times.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import type { KubeObject } from '../api-client.ts';
import { crdFixtureFile } from '../../fixtures/crds/location.ts';
import type { DownloadsFault } from '../faults.ts';
import { matchesAny } from '../faults.ts';
import { eckOperatorObjects } from '../eck/manifest.ts';
import { ingressNginxObjects } from '../ingress-nginx/manifest.ts';

/** ECK versions whose CRDs we hold (the fixture is 3.5.0's). */
export const ECK_VERSIONS = ['3.5.0'];
export const INGRESS_NGINX_VERSIONS = ['v1.15.1', 'v1.14.3', 'v1.12.4'];

export interface DownloadServer {
  url: string;
  /** "GET /path -> status" for every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

function yamlDocs(docs: { source?: string; obj: KubeObject }[]): string {
  return docs.map(({ source, obj }) => `---\n${source ? `# Source: ${source}\n` : ''}${stringify(obj)}`).join('');
}

/** The body for a path, or undefined (404). */
export function downloadBody(path: string): string | undefined {
  let m = /^\/eck\/([^/]+)\/(crds|operator)\.yaml$/.exec(path);
  if (m && ECK_VERSIONS.includes(m[1]!)) {
    if (m[2] === 'operator') return yamlDocs(eckOperatorObjects(m[1]!));
    // A missing fixture throws (the server answers 500 with the message), never passes for a 404.
    return readFileSync(crdFixtureFile('eck-all-crds.yaml'), 'utf8');
  }
  m = /^\/ingress-nginx\/controller-(v[^/]+)\/deploy\.yaml$/.exec(path);
  if (m && INGRESS_NGINX_VERSIONS.includes(m[1]!)) return yamlDocs(ingressNginxObjects(m[1]!).map((obj) => ({ obj })));
  return undefined;
}

/** Applies the knob to one request: true when it was answered (or dropped) by the fault. */
function fault(knobs: () => Record<string, unknown>, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const all = knobs();
  const f = all.downloads as DownloadsFault | undefined;
  if (!f || typeof f !== 'object') return false;
  if (f.pathRegex && !matchesAny(path, [f.pathRegex])) return false;
  if (!f.down && !f.status) return false;
  if (typeof f.count === 'number') {
    if (f.count <= 0) return false;
    f.count -= 1;
    if (f.count === 0) delete all.downloads;
  }
  if (f.down) {
    req.socket.destroy();
    return true;
  }
  res.writeHead(f.status!, { 'content-type': 'text/plain' }).end(`simulated HTTP ${f.status}\n`);
  return true;
}

/** Starts the server on 127.0.0.1:<random port>; `knobs` returns the live fault object. */
export async function startDownloadServer(knobs: () => Record<string, unknown>): Promise<DownloadServer> {
  const requests: string[] = [];
  const bodies = new Map<string, string | undefined>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (fault(knobs, req, res, path)) {
      requests.push(`${req.method} ${path} -> ${res.headersSent ? res.statusCode : 'dropped'}`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      requests.push(`${req.method} ${path} -> 405`);
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      if (!bodies.has(path)) bodies.set(path, downloadBody(path));
    } catch (err) {
      // A missing fixture: answer with its message (which says how to regenerate) instead of crashing.
      requests.push(`${req.method} ${path} -> 500`);
      res.writeHead(500, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.message : String(err));
      return;
    }
    const body = bodies.get(path);
    requests.push(`${req.method} ${path} -> ${body === undefined ? 404 : 200}`);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
