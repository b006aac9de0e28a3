// The simulated Flink operator (1.15.0) beyond the FlinkDeployment lifecycle: where it takes its
// cadence from (the chart's configuration, on the simulation clock), FlinkStateSnapshots (their
// states, retries, errors, events and deletion), and an operator process killed mid-reconcile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import type { Sim } from '../sim/harness.ts';
import { flinkWorld } from '../sim/systems.ts';
import { durationOption, readOperatorConfig, wallDuration } from '../sim/flink/operator-config.ts';
import { SIM_TIME_SCALE } from '../sim/time-scale.ts';
import { FD, SNAP, deployment, eventsOf, jmLog, lifecycle, messages, sleep, stable, startFlinkSim, suspended, until, type FlinkSim } from './sim-flink-helpers.ts';

function manualSavepoint(name: string, job: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkStateSnapshot', metadata: { name, namespace: 'default' }, spec: { jobReference: { kind: 'FlinkDeployment', name: job }, savepoint: {}, ...extra } };
}

describe('simulated Flink operator 1.15.0: configuration, FlinkStateSnapshots, a killed operator', () => {
  let f: FlinkSim;
  let sim: Sim;

  beforeAll(async () => {
    f = await startFlinkSim();
    sim = f.sim;
    await sim.kube.create(FD, deployment('snap', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'snap', stable);
  });

  afterAll(async () => {
    await f?.close();
  });

  it('reads reconcile interval, progress check and JobManager TTL from the ConfigMap its pod mounts (the chart values), defaults otherwise, all on the one time factor', async () => {
    const client = new SimClient(sim.url, 'test');
    const workload = (await sim.kube.get('/apis/apps/v1/namespaces/flink-operator/deployments/flink-kubernetes-operator'))!;
    const { conf } = await readOperatorConfig(client, workload);
    expect(durationOption(conf, 'kubernetes.operator.reconcile.interval')).toBe(15_000);
    expect(durationOption(conf, 'kubernetes.operator.observer.progress-check.interval')).toBe(5_000);
    expect(durationOption(conf, 'kubernetes.operator.jm-deployment.shutdown-ttl')).toBe(30_000);
    expect(durationOption(conf, 'kubernetes.operator.observer.rest-ready.delay')).toBe(10_000);
    expect(wallDuration(conf, 'kubernetes.operator.reconcile.interval')).toBe(15_000 * SIM_TIME_SCALE);
    const bare = await readOperatorConfig(client, { ...workload, spec: { ...workload.spec, template: { spec: { containers: [{ name: 'x' }] } } } });
    expect(durationOption(bare.conf, 'kubernetes.operator.reconcile.interval')).toBe(60_000);
    expect(durationOption(bare.conf, 'kubernetes.operator.observer.progress-check.interval')).toBe(10_000);
    expect(durationOption(bare.conf, 'kubernetes.operator.jm-deployment.shutdown-ttl')).toBe(86_400_000);
  });

  it('takes a manual savepoint TRIGGER_PENDING -> IN_PROGRESS -> COMPLETED, noticing completion on its next pass (15 s reconcile interval)', async () => {
    await sim.kube.create(SNAP, manualSavepoint('manual', 'snap'));
    const seen: { state: string; at: number }[] = [];
    const snap = await until('a completed savepoint', async () => {
      const s = await sim.kube.get(`${SNAP}/manual`);
      const state = s?.status?.state ?? '-';
      if (seen.at(-1)?.state !== state) seen.push({ state, at: Date.now() });
      return state === 'COMPLETED' ? s : undefined;
    });
    const inProgress = seen.find((x) => x.state === 'IN_PROGRESS')!;
    const completed = seen.find((x) => x.state === 'COMPLETED')!;
    expect(inProgress).toBeDefined();
    // The JobManager finishes in ~100 ms; the operator only looks again one interval later.
    expect(completed.at - inProgress.at).toBeGreaterThanOrEqual(15_000 * SIM_TIME_SCALE - 20);
    expect(snap.status.path).toMatch(/^s3:\/\/flink-data\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(snap.status.triggerId).toMatch(/^[0-9a-f]{32}$/);
    expect(snap.status.failures).toBe(0);
    await sim.kube.waitFor<KubeObject>(`${SNAP}/manual`, (x) => x.metadata.labels?.['snapshot.state'] === 'COMPLETED' && x.metadata.labels?.['snapshot.trigger-type'] === 'MANUAL');
    expect(f.model('snap').savepoints.get(snap.status.path)).toBeGreaterThan(0);
  });

  it('fails a savepoint for good on its first failure with the default backoffLimit -1: FAILED, failures 1, the error as JSON, a Warning SavepointError', async () => {
    await sim.patchFaults({ flink: { failSavepoints: true } });
    await sim.kube.create(SNAP, manualSavepoint('doomed', 'snap'));
    const failed = await sim.kube.waitFor<KubeObject>(`${SNAP}/doomed`, (s) => s.status?.state === 'FAILED');
    expect(failed.status.failures).toBe(1);
    const error = JSON.parse(failed.status.error);
    expect(error.type).toBe('org.apache.flink.kubernetes.operator.exception.ReconciliationException');
    expect(error.message).toMatch(/failSavepoints/);
    expect(await eventsOf(sim, 'doomed')).toContainEqual({ type: 'Warning', reason: 'SavepointError', message: failed.status.error });
    await sleep(1000);
    expect((await sim.kube.get(`${SNAP}/doomed`))!.status).toMatchObject({ state: 'FAILED', failures: 1 });
  });

  it('retries while failures <= backoffLimit, TRIGGER_PENDING again after 10 s * 2^(failures-1)', async () => {
    await sim.kube.create(SNAP, manualSavepoint('retried', 'snap', { backoffLimit: 1 }));
    const first = await until('the first failure', async () => {
      const s = await sim.kube.get(`${SNAP}/retried`);
      return s?.status?.failures === 1 ? Date.now() : undefined;
    });
    const pending = await sim.kube.get(`${SNAP}/retried`);
    expect(pending!.status.state).toBe('TRIGGER_PENDING');
    const failed = await sim.kube.waitFor<KubeObject>(`${SNAP}/retried`, (s) => s.status?.state === 'FAILED');
    expect(failed.status.failures).toBe(2);
    expect(Date.now() - first).toBeGreaterThanOrEqual(10_000 * SIM_TIME_SCALE - 20);
    await sim.patchFaults({ flink: null });
  });

  it('keeps a savepoint deleted while IN_PROGRESS blocked on its finalizer (cleanup never observes it again); a COMPLETED one is disposed of on deletion', async () => {
    await sim.patchFaults({ flink: { savepointDelayMs: 500 } });
    await sim.kube.create(SNAP, manualSavepoint('slow', 'snap'));
    const inProgress = await sim.kube.waitFor<KubeObject>(`${SNAP}/slow`, (s) => s.status?.state === 'IN_PROGRESS');
    await sim.kube.delete(`${SNAP}/slow`);
    // The JobManager finishes the savepoint, yet the operator's cleanup only sees IN_PROGRESS.
    await until('the savepoint on the JobManager', () => (f.model('snap').runtime?.triggers.get(inProgress.status.triggerId)?.state === 'COMPLETED' ? true : undefined));
    await sleep(4 * 15_000 * SIM_TIME_SCALE);
    const blocked = await sim.kube.get(`${SNAP}/slow`);
    expect(blocked?.metadata.deletionTimestamp).toBeDefined();
    expect(blocked?.metadata.finalizers).toEqual(['flinkstatesnapshots.flink.apache.org/finalizer']);
    expect(blocked?.status.state).toBe('IN_PROGRESS');
    // Only taking the finalizer off by hand lets it go.
    await sim.kube.patch(`${SNAP}/slow`, { metadata: { finalizers: null } });
    await sim.kube.waitFor<KubeObject[]>(SNAP, (l) => !l.some((s) => s.metadata.name === 'slow'));
    await sim.patchFaults({ flink: null });

    const path = (await sim.kube.get(`${SNAP}/manual`))!.status.path as string;
    expect(flinkWorld(sim.url).storage.has(path)).toBe(true);
    await sim.kube.delete(`${SNAP}/manual`);
    await sim.kube.waitFor<KubeObject[]>(SNAP, (l) => !l.some((s) => s.metadata.name === 'manual'));
    expect(flinkWorld(sim.url).storage.has(path)).toBe(false);
  });

  it('dies mid-reconcile when its pod is killed (a stop-with-savepoint in flight is never recorded by it); the next operator resumes from the recorded status', async () => {
    const m = f.model('snap');
    await sim.patchFaults({ flink: { savepointDelayMs: 1000 } });
    await sleep(150);
    const savepointsBefore = new Set(m.savepoints.keys());
    await sim.kube.patch(`${FD}/snap`, { spec: { job: { state: 'suspended' } } });
    await until('the stop-with-savepoint', async () => (messages(await jmLog(sim, 'snap')).some((l) => /^Triggering stop-with-savepoint for job [0-9a-f]{32}\.$/.test(l)) ? true : undefined));
    // The next operator pod stays unready until the savepoint has finished on the JobManager.
    await sim.patchFaults({ neverReady: ['^flink-kubernetes-operator-'] });
    for (const p of await sim.kube.list('/api/v1/namespaces/flink-operator/pods')) await sim.kube.delete(`/api/v1/namespaces/flink-operator/pods/${p.metadata.name}`);
    const taken = await until('the savepoint on the JobManager', () => [...m.savepoints.keys()].find((k) => !savepointsBefore.has(k)));
    await until('the job to finish', () => (m.runtime?.state === 'FINISHED' ? true : undefined));
    await sleep(300);
    const meanwhile = (await sim.kube.get(`${FD}/snap`))!;
    expect(meanwhile.status.jobStatus.upgradeSavepointPath).toBeUndefined();
    expect(meanwhile.status.lifecycleState).not.toBe('SUSPENDED');

    await sim.patchFaults({ neverReady: null, flink: null });
    const { fd } = await lifecycle(sim, 'snap', suspended);
    // Observed as FINISHED, its latest savepoint is what the upgrade continues from.
    expect(fd.status.jobStatus.upgradeSavepointPath).toBe(taken);
    expect((await sim.kube.list(SNAP)).filter((s) => s.metadata.name!.startsWith('snap-savepoint-upgrade-'))).toEqual([]);

    const rec = f.record('snap');
    await sim.kube.patch(`${FD}/snap`, { spec: { job: { state: 'running' } } });
    await lifecycle(sim, 'snap', stable);
    expect(m.restores.at(-1)).toMatchObject({ source: 'savepoint', path: taken });
    const position = flinkWorld(sim.url).storage.get(taken)!.position;
    await rec.until((r) => r.seq === position + 1, 'continuing after the savepoint');
  });
});
