// Helpers for tests that drive the fake API server: a KubeConfig for client-node and a
// small fetch wrapper that returns status, parsed body and headers.
import { KubeConfig } from '@kubernetes/client-node';

export function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'sim' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'sim' }],
    currentContext: 'sim',
  });
  return kc;
}

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is when a string; JSON otherwise. */
  contentType?: string;
  actor?: string;
}

export async function call(url: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.actor) headers['x-sim-actor'] = opts.actor;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // plain text (logs)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
