// One HTTP GET as a readiness probe. node:http(s) rather than fetch, because `insecure` must
// accept the self-signed certificates that ECK and cert-manager issue inside the sandbox.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { networkCode } from '../kube/client.ts';

export type ProbeResult = { status: number } | { error: string };

export function httpProbe(url: string, opts: { insecure?: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', rejectUnauthorized: !opts.insecure, timeout: opts.timeoutMs, signal: opts.signal }, (res) => {
      res.resume(); // the body does not matter, only that it was answered
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs}ms`)));
    req.on('error', (err) => {
      const code = networkCode(err);
      resolve({ error: code === 'ECONNREFUSED' ? 'connection refused' : code && code !== 'ABORT_ERR' ? `${code}: ${err.message}` : err.message });
    });
    req.end();
  });
}
