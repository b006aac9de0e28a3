import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../scripts/lib/errors.ts';
import { formatDuration, Wait, type Clock } from '../../scripts/lib/wait/wait.ts';

/** Time moves only when the code under test sleeps: a 30 s wait runs in microseconds. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('Wait.poll', () => {
  it('times out with what was awaited and the last value seen', async () => {
    const clock = fakeClock();
    let n = 0;
    const err = await Wait.poll(async () => ({ ok: false, seen: `health ${++n % 2 ? 'red' : 'yellow'}` }), 'Elasticsearch health green', {
      timeoutMs: 30_000,
      intervalMs: 1000,
      clock,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toBe(`timed out after 30s waiting for Elasticsearch health green; last seen: health ${n % 2 ? 'red' : 'yellow'}`);
    expect((err as TimeoutError).hint).toBeTruthy();
    expect(n).toBe(31); // once at start, once after each of the 30 one-second sleeps
    expect(clock.slept.every((ms) => ms === 1000)).toBe(true);
  });

  it('returns the value of the first ok probe and reports progress when the value changes', async () => {
    const clock = fakeClock();
    const progress: string[] = [];
    const answers = ['no bucket', 'no bucket', 'bucket exists'];
    const value = await Wait.poll(async () => {
      const seen = answers.shift()!;
      return { ok: seen === 'bucket exists', seen, value: 42 };
    }, 'bucket flink-data', { timeoutMs: 10_000, clock, onProgress: (m) => progress.push(m) });
    expect(value).toBe(42);
    expect(progress).toEqual(['bucket flink-data: no bucket', 'bucket flink-data: bucket exists']);
  });

  it('counts a throwing probe as not yet, keeping its message as the last value seen', async () => {
    const err = await Wait.poll(async () => {
      throw new Error('connection refused');
    }, 'MinIO', { timeoutMs: 3000, clock: fakeClock() }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/waiting for MinIO; last seen: connection refused$/);
  });

  it('stops promptly when aborted', async () => {
    const ac = new AbortController();
    const started = performance.now();
    const p = Wait.poll(async () => ({ ok: false, seen: 'no' }), 'never', { timeoutMs: 60_000, intervalMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('interrupted')), 50);
    await expect(p).rejects.toThrow('interrupted');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('does not let a hanging probe outlive the deadline', async () => {
    const started = performance.now();
    const p = Wait.poll(() => new Promise<never>(() => {}), 'a probe that hangs', { timeoutMs: 200 });
    await expect(p).rejects.toThrow(/timed out after 200ms waiting for a probe that hangs; last seen: nothing yet/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect([250, 1500, 30_000, 90_000, 120_000].map(formatDuration)).toEqual(['250ms', '1.5s', '30s', '1m30s', '2m']);
  });
});

describe('Wait.forHttp', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('waits until the server answers the expected status', async () => {
    let calls = 0;
    server = createServer((_req, res) => {
      res.statusCode = ++calls < 3 ? 503 : 200;
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await Wait.forHttp(`http://127.0.0.1:${port}/health`, { timeoutMs: 5000, intervalMs: 20, expectStatus: 200 });
    expect(calls).toBe(3);
  });

  it('times out naming the last answer', async () => {
    server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await expect(Wait.forHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 150, intervalMs: 20 })).rejects.toThrow(/last seen: HTTP 503$/);
  });

  it('reports a refused connection', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(Wait.forHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 100, intervalMs: 20 })).rejects.toThrow(/last seen: connection refused$/);
  });
});

describe('Wait.all', () => {
  it('fails as soon as one strategy fails', async () => {
    const started = performance.now();
    const slow = () => new Promise((r) => setTimeout(r, 2000));
    await expect(Wait.all([slow, async () => { throw new Error('ECK refused'); }])).rejects.toThrow('ECK refused');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
