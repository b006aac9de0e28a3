// The faults `sandbox up` meets in its pods and API calls, each through the built CLI against a
// simulated cluster of its own: transient ones are survived (exit 0, no bundle), the others end
// with their message, a hint, exit 1 and the diagnostics bundle. Every test first proves its fault
// fired, and after it is cleared a re-run converges.
import { describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { MINIO_POD, STEPS, bundleFile, closeSimAfterEach, clusterThen, configWith, convergesAgain, expectNoBundle, expectReported, upWith } from './kit.ts';

function stepMs(res: CliResult, id: string): number {
  const report = JSON.parse(res.stdout) as { steps: Array<{ id: string; ms: number }> };
  return report.steps.find((s) => s.id === id)!.ms;
}

closeSimAfterEach();

describe('transient faults: the CLI retries, succeeds and leaves no bundle', () => {
  it('API 500s are retried', async () => {
    const { sim, res } = await upWith({ api500: { count: 6 } });
    expect(res.code, res.stderr).toBe(0);
    // Every injected 500 was consumed by the CLI's requests, and it still got through.
    expect((await sim.faults()).api500).toBeUndefined();
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
    await convergesAgain(sim);
  });

  it('a watch that drops mid-wait is re-established and the wait still finishes', async () => {
    const { sim, res } = await upWith({ watchDrop: { afterEvents: 1 } });
    expect(res.code, res.stderr).toBe(0);
    // The knob fired: the CLI's watches were cut again and again, and every wait still finished.
    expect((await sim.faultCounts()).watchesDropped).toBeGreaterThan(1);
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
    await sim.patchFaults({ watchDrop: null });
    await convergesAgain(sim);
  });

  it('API latency only slows things down', async () => {
    const { sim, res } = await upWith({ latencyMs: 30 });
    expect(res.code, res.stderr).toBe(0);
    // The knob fired: the CLI's requests were held back, and the run still succeeded.
    expect((await sim.faultCounts()).delayedRequests).toBeGreaterThan(10);
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
  });

  it('slow readiness is waited for', async () => {
    const { sim, res } = await upWith({ slowReadinessMs: 1500 }, undefined, ['--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(stepMs(res, 'minio')).toBeGreaterThanOrEqual(1500);
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
  });
});

describe('faults while installing: a clear error naming the object, the bundle holding it', () => {
  it('an image that cannot be pulled: the image, the pod, the node and the kubelet event', async () => {
    const sim = await clusterThen({ unpullableImages: ['^quay\\.io/minio/minio:'] });
    const res = await runCli(STEPS, { env: sim.env, timeoutMs: 90_000 });
    const { bundle } = expectReported(res, {
      message: /cannot pull image "quay\.io\/minio\/minio:RELEASE[^"]+" for pod minio\/minio-\S+ on node flink-sandbox-worker: Failed to pull image/,
      hint: /image reference/,
    });
    expect(res.ms).toBeLessThan(30_000);
    expect(bundleFile(bundle, 'minio/events.txt')).toMatch(/Failed to pull image "quay\.io\/minio\/minio/);
    await sim.patchFaults({ unpullableImages: null });
    // The fault clears: the kubelet's next pull (after its back-off) gets the image. A re-run
    // within `up`'s 2 s window for "pods created while the step runs" would take the pod still
    // in back-off for its own, and fail on it again, as it would on a real cluster.
    type Pod = { status?: { containerStatuses?: Array<{ ready?: boolean }> } };
    await sim.kube.waitFor<Pod[]>('/api/v1/namespaces/minio/pods', (pods) => pods.some((p) => p.status?.containerStatuses?.every((c) => c.ready) === true), 60_000);
    await convergesAgain(sim);
  });

  it('a pod that never gets Ready: timeout naming the rollout and the last value seen', async () => {
    const sim = await clusterThen({ neverReady: [MINIO_POD] });
    const res = await runCli([...STEPS, '--config', configWith(sim, 'timeouts:\n  stepSeconds: 3\n')], { env: sim.env, timeoutMs: 90_000 });
    const { bundle } = expectReported(res, { message: /timed out after 3s waiting for .*minio\/minio; last seen: .*0\/1 available/, hint: /diagnostics bundle/ });
    // The fault fired: the kubelet's failing readiness probe is in the bundle's events.
    expect(bundleFile(bundle, 'minio/events.txt')).toMatch(/Readiness probe failed/);
    await sim.patchFaults({ neverReady: null });
    await convergesAgain(sim);
  });

  it('a crash-looping pod: the container, its restarts, exit code and last log line, long before the timeout', async () => {
    const sim = await clusterThen({ crashLoop: [MINIO_POD] });
    const res = await runCli(STEPS, { env: sim.env, timeoutMs: 90_000 });
    const { bundle } = expectReported(res, {
      message: /container minio of pod minio\/minio-\S+ keeps crashing: restarted \d+ times, last exit code 1; its last log line: FATAL: minio exited at start/,
      hint: /kubectl logs --previous -n minio minio-\S+ -c minio/,
    });
    expect(res.ms).toBeLessThan(60_000);
    const pod = /pod minio\/(minio-\S+) keeps/.exec(res.stderr)![1]!;
    // The bundle holds the crashed run's log and the kubelet's back-off events.
    expect(bundleFile(bundle, `minio/logs/${pod}/minio.previous.log`)).toMatch(/FATAL: minio exited at start/);
    expect(bundleFile(bundle, 'minio/events.txt')).toMatch(/Back-off restarting failed container minio/);
    await sim.patchFaults({ crashLoop: null });
    await convergesAgain(sim);
  });

  it('the API server answering 500 to every retry: the request, the server\'s words, no client dump', async () => {
    const { sim, res } = await upWith({ api500: { count: 1_000_000 } }, { timeouts: { stepSeconds: 10 } });
    // The fault fired: the CLI's requests used up some of the 500s.
    expect((await sim.faults()).api500?.count).toBeLessThan(1_000_000);
    const { bundle } = expectReported(res, { message: /Internal error occurred: simulated fault \(api500\)/, hint: /API server kept failing/ });
    // One line per cause: not client-node's dump of the body and every response header.
    expect(res.stderr).not.toMatch(/HTTP-Code:|Headers:/);
    // The bundle could not read the cluster either, and says so.
    expect(bundleFile(bundle, 'summary.json')).toMatch(/simulated fault \(api500\)/);
    await sim.patchFaults({ api500: null });
    await convergesAgain(sim);
  });
});

