// Test fixture: the fake API server of test/sim, a kubeconfig pointing at it, and a Kube
// connected through our own connectKube. Optionally a counting proxy sits in between, so a
// test can see how many requests reached the server (retries are otherwise invisible).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { connectKube } from '../../scripts/lib/kube/connect.ts';
import type { Kube, KubeObject } from '../../scripts/lib/kube/kube.ts';
import { startSimServer, type SimServerOptions } from '../sim/api/server.ts';

export interface SimKube {
  kube: Kube;
  /** The fake API server itself (not the proxy). */
  url: string;
  kubeconfig: string;
  /** Requests that passed the proxy, as "METHOD /path" (with counting: true). */
  requests: string[];
  /** A raw call to the fake server, for /_sim endpoints and setup. */
  sim(method: string, path: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

function kubeconfigText(server: string): string {
  // Like the fake kind's: a plain-http server, no insecure-skip-tls-verify (connectKube copes).
  return `apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: { server: "${server}" }
contexts:
- name: sim
  context: { cluster: sim, user: sim, namespace: default }
current-context: sim
users:
- name: sim
  user: { token: sim-token }
`;
}

function countingProxy(target: string, requests: string[]): Promise<Server> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      // pipeline, not pipe: a stream the server cuts must reach the client cut, too.
      pipeline(upRes, res, () => {});
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function simKube(opts: { counting?: boolean; server?: SimServerOptions } = {}): Promise<SimKube> {
  const sim = await startSimServer(opts.server);
  const dir = await mkdtemp(join(tmpdir(), 'kube-sim-'));
  const requests: string[] = [];
  const proxy = opts.counting ? await countingProxy(sim.url, requests) : undefined;
  const server = proxy ? `http://127.0.0.1:${(proxy.address() as { port: number }).port}` : sim.url;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText(server));
  const kube = await connectKube({ kubeconfig, context: 'sim' });
  return {
    kube,
    url: sim.url,
    kubeconfig,
    requests,
    async sim(method, path, body) {
      const res = await fetch(sim.url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async close() {
      if (proxy) {
        proxy.closeAllConnections();
        await new Promise((r) => proxy.close(r));
      }
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function pod(ns: string, name: string, containers: string[] = ['main'], labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    // Bound to a node, as the scheduler would have done: the log endpoint wants a host.
    spec: { nodeName: 'sim-node', containers: containers.map((c) => ({ name: c, image: `example/${c}:1` })) },
  };
}

/** Writes a pod's status the way a kubelet would (the server alone runs no controllers). */
export function podStatus(kube: Kube, ns: string, name: string, status: object): Promise<KubeObject> {
  return kube.patchMerge({ apiVersion: 'v1', kind: 'Pod', name, namespace: ns }, { status }, { subresource: 'status' });
}

export function running(container: string, restartCount = 0, ready = true): object {
  return {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [
      {
        name: container,
        ready,
        restartCount,
        state: { running: { startedAt: new Date().toISOString() } },
        ...(restartCount > 0 ? { lastState: { terminated: { exitCode: 1, reason: 'Error' } } } : {}),
      },
    ],
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `cond` holds, checking every 10 ms; throws after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Appends lines to a container's log the way the simulated kubelet does (attempt = restartCount). */
export function logWriter(s: SimKube, ns: string, container: string) {
  return (pod: string, attempt: number, lines: string[], terminated = false): Promise<unknown> =>
    s.sim('POST', '/_sim/logs', { namespace: ns, pod, container, attempt, lines, terminated });
}
