// Watch-driven waits against the fake API server: fast notice, useful timeouts, and survival
// of dropped watches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../scripts/lib/errors.ts';
import type { KubeObject } from '../../scripts/lib/kube/kube.ts';
import { Wait } from '../../scripts/lib/wait/wait.ts';
import { namespace, pod, podStatus, running, simKube, type SimKube } from './kube-fixture.ts';

const NS = 'waits';
let s: SimKube;
beforeAll(async () => {
  s = await simKube();
  await s.kube.apply([namespace(NS)]);
});
afterAll(() => s?.close());

const podRef = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', name, namespace: NS });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function notReadyPod(name: string, labels: Record<string, string> = {}): Promise<void> {
  await s.kube.apply([pod(NS, name, ['main'], labels)]);
  await podStatus(s.kube, NS, name, { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]' }] });
}

describe('Wait.forCondition', () => {
  it('notices a condition becoming True within 250 ms of the status write', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `fast-${i}`;
      await notReadyPod(name);
      const resolvedAt = Wait.forCondition(s.kube, podRef(name), 'Ready', 'True', { timeoutMs: 5000 }).then(() => performance.now());
      await sleep(100); // the wait is watching by now
      await podStatus(s.kube, NS, name, running('main'));
      const written = performance.now();
      delays.push((await resolvedAt) - written);
    }
    expect(Math.max(...delays)).toBeLessThan(250);
  });

  it('resolves at once when the condition already holds, with the object', async () => {
    await notReadyPod('already');
    await podStatus(s.kube, NS, 'already', running('main'));
    const obj = await Wait.forCondition(s.kube, podRef('already'), 'Ready', { timeoutMs: 2000 });
    expect(obj.metadata.name).toBe('already');
  });

  it('times out with the last value seen in the message', async () => {
    await notReadyPod('slow');
    const err = await Wait.forCondition(s.kube, podRef('slow'), 'Ready', 'True', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toBe(
      `timed out after 300ms waiting for Pod ${NS}/slow condition Ready=True; last seen: Ready=False (ContainersNotReady: containers with unready status: [main])`,
    );
  });

  it('waits for an object that does not exist yet', async () => {
    const seen: string[] = [];
    const p = Wait.forCondition(s.kube, podRef('later'), 'Ready', 'True', { timeoutMs: 5000, onProgress: (m) => seen.push(m) });
    await sleep(100);
    await notReadyPod('later');
    await podStatus(s.kube, NS, 'later', running('main'));
    await p;
    expect(seen[0]).toBe(`Pod ${NS}/later condition Ready=True: object not found`);
  });

  it('still resolves when the watch is dropped mid-wait', async () => {
    await notReadyPod('dropped');
    await s.sim('PUT', '/_sim/faults', { watchDrop: { afterMs: 100 } });
    try {
      const p = Wait.forCondition(s.kube, podRef('dropped'), 'Ready', 'True', { timeoutMs: 5000 });
      await sleep(400); // several drops and reconnects happen meanwhile
      await podStatus(s.kube, NS, 'dropped', running('main'));
      const written = performance.now();
      await p;
      expect(performance.now() - written).toBeLessThan(1000);
    } finally {
      await s.sim('PUT', '/_sim/faults', {});
    }
  });

  it('still resolves when every watch is cut after its first event', async () => {
    await notReadyPod('cut');
    await s.sim('PUT', '/_sim/faults', { watchDrop: { afterEvents: 1 } });
    try {
      const p = Wait.forCondition(s.kube, podRef('cut'), 'Ready', 'True', { timeoutMs: 5000 });
      await sleep(100);
      await podStatus(s.kube, NS, 'cut', { conditions: [{ type: 'Ready', status: 'False', reason: 'StillStarting' }] });
      await sleep(100);
      await podStatus(s.kube, NS, 'cut', running('main'));
      await p;
    } finally {
      await s.sim('PUT', '/_sim/faults', {});
    }
  });

  it('stops promptly when aborted', async () => {
    await notReadyPod('aborted');
    const ac = new AbortController();
    const p = Wait.forCondition(s.kube, podRef('aborted'), 'Ready', 'True', { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('interrupted')), 100);
    const started = performance.now();
    await expect(p).rejects.toThrow('interrupted');
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('Kube.watch', () => {
  it('reports objects, changes and deletions, filtered by label', async () => {
    const events: string[] = [];
    await notReadyPod('w-a', { app: 'watched' });
    const handle = await s.kube.watch('v1', 'Pod', { namespace: NS, labelSelector: 'app=watched' }, (type, obj) => events.push(`${type} ${obj.metadata.name}`));
    await notReadyPod('w-b', { app: 'watched' });
    await notReadyPod('w-other');
    await s.kube.delete(podRef('w-a'));
    await sleep(200);
    handle.close();
    expect(events[0]).toBe('ADDED w-a');
    expect(events).toContain('ADDED w-b');
    expect(events).toContain('DELETED w-a');
    expect(events.some((e) => e.endsWith('w-other'))).toBe(false);
  });
});

describe('other object waits', () => {
  it('forJsonPath waits for one of the expected values', async () => {
    await notReadyPod('phase');
    const p = Wait.forJsonPath(s.kube, podRef('phase'), '.status.phase', ['Running', 'Succeeded'], { timeoutMs: 5000 });
    await sleep(50);
    await podStatus(s.kube, NS, 'phase', running('main'));
    expect((await p).status.phase).toBe('Running');
  });

  it('forPodsReady waits for every matching pod, and times out naming the laggard', async () => {
    await notReadyPod('set-1', { app: 'set' });
    await notReadyPod('set-2', { app: 'set' });
    const p = Wait.forPodsReady(s.kube, NS, 'app=set', { timeoutMs: 5000, min: 2 });
    await podStatus(s.kube, NS, 'set-1', running('main'));
    await podStatus(s.kube, NS, 'set-2', running('main'));
    expect((await p).map((x: KubeObject) => x.metadata.name).sort()).toEqual(['set-1', 'set-2']);

    await notReadyPod('set-3', { app: 'set' });
    await expect(Wait.forPodsReady(s.kube, NS, 'app=set', { timeoutMs: 200 })).rejects.toThrow(/last seen: 2\/3 ready; set-3: phase Pending, ContainersNotReady$/);
  });

  it('forRollout follows a Deployment status to completion', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: NS };
    const [d] = await s.kube.apply([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: NS },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      },
    ]);
    const p = Wait.forRollout(s.kube, ref, { timeoutMs: 5000 });
    let state = 'pending';
    p.then(
      () => (state = 'resolved'),
      () => (state = 'rejected'),
    );
    await sleep(100);
    // No status yet: the controller has not looked at this generation.
    expect(state).toBe('pending');
    const gen = d.metadata.generation ?? 1;
    await s.kube.patchMerge(ref, { status: { observedGeneration: gen, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } }, { subresource: 'status' });
    await sleep(100);
    // One of two replicas available is not a finished rollout.
    expect(state).toBe('pending');
    await s.kube.patchMerge(ref, { status: { availableReplicas: 2, readyReplicas: 2 } }, { subresource: 'status' });
    await p;
    expect(state).toBe('resolved');
  });
});

