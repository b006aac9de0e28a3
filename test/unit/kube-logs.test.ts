// Pod logs against the fake API server: one-shot, previous, and following across restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Position, splitStamp } from '../../scripts/lib/kube/logs.ts';
import { Wait } from '../../scripts/lib/wait/wait.ts';
import { logWriter, namespace, pod, podStatus, running, simKube, sleep, until, type SimKube } from './kube-fixture.ts';

const NS = 'logs';
let s: SimKube;
let write: ReturnType<typeof logWriter>;
beforeAll(async () => {
  s = await simKube();
  write = logWriter(s, NS, 'main');
  await s.kube.apply([namespace(NS)]);
});
afterAll(() => s?.close());

/** A container restart as the kubelet reports it: attempt n ended, attempt n+1 runs. */
async function restart(podName: string, toAttempt: number): Promise<void> {
  await write(podName, toAttempt - 1, [], true);
  await podStatus(s.kube, NS, podName, running('main', toAttempt));
}

describe('logs', () => {
  it('reads the current and the previous attempt', async () => {
    await s.kube.apply([pod(NS, 'once')]);
    await podStatus(s.kube, NS, 'once', running('main'));
    await write('once', 0, ['first run 1', 'first run 2']);
    await restart('once', 1);
    await write('once', 1, ['second run']);
    expect(await s.kube.logs(NS, 'once', 'main')).toBe('second run\n');
    expect(await s.kube.logs(NS, 'once', 'main', { previous: true })).toBe('first run 1\nfirst run 2\n');
    expect(await s.kube.logs(NS, 'once', 'main', { previous: true, tailLines: 1 })).toBe('first run 2\n');
  });
});

describe('followLogs', () => {
  it('follows a container across a restart: lines of attempt 0, then of attempt 1', async () => {
    await s.kube.apply([pod(NS, 'tm')]);
    await podStatus(s.kube, NS, 'tm', running('main'));
    await write('tm', 0, ['seq=1', 'seq=2']);
    const got: string[] = [];
    const ac = new AbortController();
    const done = s.kube.followLogs(NS, 'tm', 'main', (line, attempt) => got.push(`${attempt}:${line}`), { signal: ac.signal });
    await until(() => got.length === 2);
    await write('tm', 0, ['seq=3']);
    await until(() => got.length === 3);
    await restart('tm', 1);
    await write('tm', 1, ['seq=3', 'seq=4']);
    await until(() => got.length === 5);
    ac.abort();
    await done;
    expect(got).toEqual(['0:seq=1', '0:seq=2', '0:seq=3', '1:seq=3', '1:seq=4']);
  });

  it('ends when the pod is gone', async () => {
    await s.kube.apply([pod(NS, 'short')]);
    await podStatus(s.kube, NS, 'short', running('main'));
    await write('short', 0, ['hello']);
    const got: string[] = [];
    const done = s.kube.followLogs(NS, 'short', 'main', (line) => got.push(line));
    await until(() => got.length === 1);
    await write('short', 0, ['bye'], true);
    await s.kube.delete({ apiVersion: 'v1', kind: 'Pod', name: 'short', namespace: NS });
    await done;
    expect(got).toEqual(['hello', 'bye']);
  });

  it('with previous, starts with the attempt before the current one', async () => {
    await s.kube.apply([pod(NS, 'again')]);
    await podStatus(s.kube, NS, 'again', running('main'));
    await write('again', 0, ['old']);
    await restart('again', 1);
    await write('again', 1, ['new']);
    const got: string[] = [];
    const ac = new AbortController();
    const done = s.kube.followLogs(NS, 'again', 'main', (line, attempt) => got.push(`${attempt}:${line}`), { signal: ac.signal, previous: true });
    await until(() => got.length === 2);
    ac.abort();
    await done;
    expect(got).toEqual(['0:old', '1:new']);
  });

  it('without sinceStart, only lines written from now on', async () => {
    await s.kube.apply([pod(NS, 'tail')]);
    await podStatus(s.kube, NS, 'tail', running('main'));
    await write('tail', 0, ['before']);
    const got: string[] = [];
    const ac = new AbortController();
    const done = s.kube.followLogs(NS, 'tail', 'main', (line) => got.push(line), { signal: ac.signal, sinceStart: false });
    await sleep(150);
    await write('tail', 0, ['after']);
    await until(() => got.length === 1);
    ac.abort();
    await done;
    expect(got).toEqual(['after']);
  });
});

