// Process faults against real Flink, configured from manifests/flink/hello-ha.yaml: a TaskManager
// killed and replaced, the JobManager killed and restarted (kubernetes HA on a local API server,
// or ZooKeeper without one: kube-ha.ts), a TaskManager frozen past the
// heartbeat timeout. Each verdict is the product's checker's, over the history the file recorder
// wrote from the real processes' logs; each claim is the product's scenario claim.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { continuity, recovered } from '../../../scenarios/claims.ts';
import type { ClaimInput } from '../../../scenarios/scenario.ts';
import type { Verdict } from '../../../scenarios/checker/verdict.ts';
import { mc, Run } from './harness.ts';
import { checkpointIds, HaConfigMaps, haConfigMapNames, leaderOf } from './kube-ha.ts';
import { waitForJobState } from './rest.ts';
import { observe } from './observe.ts';

const sandbox = inject('realSandbox');

function claimInput(run: Run, verdict: Verdict): ClaimInput {
  return { verdict, facts: {}, checkpoints: run.history.checkpoints().length };
}

it('S3 credentials reach the Presto plugin from the environment: a checkpoint lands in MinIO; a TaskManager killed with SIGKILL and replaced: nothing lost, replays inside the window', async () => {
  const run = await Run.start(sandbox, { name: 'kill-taskmanager' });
  try {
    // The manifest's way: credentials only in the environment, none in the Flink configuration.
    expect(Object.keys(run.flink.config).filter((k) => /access-key|secret-key/.test(k))).toEqual([]);
    expect(Object.keys(run.flink.env).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const jobId = await run.submit();
    await run.running();
    const checkpoint = run.history.checkpoints().at(-1)!;
    const dir = `${run.flink.config['state.checkpoints.dir']!.replace(/^s3:\/\//, 'sandbox/')}/${jobId}/chk-${checkpoint}/`;
    // The checkpoint's metadata in MinIO: written through the plugin with the env credentials.
    expect(await mc(sandbox, ['ls', dir])).toContain('_metadata');

    const before = run.highWater();
    const mark = run.history.restartMark();
    const [tm] = run.cluster.liveTaskManagers();
    await run.kill(tm!, 'kill-taskmanager');
    // Kubernetes would start a new pod; standalone Flink needs its replacement started for it.
    await run.cluster.startTaskManager();
    await run.waitForRecovery(mark, before, `the job to recover and pass ${before}`);
    const verdict = await run.finish();
    const obs = await observe(run, verdict);

    for (const claim of [continuity('sequence continues after the TaskManager is killed'), recovered('kill-taskmanager')]) {
      expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    }
    expect(verdict.counts.lost).toBe(0);
    // A restart from the last checkpoint replays what came after it: the window shows it.
    expect(verdict.replayWindows.length).toBeGreaterThan(0);
    expect(obs.attemptsAfter.some((a) => a > 0)).toBe(true);
    expect(obs.restoreLines.some((l) => l.startsWith(`Restoring job ${jobId} from Checkpoint`))).toBe(true);
  } finally {
    await run.stop();
  }
});

it(`JobManager killed with SIGKILL and restarted: ${sandbox.ha.type} HA recovers the job from the checkpoint its HA store names, nothing lost`, async () => {
  const run = await Run.start(sandbox, { name: 'kill-jobmanager' });
  try {
    const jobId = await run.submit();
    const ha = sandbox.ha.type === 'kubernetes' ? await HaConfigMaps.connect(sandbox.ha, run.clusterId) : undefined;
    // What the job's ConfigMap holds as the job starts (the simulation creates it empty then).
    const atStart = ha ? await ha.job(jobId) : undefined;
    const jobConfigMapAtStart = ha ? { exists: atStart !== undefined, keys: Object.keys(atStart?.data ?? {}), checkpointsSeen: run.history.checkpoints().length } : undefined;
    await run.running();
    if (ha) await writeFile(join(run.workDir, 'ha-configmaps-before.json'), `${JSON.stringify(await ha.all(), null, 2)}\n`);
    const leaderBefore = ha ? leaderOf(await ha.get(haConfigMapNames.cluster(run.clusterId))) : undefined;
    const before = run.highWater();
    const mark = run.history.restartMark();
    const killed = await run.kill(run.cluster.jobManager, 'kill-jobmanager');
    // Nobody writes the HA store now: the newest checkpoint its job ConfigMap names is the one
    // the next JobManager must restore.
    const named = ha ? checkpointIds(await ha.job(jobId)).at(-1) : undefined;
    if (ha) expect(named).toBe(run.history.checkpoints().at(-1));
    // The Deployment's restart of the pod: a new JobManager process with the same configuration.
    const restarted = await run.cluster.startJobManager();
    await run.waitForRecovery(mark, before, `the recovered job to pass ${before}`);
    // HA recovered the same job (same id), not a new submission. The old tasks log on until the
    // new leader shows, so the sequence passing `before` does not yet mean the job is back.
    await waitForJobState(run.cluster.restUrl, jobId, 'RUNNING');
    const granted = await run.loggedAt(restarted, /^DefaultDispatcherRunner was granted leadership/);
    expect(granted).toBeDefined();
    // When the new JobManager began to contend (its start-up before that is the machine's, not HA's).
    const contending = await run.loggedAt(restarted, /^(Triggered leader election on lock|A connection to the HA backend was established)/);
    const leaderAfter = ha ? leaderOf(await ha.get(haConfigMapNames.cluster(run.clusterId))) : undefined;
    if (ha) {
      await writeFile(join(run.workDir, 'ha-configmaps.json'), `${JSON.stringify(await ha.all(), null, 2)}\n`);
      // The lease changed hands: the new JobManager holds it now.
      expect(leaderBefore?.holderIdentity).toBeTruthy();
      expect(leaderAfter?.holderIdentity).toBeTruthy();
      expect(leaderAfter?.holderIdentity).not.toBe(leaderBefore?.holderIdentity);
    }
    const verdict = await run.finish();
    // finish() cancelled the job and stopped the processes: what the cancel left in the HA store.
    const afterCancel = ha ? (await ha.all()).map((cm) => ({ name: cm.metadata.name, keys: Object.keys(cm.data ?? {}) })) : undefined;
    // The dead leader's lease ran out leaseDuration after its last renewal.
    const leaseEnd = leaderBefore?.renewTime ? Date.parse(leaderBefore.renewTime) + (leaderBefore.leaseDuration ?? 0) * 1000 : undefined;
    const obs = await observe(run, verdict, 'fault', {
      ha: sandbox.ha.type,
      leadershipMs: granted! - killed,
      contendingMs: contending === undefined ? undefined : contending - killed,
      leaseExpiredMs: leaseEnd === undefined ? undefined : leaseEnd - killed,
      haNamedCheckpoint: named,
      jobConfigMapAtStart,
      afterCancel,
      leaderBefore,
      leaderAfter,
    });

    for (const claim of [continuity('sequence continues after the JobManager is killed'), recovered('kill-jobmanager')]) {
      expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    }
    const restoredFrom = named ?? '\\d+';
    expect(obs.restoreLines.some((l) => new RegExp(`^Restoring job ${jobId} from Checkpoint ${restoredFrom} `).test(l))).toBe(true);
  } finally {
    await run.stop();
  }
});

/** Flink's heartbeat.timeout default (the manifest does not set it). */
const HEARTBEAT_TIMEOUT_MS = 50_000;

it('TaskManager frozen with SIGSTOP past the heartbeat timeout, then SIGCONT: the job recovers, nothing lost', async () => {
  const run = await Run.start(sandbox, { name: 'freeze-taskmanager' });
  try {
    expect(run.flink.config['heartbeat.timeout']).toBeUndefined();
    await run.submit();
    await run.running();
    const before = run.highWater();
    const mark = run.history.restartMark();
    const [tm] = run.cluster.liveTaskManagers();
    await run.note({ kind: 'fault', name: 'freeze-taskmanager' });
    await run.cluster.signal(tm!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_TIMEOUT_MS + 10_000));
    await run.cluster.signal(tm!, 'SIGCONT');
    await run.waitForRecovery(mark, before, `the job to recover and pass ${before}`);
    const verdict = await run.finish();
    await observe(run, verdict, 'fault', { frozenMs: HEARTBEAT_TIMEOUT_MS + 10_000 });

    for (const claim of [continuity('sequence continues after the TaskManager was frozen'), recovered('freeze-taskmanager')]) {
      expect(claim.check(claimInput(run, verdict)), claim.title).toMatchObject({ ok: true });
    }
    // The JobManager gave the frozen TaskManager up: the job restarted rather than resuming in place.
    expect((await run.jobManagerLines(/heartbeat of TaskManager with id taskmanager-1 timed out|taskmanager-1 .*timed out/i)).length).toBeGreaterThan(0);
  } finally {
    await run.stop();
  }
});