describe('a watch whose resourceVersion expired (410 Gone)', () => {
  it('re-lists and the wait still resolves', async () => {
    // A server that keeps only 3 changes of history and sends no bookmarks: a watch that
    // reconnects after more changes than that gets 410 Gone for its old version.
    const t = await simKube({ counting: true, server: { historyLimit: 3, bookmarkIntervalMs: 60_000 } });
    try {
      await t.kube.apply([namespace(NS), pod(NS, 'expired')]);
      const ref = podRef('expired');
      const lists = () => t.requests.filter((r) => r.startsWith(`GET /api/v1/namespaces/${NS}/pods?`) && !r.includes('watch=true')).length;
      const p = Wait.forCondition(t.kube, ref, 'Ready', 'True', { timeoutMs: 5000 });
      await sleep(100);
      expect(lists()).toBe(1);
      // Changes the wait does not see (other objects) push its version out of the history...
      for (let i = 0; i < 5; i++) await t.kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `filler-${i}`, namespace: NS }, data: {} }]);
      // ...then its watch is cut, and the reconnect from that version is answered 410.
      await t.sim('PUT', '/_sim/faults', { watchDrop: { afterMs: 0 } });
      await t.sim('PUT', '/_sim/faults', {});
      await sleep(800);
      expect(lists()).toBe(2);
      await podStatus(t.kube, NS, 'expired', running('main'));
      await p;
    } finally {
      await t.close();
    }
  });
});
