// The HTTP seam: a time limit per attempt (a server that accepts and hangs costs one attempt),
// one retry policy for passing trouble, no retry for answers that will not change.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptError, httpGet, RETRY_POLICY, withRetries } from '../../scripts/lib/exec/http.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A server that answers the n-th request (from 1) with `answer(n, res)`; returns its URL and the count. */
async function serve(answer: (n: number, res: ServerResponse) => void): Promise<{ url: string; hits: () => number }> {
  let n = 0;
  server = createServer((_req, res) => answer(++n, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, hits: () => n };
}

const get = (url: string) => (signal: AbortSignal | undefined) => httpGet(url, signal).then((r) => r.text());

describe('withRetries over httpGet', () => {
  it('cuts an attempt that hangs at its time limit and tries again', async () => {
    const { url, hits } = await serve((n, res) => {
      if (n > 1) res.end('ok');
      // The first request is accepted and never answered.
    });
    const t0 = performance.now();
    const body = await withRetries(get(url), { attemptTimeoutMs: 300, minTimeoutMs: 10 });
    expect(body).toBe('ok');
    expect(hits()).toBe(2);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('retries passing trouble (HTTP 503) under the one policy, and gives up with the last error', async () => {
    const { url, hits } = await serve((_n, res) => {
      res.statusCode = 503;
      res.end();
    });
    const err = await withRetries(get(url), { attemptTimeoutMs: 2000, retries: 2, minTimeoutMs: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttemptError);
    expect((err as Error).message).toMatch(/^HTTP 503/);
    expect(hits()).toBe(3);
    expect(RETRY_POLICY.retries).toBeGreaterThan(0);
  });

  it('does not retry an answer that will not change (HTTP 404)', async () => {
    const { url, hits } = await serve((_n, res) => {
      res.statusCode = 404;
      res.end();
    });
    const err = await withRetries(get(url), { attemptTimeoutMs: 2000, minTimeoutMs: 10 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^HTTP 404/);
    expect(hits()).toBe(1);
  });

  it("stops at once when the caller aborts, with the caller's reason", async () => {
    const { url } = await serve(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('interrupted by SIGINT')), 100);
    const t0 = performance.now();
    await expect(withRetries(get(url), { attemptTimeoutMs: 10_000, signal: ac.signal })).rejects.toThrow('interrupted by SIGINT');
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
