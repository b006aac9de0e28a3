// Negative controls against real Flink: runs whose state IS lost or rewound without being
// declared, so the product's checker must say so. A checker that passed these would be blind.
import { expect, inject, it } from 'vitest';
import { resetDetected } from '../../../scenarios/claims.ts';
import { Run } from './harness.ts';
import { observe, readHistory } from './observe.ts';
import { cancelJob } from './rest.ts';
import { checkpointIds, HaConfigMaps } from './kube-ha.ts';
import { zkCli } from './zookeeper.ts';

const sandbox = inject('realSandbox');

it('the job without checkpoints (hello-no-ha.yaml), TaskManager killed: the sequence starts over and the checker reports the reset', async () => {
  const run = await Run.start(sandbox, { name: 'no-ha-baseline', manifest: 'hello-no-ha.yaml' });
  try {
    expect(run.flink.config['execution.checkpointing.interval']).toBeUndefined();
    await run.submit();
    await run.waitForSequence(30, 'the job to log 30 records');
    const mark = run.history.restartMark();
    const before = run.highWater();
    await run.note({ kind: 'expect-reset' });
    const [tm] = run.cluster.liveTaskManagers();
    await run.kill(tm!, 'kill-taskmanager');
    await run.cluster.startTaskManager();
    await run.waitForRecovery(mark, before, `the job to run again and pass ${before}`);
    const verdict = await run.finish();
    await observe(run, verdict);

    const claim = resetDetected();
    expect(claim.check({ verdict, facts: {}, checkpoints: 0 }), claim.title).toMatchObject({ ok: true });
    const events = await readHistory(run.history.file);
    const fault = events.findIndex((e) => e.kind === 'fault');
    // The restarted job began at 1 again.
    expect(events.slice(fault).some((e) => e.kind === 'record' && e.seq === 1)).toBe(true);
  } finally {
    await run.stop();
  }
});

/** Three retained checkpoints (the manifest keeps Flink's one), kept on cancel, so an older one still exists to restore from. */
const RETAIN_THREE = { 'execution.checkpointing.num-retained': '3', 'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION' };

it(`the HA metadata (${sandbox.ha.type}) made to point at an OLDER checkpoint, the JobManager killed and restarted: the checker flags the stale restore`, async () => {
  const run = await Run.start(sandbox, { name: 'restore-older-checkpoint', clusterConfig: RETAIN_THREE });
  try {
    const jobId = await run.submit();
    await run.running(4);
    const ids = [...run.history.checkpoints()];
    const older = ids.at(-3)!;
    const before = run.highWater();
    const mark = run.history.restartMark();
    await run.kill(run.cluster.jobManager, 'kill-jobmanager');
    // The completed-checkpoint store loses its newest entries, so the restarted JobManager can
    // only find `older`.
    const removed = await forgetCheckpointsAfter(run, jobId, older);
    expect(removed.length).toBeGreaterThan(0);
    await run.cluster.startJobManager();
    await run.waitForRecovery(mark, before, `the job restored from checkpoint ${older} to pass ${before}`);
    const verdict = await run.finish();
    await observe(run, verdict, 'fault', { ha: sandbox.ha.type, last: ids.at(-1), restoredFrom: older, removedFromStore: removed });

    expect(await run.jobManagerLines(new RegExp(`^Restoring job ${jobId} from Checkpoint ${older} `))).toHaveLength(1);
    expect(verdict.valid).toBe(false);
    expect(verdict.findings.filter((f) => f.fail).map((f) => f.kind)).toContain('stale-restore');
  } finally {
    await run.stop();
  }
});

/**
 * Removes the checkpoints newer than `older` from the job's completed-checkpoint store: the
 * `checkpointID-<id>` keys of its HA ConfigMap (kubernetes HA; the edit is checked by reading the
 * ConfigMap back), or its znodes, one per checkpoint named by its id (ZooKeeper). The ids removed.
 */
async function forgetCheckpointsAfter(run: Run, jobId: string, older: number): Promise<number[]> {
  const ha = sandbox.ha;
  if (ha.type === 'kubernetes') {
    const cms = await HaConfigMaps.connect(ha, run.clusterId);
    const stored = checkpointIds(await cms.job(jobId));
    expect(stored).toContain(older);
    const newer = stored.filter((id) => id > older);
    const edited = await cms.dropCheckpoints(jobId, newer);
    expect(checkpointIds(edited)).toEqual(stored.filter((id) => id <= older));
    expect(checkpointIds(await cms.job(jobId)).at(-1)).toBe(older);
    return newer;
  }
  const store = `/flink/${run.clusterId}/jobs/${jobId}/checkpoints`;
  const listed = await zkCli(ha.lib, ha.quorum, ['ls', store]);
  const newer = [...listed.matchAll(/\b(\d{19})\b/g)].map((m) => m[1]!).filter((node) => Number(node) > older);
  for (const node of newer) await zkCli(ha.lib, ha.quorum, ['deleteall', `${store}/${node}`]);
  return newer.map(Number);
}

// A restore of a retained checkpoint given as the savepoint path (savepointPath, the operator's
// initialSavepointPath) is logged by Flink as "Restoring job ... from Savepoint <id> ... located at
// .../chk-<id>": the recorder reads the chk-<id> path as a checkpoint restore, so the stale-restore
// rule sees it (no rewind was declared here).
it('a redeploy deliberately from an OLDER retained checkpoint (savepointPath .../chk-N): the checker flags the stale restore', async () => {
  const run = await Run.start(sandbox, { name: 'redeploy-older-checkpoint', clusterConfig: RETAIN_THREE });
  try {
    const jobId = await run.submit();
    await run.running(4);
    const ids = [...run.history.checkpoints()];
    const older = ids.at(-3)!;
    const before = run.highWater();
    const mark = run.history.restartMark();
    await run.note({ kind: 'fault', name: 'redeploy' });
    await cancelJob(run.cluster.restUrl, jobId);
    const path = `${run.flink.config['state.checkpoints.dir']}/${jobId}/chk-${older}`;
    await run.submit({ savepointPath: path });
    await run.waitForRecovery(mark, before, `the job restored from checkpoint ${older} to pass ${before}`);
    const verdict = await run.finish();
    await observe(run, verdict, 'fault', { last: ids.at(-1), restoredFrom: older });

    expect(await run.jobManagerLines(new RegExp(`from Savepoint ${older} .* located at ${path}`))).toHaveLength(1);
    expect(verdict.findings.filter((f) => f.fail).map((f) => f.kind)).toContain('stale-restore');
  } finally {
    await run.stop();
  }
});
