// Ctrl-C at each phase of a scenario, through the built CLI on one simulated sandbox (full
// profile, stood up once). Each point holds its phase (a finalizer, API latency, a pod that never
// gets Ready, a job that never recovers, a long settle), signals the CLI's process group once the
// scenario says it is in that phase, and checks: exit 130 within seconds; the message names the
// scenario, the phase and what was left; nothing the CLI started outlives it and no watch of it
// stays open; the next scenario run starts clean (it deletes the job left behind and deploys it
// afresh: a new FlinkDeployment, a sequence from 1 with nothing lost) and passes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { SimClient } from '../sim/api-client.ts';
import { flinkWorld } from '../sim/flink/job.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { BIN, clientWatches, startCli, stillAlive, stopAll, type Running } from './ctrl-c.ts';

let sim: Sim;
/** The harness's config with a settle long enough to be caught in. */
let slowSettle: string;
const JOB = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments/hello-ha';

interface Outcome {
  scenario: string;
  ok: boolean;
  claims: Array<{ title: string; ok: boolean; detail: string }>;
}

beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'full'], { env: sim.env, timeoutMs: 150_000, bin: BIN });
  expect(up.code, up.stderr).toBe(0);
  slowSettle = join(sim.dir, 'slow-settle.yaml');
  writeFileSync(slowSettle, readFileSync(sim.configFile, 'utf8').replace(/settleSeconds: [\d.]+/, 'settleSeconds: 40'));
  // A job from an earlier run, as a user's sandbox has one.
  const first = await runCli(['scenario', 'deploy', '--config', sim.configFile], { env: sim.env, timeoutMs: 120_000, bin: BIN });
  expect(first.code, first.stderr).toBe(0);
}, 240_000);
// A point that failed half-way must not leave its knob to the next one.
afterEach(async () => {
  await stopAll();
  await sim.patchFaults({ latencyMs: null, neverReady: null, flink: null, logging: null });
});
afterAll(async () => {
  await sim?.close();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function expectStoppedCleanly(cli: Running, scenario: string, phase: RegExp): Promise<string> {
  const exit = await cli.exited;
  const stderr = cli.stderr();
  expect(exit.code, cli.output()).toBe(130);
  expect(exit.afterSignalMs, stderr).toBeLessThan(8_000);
  expect(stderr).toMatch(/Ctrl-C: stopping cleanly/);
  expect(stderr).toMatch(new RegExp(`interrupted during scenario ${scenario}, phase ${phase.source}`));
  expect(stderr).toMatch(/^left: the history so far in .+history\.jsonl$/m);
  expect(stderr).not.toMatch(/^\s+at .+\(/m);
  expect(stillAlive(cli.descendants())).toEqual([]);
  await until(async () => ((await clientWatches(sim.url)) === 0 ? true : undefined), 'the CLI watches to close', 5_000);
  return stderr;
}

/** The next run deletes what was left, deploys a new job whose sequence starts at 1, and passes. */
async function expectNextRunStartsClean(): Promise<void> {
  const before = await sim.kube.get(JOB);
  const again = startCli(['scenario', 'deploy', '--json', '--config', sim.configFile], sim.env);
  const exit = await again.exited;
  expect(exit.code, again.output()).toBe(0);
  const doc = JSON.parse(again.stdout()) as { outcomes: Outcome[] };
  expect(doc.outcomes[0]!.ok).toBe(true);
  expect(doc.outcomes[0]!.claims.find((c) => /advances from 1/.test(c.title))?.ok).toBe(true);
  const after = await sim.kube.get(JOB);
  if (before) expect(after?.metadata.uid).not.toBe(before.metadata.uid);
}

/** What the simulation holds of the job: for a failure message when a scenario stalls. */
async function jobState(): Promise<string> {
  const job = await sim.kube.get(JOB);
  const pods = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha' });
  const st = (job?.status ?? {}) as Record<string, any>;
  const summary = { uid: job?.metadata.uid, deleting: !!job?.metadata.deletionTimestamp, lifecycle: st.lifecycleState, jm: st.jobManagerDeploymentStatus, job: st.jobStatus?.state, jobId: st.jobStatus?.jobId, reconciled: st.reconciliationStatus?.state, error: st.error };
  const lines = [`FlinkDeployment: ${job ? JSON.stringify(summary) : 'none'}`];
  // The simulated Flink cluster's own view (it runs in this process).
  const m = flinkWorld(sim.url).models.get('default/hello-ha');
  if (m) {
    const tms = [...m.taskManagers.values()].map((tm) => `${tm.pod}:${tm.state}`);
    lines.push(`Flink: leader ${m.leader ?? '-'}, lease ${m.lease ? `${m.lease.holder} renewed ${Date.now() - m.lease.renewedMs} ms ago` : '-'}, job ${m.runtime?.state ?? '-'}, TaskManagers [${tms.join(', ')}], orphaned jobs ${m.orphans.size}`);
  }
  for (const p of pods) {
    const containers = ((p.status?.containerStatuses ?? []) as Array<Record<string, any>>).map((c) => `${c.name} ready=${c.ready} restarts=${c.restartCount} ${Object.keys(c.state ?? {}).join()}`);
    lines.push(`pod ${p.metadata.name}${p.metadata.deletionTimestamp ? ' (deleting)' : ''}: ${p.status?.phase} on ${p.spec?.nodeName ?? 'no node'}; ${containers.join('; ')}`);
    // Its last lines other than records: what Flink said it was doing.
    const log = await new SimClient(sim.url, 'test')
      .request<string>('GET', `/api/v1/namespaces/default/pods/${p.metadata.name}/log`, undefined, { query: { container: 'flink-main-container', timestamps: true } })
      .catch((e: unknown) => String(e));
    for (const l of String(log).split('\n').filter((l) => l && !/SEQ seq=/.test(l)).slice(-12)) lines.push(`  ${l.slice(0, 300)}`);
  }
  return lines.join('\n');
}

function scenario(name: string, config = sim.configFile): Running {
  const cli = startCli(['scenario', name, '--config', config], sim.env);
  const waitFor = cli.waitFor.bind(cli);
  cli.waitFor = async (pattern, timeoutMs) => {
    try {
      await waitFor(pattern, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nthe simulation then:\n${await jobState().catch((e: unknown) => String(e))}`);
    }
  };
  return cli;
}

describe('Ctrl-C at each phase of a scenario', () => {
  it('while the previous job is being removed', async () => {
    // A finalizer of someone else's holds the old FlinkDeployment's deletion.
    const job = await sim.kube.get(JOB);
    expect(job, 'a job from an earlier run').toBeDefined();
    await sim.kube.patch(JOB, { metadata: { finalizers: [...(job!.metadata.finalizers ?? []), 'test.sandbox/hold'] } });
    const release = async (): Promise<void> => {
      const held = await sim.kube.get(JOB);
      if (held) await sim.kube.patch(JOB, { metadata: { finalizers: (held.metadata.finalizers ?? []).filter((f) => f !== 'test.sandbox/hold') } });
    };
    try {
      const cli = scenario('deploy');
      await cli.waitFor(/deploy: deploying hello-ha afresh/);
      await until(async () => ((await sim.kube.get(JOB))?.metadata.deletionTimestamp ? true : undefined), 'the old job to be deleting');
      cli.ctrlC();
      const stderr = await expectStoppedCleanly(cli, 'deploy', /removing the previous job/);
      expect(stderr).toMatch(/^left: the previous FlinkDeployment default\/hello-ha, possibly being deleted/m);
    } finally {
      await release();
    }
    await expectNextRunStartsClean();
  });

  it('while the recorder starts following the pods', async () => {
    await sim.patchFaults({ latencyMs: 1500 });
    const cli = scenario('deploy');
    await cli.waitFor(/deploy: following the pods of hello-ha/);
    cli.ctrlC();
    const stderr = await expectStoppedCleanly(cli, 'deploy', /starting the recorder/);
    await sim.patchFaults({ latencyMs: null });
    expect((await sim.faultCounts()).delayedRequests).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/^left: FlinkDeployment/m);
    await expectNextRunStartsClean();
  });

  it('while the job is deployed and not yet running', async () => {
    await sim.patchFaults({ neverReady: ['^hello-ha-[a-z0-9]+-[a-z0-9]+$'] });
    const cli = scenario('deploy');
    await cli.waitFor(/deploy: starting hello-ha and waiting until it runs/);
    // The JobManager is there and held un-Ready.
    await until(async () => {
      const pods = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=jobmanager' });
      return pods.length ? true : undefined;
    }, 'the JobManager pod');
    cli.ctrlC();
    const stderr = await expectStoppedCleanly(cli, 'deploy', /deploying the job/);
    expect(stderr).toMatch(/^left: FlinkDeployment default\/hello-ha as it was \(the next scenario run deletes it and deploys it afresh\)/m);
    await sim.patchFaults({ neverReady: null });
    await expectNextRunStartsClean();
  });

  it('during the setup', async () => {
    // logs-in-elasticsearch's setup reads the logging pipeline through the API: held by latency.
    const cli = scenario('logs-in-elasticsearch');
    await cli.waitFor(/logs-in-elasticsearch: starting hello-ha/);
    await sim.patchFaults({ latencyMs: 500 });
    await cli.waitFor(/logs-in-elasticsearch: setting up/);
    cli.ctrlC();
    await expectStoppedCleanly(cli, 'logs-in-elasticsearch', /setup/);
    await sim.patchFaults({ latencyMs: null });
    await expectNextRunStartsClean();
  });

  it('during the act, while the job does not recover from a killed TaskManager', async () => {
    await sim.patchFaults({ flink: { neverRecover: true } });
    const cli = scenario('kill-taskmanager');
    await cli.waitFor(/kill-taskmanager: waiting for the restarted job to pass \d+/);
    cli.ctrlC();
    const stderr = await expectStoppedCleanly(cli, 'kill-taskmanager', /act/);
    expect(stderr).toMatch(/^left: FlinkDeployment default\/hello-ha as it was/m);
    await sim.patchFaults({ flink: null });
    await expectNextRunStartsClean();
  });

  it('during the act of a scenario reading Elasticsearch through a port-forward', async () => {
    // The records never reach the index: the act keeps reading it.
    await sim.patchFaults({ logging: { dropLines: ['.'] } });
    const cli = scenario('logs-in-elasticsearch');
    await cli.waitFor(/logs-in-elasticsearch: reading index fluentd/);
    cli.ctrlC();
    await expectStoppedCleanly(cli, 'logs-in-elasticsearch', /act/);
    await sim.patchFaults({ logging: null });
    await expectNextRunStartsClean();
  });

  it('while the run settles after the act', async () => {
    const cli = scenario('deploy', slowSettle);
    await cli.waitFor(/deploy: settling: waiting for \d+ more records/);
    cli.ctrlC();
    await expectStoppedCleanly(cli, 'deploy', /settle/);
    await expectNextRunStartsClean();
  });

  it('while the history is judged: milliseconds of work, so the Ctrl-C lands in it or just after, and is said as such', async () => {
    const cli = scenario('deploy');
    await cli.waitFor(/deploy: judging the history/);
    cli.ctrlC();
    const exit = await cli.exited;
    expect(exit.afterSignalMs).toBeLessThan(8_000);
    const out = cli.output();
    // Stopped in the judge or the claims (130, naming them), or the verdict was in and the run
    // ended as it would have (its outcome printed, exit 0; or 130 when the signal itself ended a
    // process already on its way out): each is what happened, said as such.
    if (/interrupted/.test(cli.stderr())) {
      expect(exit.code).toBe(130);
      expect(out).toMatch(/interrupted during scenario deploy, phase (judge|claims)|interrupted after scenario deploy had its verdict \(passed\)/);
    } else {
      expect([0, 130]).toContain(exit.code);
      expect(out).toMatch(/1 of 1 scenarios passed/);
    }
    expect(stillAlive(cli.descendants())).toEqual([]);
    await expectNextRunStartsClean();
  });

  it('during `sandbox test`: the report covers what ran and the message names the phase', async () => {
    await sim.patchFaults({ flink: { neverRecover: true } });
    const cli = startCli(['test', 'deploy', 'kill-taskmanager', 'operator-restart', '--config', sim.configFile], sim.env);
    await cli.waitFor(/kill-taskmanager: waiting for the restarted job to pass \d+/, 90_000);
    cli.ctrlC();
    const exit = await cli.exited;
    await sim.patchFaults({ flink: null });
    expect(exit.code, cli.output()).toBe(130);
    expect(exit.afterSignalMs).toBeLessThan(8_000);
    expect(cli.stderr()).toMatch(/interrupted after 1 of 3 scenarios, during scenario kill-taskmanager, phase act/);
    expect(cli.stderr()).toMatch(/^left: FlinkDeployment default\/hello-ha as it was/m);
    expect(cli.stderr()).toMatch(/^not run: operator-restart$/m);
    expect(stillAlive(cli.descendants())).toEqual([]);
    await expectNextRunStartsClean();
  });

  it('a second Ctrl-C while the first one runs the teardown exits at once and names what it leaves', async () => {
    // savepoint-redeploy's teardown deletes its savepoint and waits until it is gone: a finalizer
    // of someone else's holds that, so the cleanup of the first Ctrl-C is still running.
    const SNAPSHOT = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkstatesnapshots/sandbox-scenario-savepoint';
    const release = async (): Promise<void> => {
      const held = await sim.kube.get(SNAPSHOT);
      if (held) await sim.kube.patch(SNAPSHOT, { metadata: { finalizers: (held.metadata.finalizers ?? []).filter((f) => f !== 'test.sandbox/hold') } });
    };
    try {
      const cli = scenario('savepoint-redeploy');
      await cli.waitFor(/savepoint-redeploy: taking a savepoint/);
      const snap = await until(() => sim.kube.get(SNAPSHOT), 'the savepoint object');
      await sim.kube.patch(SNAPSHOT, { metadata: { finalizers: [...(snap.metadata.finalizers ?? []), 'test.sandbox/hold'] } });
      cli.ctrlC();
      await cli.waitFor(/Ctrl-C: stopping cleanly/, 5_000);
      await until(async () => ((await sim.kube.get(SNAPSHOT))?.metadata.deletionTimestamp ? true : undefined), 'the teardown to delete the savepoint');
      const exit = await cli.ctrlCAgain();
      expect(exit.code, cli.output()).toBe(130);
      expect(exit.afterSecondMs).toBeLessThan(2_000);
      expect(cli.stderr()).toMatch(/Ctrl-C again: quitting at once, without cleaning up/);
      expect(cli.stderr()).toMatch(/left mid-way: scenario savepoint-redeploy \(act\)/);
      expect(stillAlive(cli.descendants())).toEqual([]);
    } finally {
      await release();
    }
    await expectNextRunStartsClean();
  });
});