describe('Wait.forLog', () => {
  it('resolves with the first matching line, across attempts', async () => {
    await s.kube.apply([pod(NS, 'jm')]);
    await podStatus(s.kube, NS, 'jm', running('main'));
    await write('jm', 0, ['starting']);
    const p = Wait.forLog(s.kube, NS, 'jm', 'main', /Job .* switched to RUNNING/, { timeoutMs: 5000 });
    await sleep(50);
    await write('jm', 0, ['Job hello switched to RUNNING']);
    expect(await p).toBe('Job hello switched to RUNNING');
  });

  it('times out with the last line seen', async () => {
    await s.kube.apply([pod(NS, 'quiet')]);
    await podStatus(s.kube, NS, 'quiet', running('main'));
    await write('quiet', 0, ['one', 'two']);
    await expect(Wait.forLog(s.kube, NS, 'quiet', 'main', /three/, { timeoutMs: 300 })).rejects.toThrow(/; last seen: "two" \(line 2\)$/);
  });
});

describe('followLogs resumes by timestamp', () => {
  it('hands on each line once, with its kubelet timestamp, when the stream drops among lines that share one timestamp', async () => {
    await s.kube.apply([pod(NS, 'drop')]);
    await podStatus(s.kube, NS, 'drop', running('main'));
    // One write: all ten lines carry the same timestamp, so only a count per timestamp tells them apart.
    const batch = Array.from({ length: 10 }, (_, i) => `seq=${i + 1}`);
    await write('drop', 0, batch);
    await s.sim('PUT', '/_sim/faults', { logDrop: { afterLines: 3, count: 2 } });
    const got: Array<{ line: string; time: string }> = [];
    const ac = new AbortController();
    const done = s.kube.followLogs(NS, 'drop', 'main', (line, _attempt, time) => got.push({ line, time }), { signal: ac.signal });
    await until(() => got.length >= 10);
    await write('drop', 0, ['seq=11']);
    await until(() => got.length >= 11);
    ac.abort();
    await done;
    await s.sim('PUT', '/_sim/faults', {});
    // The fault fired: two follow streams broke, and each was resumed from a sinceTime.
    expect(((await s.sim('GET', '/_sim/state')) as { logStreamsDropped: number }).logStreamsDropped).toBe(2);
    expect(got.map((g) => g.line)).toEqual([...batch, 'seq=11']);
    expect(got[0]!.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/);
    expect(new Set(got.slice(0, 10).map((g) => g.time)).size).toBe(1);
  });
});

describe('followLogs and a pod made again under the same name', () => {
  it("ends with the old pod and never reads the new one's log", async () => {
    await s.kube.apply([pod(NS, 'reborn')]);
    await podStatus(s.kube, NS, 'reborn', running('main'));
    await write('reborn', 0, ['old 1']);
    const got: string[] = [];
    const done = s.kube.followLogs(NS, 'reborn', 'main', (line) => got.push(line));
    await until(() => got.length === 1);
    await write('reborn', 0, ['old 2'], true);
    await s.kube.delete({ apiVersion: 'v1', kind: 'Pod', name: 'reborn', namespace: NS }, { wait: true });
    await s.kube.apply([pod(NS, 'reborn')]);
    await podStatus(s.kube, NS, 'reborn', running('main'));
    await write('reborn', 0, ['new 1']);
    await done;
    await sleep(100);
    expect(got).toEqual(['old 1', 'old 2']);
  });
});

describe('Position', () => {
  it('orders trimmed and full nanosecond stamps by time, not by text, and counts lines sharing a stamp', () => {
    const p = new Position();
    expect(p.take('2026-12-03T10:00:00.5Z')).toBe(true);
    expect(p.take('2026-12-03T10:00:00.5Z')).toBe(true);
    expect(p.sinceTime()).toBe('2026-12-03T10:00:00Z');
    p.rewind();
    expect(p.take('2026-12-03T10:00:00.1Z')).toBe(false);
    expect(p.take('2026-12-03T10:00:00.500000000Z')).toBe(false);
    expect(p.take('2026-12-03T10:00:00.5Z')).toBe(false);
    expect(p.take('2026-12-03T10:00:00.5Z')).toBe(true); // a third line at that stamp is new
    expect(p.take('2026-12-03T10:00:00.50000001Z')).toBe(true);
    expect(splitStamp('2026-12-03T10:00:00.123Z SEQ seq=1')).toEqual({ time: '2026-12-03T10:00:00.123Z', text: 'SEQ seq=1' });
    expect(splitStamp('no stamp here')).toEqual({ time: '', text: 'no stamp here' });
  });
});
