// The simulation on top of a real kube-apiserver (test/real/apiserver): when SIM_KUBE_REAL
// names a kubeconfig, every Kubernetes request of the simulated controllers, the fake tools
// and the harness goes to that server over TLS with its client certificate, and only the
// simulation's own endpoints (/_sim/: faults, tool calls, pod logs) stay on the fake server.
// client-node makes the TLS connection (its undici Agent); Node's own fetch cannot use it.
// It is loaded on first use only: the fake tools start often and mostly run on the fake server.
import { readFileSync } from 'node:fs';
import type { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { parse } from 'yaml';

export const REAL_KUBECONFIG_ENV = 'SIM_KUBE_REAL';

/** The part of a fetch Response the simulation's client reads. */
export interface SimResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  body: AsyncIterable<Uint8Array> | null;
}

export interface SimRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

interface Underlay {
  server: string;
  send(url: string, init: SimRequestInit): Promise<SimResponse>;
}

let cached: { file: string; underlay: Underlay } | undefined;

/** The current context's server, read without client-node. */
function serverOf(file: string): string {
  const doc = parse(readFileSync(file, 'utf8')) as { 'current-context'?: string; contexts?: any[]; clusters?: any[] };
  const cluster = doc.contexts?.find((c) => c.name === doc['current-context'])?.context?.cluster;
  const server = doc.clusters?.find((c) => c.name === cluster)?.cluster?.server as string | undefined;
  if (!server) throw new Error(`${REAL_KUBECONFIG_ENV}=${file} names no cluster`);
  return server.replace(/\/$/, '');
}

function underlayFor(file: string): Underlay {
  // Imported at the first Kubernetes request, not before: client-node takes seconds to load on
  // a busy machine, and a fake tool that only talks to /_sim (`docker info`, whose answer the
  // CLI's preflight waits 5 s for) should not pay for it.
  let client: Promise<{ k: typeof import('@kubernetes/client-node'); kc: import('@kubernetes/client-node').KubeConfig; http: import('@kubernetes/client-node').IsomorphicFetchHttpLibrary }> | undefined;
  const load = () =>
    (client ??= import('@kubernetes/client-node').then((k) => {
      const kc = new k.KubeConfig();
      kc.loadFromFile(file);
      return { k, kc, http: new k.IsomorphicFetchHttpLibrary() };
    }));
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  return {
    server: serverOf(file),
    async send(url, init) {
      const { k, kc, http } = await load();
      const ctx = new k.RequestContext(url, init.method as HttpMethod);
      for (const [k, v] of Object.entries(init.headers)) ctx.setHeaderParam(k, v);
      if (init.body !== undefined) ctx.setBody(init.body);
      if (init.signal) ctx.setSignal(init.signal);
      await kc.applySecurityAuthentication(ctx);
      // One TLS agent for all requests, as the CLI's transport does.
      const made = ctx.getDispatcher();
      // HTTP/1.1 only, for the reason the CLI's transport gives (scripts/lib/kube/client.ts).
      if (made) ctx.setDispatcher((dispatcher ??= made.compose((dispatch) => (opts, handler) => dispatch({ ...opts, allowH2: false } as typeof opts, handler))));
      const res = await http.send(ctx).toPromise();
      const status = res.httpStatusCode;
      return { ok: status >= 200 && status < 300, status, text: () => res.body.text(), body: res.body.stream() ?? null };
    },
  };
}

/** The real API server the simulation runs on, or undefined when it runs on its fake one. */
export function realUnderlay(): Underlay | undefined {
  const file = process.env[REAL_KUBECONFIG_ENV];
  if (!file) return undefined;
  if (cached?.file !== file) cached = { file, underlay: underlayFor(file) };
  return cached.underlay;
}
