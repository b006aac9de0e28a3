// The simulated kubelet under the fault knobs: slow readiness, pods that never get Ready,
// images that cannot be pulled (and images only the local docker has), and a container
// behaviour that crashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import { imageBehaviours, imageLike } from '../sim/controllers/behaviours.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { DEFAULT_NODE_IMAGE, bootstrap } from '../sim/tools/kind-cluster.ts';

let sim: Sim;

function cond(obj: KubeObject | undefined, type: string): { status?: string; reason?: string; message?: string } | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

async function pod(ns: string, name: string, image: string): Promise<void> {
  await sim.kube.create(`/api/v1/namespaces/${ns}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'main', image }] } });
}

async function reasons(ns: string, name: string): Promise<string[]> {
  return (await sim.kube.list(`/api/v1/namespaces/${ns}/events`)).filter((e) => (e.involvedObject as { name: string }).name === name).map((e) => `${e.type} ${e.reason}: ${e.message}`);
}

const crashing = {
  name: 'test-crasher',
  matches: imageLike(/^example\/crasher:/),
  async run(ctx: { log(...l: string[]): Promise<void>; attempt: number }): Promise<number> {
    await ctx.log(`attempt ${ctx.attempt}: boom`);
    return 3;
  },
};

beforeAll(async () => {
  imageBehaviours.unshift(crashing);
  sim = await startSim({ timing: { backoffMs: 100, backoffMaxMs: 300 } });
  const api = new SimClient(sim.url, 'test-kind');
  await api.request('POST', '/_sim/clusters', { name: 'f' });
  await bootstrap(api, 'f', [{ role: 'control-plane' }], DEFAULT_NODE_IMAGE, { cpus: 4, memBytes: 8 * 2 ** 30 });
  await sim.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'f' } });
});

afterAll(async () => {
  imageBehaviours.splice(imageBehaviours.indexOf(crashing), 1);
  await sim?.close();
});

describe('fault knobs honoured by the simulated kubelet', () => {
  it('slowReadinessMs delays Ready by about that long after the container starts', async () => {
    await sim.setFaults({ slowReadinessMs: 800 });
    const t0 = Date.now();
    await pod('f', 'slow', 'nginx:1.27');
    const running = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/slow', (p) => p.status?.containerStatuses?.[0]?.started === true);
    const startedAt = Date.now();
    expect(running.status.phase).toBe('Running');
    expect(running.status.containerStatuses[0].ready).toBe(false);
    expect(cond(running, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]' });
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/slow', (p) => cond(p, 'Ready')?.status === 'True', 5000);
    const readyAfter = Date.now() - startedAt;
    // About 800 ms: detection of the start by polling blurs it a little either way.
    expect(readyAfter).toBeGreaterThanOrEqual(550);
    expect(readyAfter).toBeLessThan(1800);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    await sim.setFaults({});
  });

  it('neverReady keeps matching pods running but unready until the knob is cleared', async () => {
    await sim.setFaults({ neverReady: ['^stuck-'] });
    await pod('f', 'stuck-1', 'nginx:1.27');
    await pod('f', 'fine-1', 'nginx:1.27');
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/fine-1', (p) => cond(p, 'Ready')?.status === 'True');
    await new Promise((r) => setTimeout(r, 500));
    const stuck = await sim.kube.get('/api/v1/namespaces/f/pods/stuck-1');
    expect(stuck!.status.phase).toBe('Running');
    expect(stuck!.status.containerStatuses[0]).toMatchObject({ started: true, ready: false });
    expect(cond(stuck, 'Ready')?.status).toBe('False');
    expect(await reasons('f', 'stuck-1')).toContain('Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503');
    await sim.patchFaults({ neverReady: null });
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/stuck-1', (p) => cond(p, 'Ready')?.status === 'True');
  });

  it('unpullableImages: ErrImagePull then ImagePullBackOff with the kubelet events, until the image is pullable', async () => {
    await sim.setFaults({ unpullableImages: ['^ghcr\\.io/nope/'] });
    await pod('f', 'nopull', 'ghcr.io/nope/app:1.0');
    const p = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/nopull', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
    expect(p.status.phase).toBe('Pending');
    expect(p.status.containerStatuses[0].state.waiting.message).toMatch(/^Back-off pulling image "ghcr\.io\/nope\/app:1\.0": ErrImagePull: rpc error: code = NotFound/);
    const ev = await reasons('f', 'nopull');
    expect(ev).toEqual(
      expect.arrayContaining([
        'Normal Pulling: Pulling image "ghcr.io/nope/app:1.0"',
        'Warning Failed: Failed to pull image "ghcr.io/nope/app:1.0": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/nope/app:1.0": failed to resolve reference "ghcr.io/nope/app:1.0": ghcr.io/nope/app:1.0: not found',
        'Warning Failed: Error: ErrImagePull',
        'Normal BackOff: Back-off pulling image "ghcr.io/nope/app:1.0"',
        'Warning Failed: Error: ImagePullBackOff',
      ]),
    );
    await sim.setFaults({});
    const ok = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/nopull', (x) => cond(x, 'Ready')?.status === 'True');
    expect(ok.status.containerStatuses[0].state.running).toBeDefined();
  });

  it('an image only the local docker has cannot be pulled until it is on the node', async () => {
    await sim.setFaults({ dockerImages: { 'docker.io/library/job:abc123': { id: `sha256:${'ab'.repeat(32)}`, created: new Date().toISOString(), sizeBytes: 1000 } } });
    await pod('f', 'local', 'job:abc123');
    const p = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/local', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
    expect(p.status.containerStatuses[0].state.waiting.message).toContain('pull access denied, repository does not exist or may require authorization');
    // What `kind load docker-image` does: the image appears in the node's image list.
    const node = await sim.kube.get('/api/v1/nodes/f-control-plane');
    await sim.kube.patch('/api/v1/nodes/f-control-plane/status', { status: { images: [...node!.status.images, { names: ['docker.io/library/job:abc123'], sizeBytes: 1000 }] } });
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/local', (x) => cond(x, 'Ready')?.status === 'True');
    expect(await reasons('f', 'local')).toContain('Normal Pulled: Container image "job:abc123" already present on machine');
  });

  it('restarts a crashing container with CrashLoopBackOff and keeps the previous attempt\'s log', async () => {
    await pod('f', 'crash', 'example/crasher:1');
    const p = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/f/pods/crash', (x) => (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    const cs = p.status.containerStatuses[0];
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(p.status.phase).toBe('Running');
    expect(await reasons('f', 'crash')).toEqual(expect.arrayContaining([expect.stringMatching(/^Warning BackOff: Back-off restarting failed container main in pod crash_f\(/)]));
    const previous = await sim.kube.waitFor<string>('/api/v1/namespaces/f/pods/crash/log?previous=true', (t) => /attempt \d: boom/.test(t));
    expect(previous).toMatch(/attempt \d: boom/);
  });
});
