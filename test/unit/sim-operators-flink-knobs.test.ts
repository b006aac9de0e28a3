// The `flink` fault knobs (test/sim/faults.ts) make the simulated job misbehave on purpose, so
// that the sequence checker and the scenarios can be shown to catch each misbehaviour. Every
// knob here is proven to fire where it would be observed: in the TaskManagers' record lines (read
// with the real parser) or in the FlinkDeployment's status and events.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSequenceLine } from '../../scripts/lib/flink/sequence-line.ts';
import type { Sim } from '../sim/harness.ts';
import { FD, deployment, eventsOf, jmLog, lifecycle, messages, sleep, stable, useFlinkSimWithKnobs, suspended, until, type FlinkSim } from './sim-flink-helpers.ts';

describe('simulated Flink job: misbehaviour knobs', () => {
  const knobs = useFlinkSimWithKnobs();
  let f: FlinkSim;
  let sim: Sim;

  beforeAll(() => {
    ({ f, sim } = knobs);
  });

  async function killTaskManager(app: string): Promise<void> {
    const [tm] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: `app=${app},component=taskmanager` });
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${tm!.metadata.name}`);
  }

  it('dropRecords: those numbers never reach a TaskManager log; garbageLines: a cut-off record line after every Nth record', async () => {
    const rec = f.record('lossy');
    await sim.patchFaults({ flink: { dropRecords: [7, 8], garbageLines: 10 } });
    await sim.kube.create(FD, deployment('lossy', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'lossy', stable);
    await rec.until((r) => r.seq >= 60, 'up to 60');
    expect(rec.gaps()).toEqual([7, 8]);
    expect(f.model('lossy').dropped).toEqual([7, 8]);
    expect(rec.malformed).toBeGreaterThanOrEqual(4);
    for (const line of rec.malformedLines) {
      expect(parseSequenceLine(line)).toEqual({ malformed: line });
      expect(line).toMatch(/SEQ seq=\d+ subtask=$/);
    }
  });

  it('loseStateOnRestore: a failover restores the checkpoint but the sequence starts again at 1', async () => {
    const rec = f.record('reset');
    await sim.kube.create(FD, deployment('reset', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'reset', stable);
    const m = f.model('reset');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity) + 5, 'past a checkpoint');
    await sim.patchFaults({ flink: { loseStateOnRestore: true } });
    await sleep(100);
    await killTaskManager('reset');
    await rec.until((r) => r.attempt === 1 && r.seq === 1, 'of a reset to 1');
    const restore = m.restores.find((r) => r.reason === 'failover')!;
    expect(restore.source).toBe('checkpoint');
    expect(restore.snapshotPosition).toBeGreaterThan(0);
    expect(restore.restoredPosition).toBe(0);
  });

  it('loseStateOnResume: failovers keep their state, but a job resumed from its savepoint starts again at 1', async () => {
    const rec = f.record('resume-loss');
    await sim.kube.create(FD, deployment('resume-loss', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'resume-loss', stable);
    const m = f.model('resume-loss');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity) + 5, 'past a checkpoint');
    await sim.patchFaults({ flink: { loseStateOnResume: true } });
    await sleep(100);
    await killTaskManager('resume-loss');
    const failover = await until('a failover', () => m.restores.find((r) => r.reason === 'failover'));
    expect(failover.restoredPosition).toBe(failover.snapshotPosition);
    await rec.until((r) => r.attempt === 1 && r.seq === failover.snapshotPosition + 1, 'the replay after the checkpoint');
    await lifecycle(sim, 'resume-loss', stable);

    await sim.kube.patch(`${FD}/resume-loss`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'resume-loss', suspended);
    const before = rec.records.length;
    await sim.kube.patch(`${FD}/resume-loss`, { spec: { job: { state: 'running' } } });
    await lifecycle(sim, 'resume-loss', stable);
    expect(m.restores.at(-1)).toMatchObject({ reason: 'jobmanager-start', source: 'savepoint', path: fd.status.jobStatus.upgradeSavepointPath, restoredPosition: 0 });
    expect(m.restores.at(-1)!.snapshotPosition).toBeGreaterThan(0);
    const first = await rec.until((r) => rec.records.indexOf(r) >= before, 'of the resumed job');
    expect(first.seq).toBe(1);
  });

  it('restoreOlderCheckpoint: a failover restores the checkpoint before the latest one, replaying more than it should', async () => {
    const rec = f.record('older');
    await sim.kube.create(FD, deployment('older', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'older', stable);
    const m = f.model('older');
    await until('three checkpoints', () => (m.completedCheckpoints.length >= 3 ? true : undefined));
    await sim.patchFaults({ flink: { restoreOlderCheckpoint: true } });
    await sleep(100);
    await killTaskManager('older');
    const restore = await until('a failover', () => m.restores.find((r) => r.reason === 'failover'));
    const latest = m.completedCheckpoints.filter((c) => (c.checkpointId ?? 0) > (restore.checkpointId ?? 0));
    expect(latest.length).toBeGreaterThan(0);
    expect(restore.snapshotPosition).toBeLessThan(latest[0]!.position);
    const replay = await rec.until((r) => r.attempt === 1, 'of attempt 1');
    expect(replay.seq).toBe(restore.snapshotPosition + 1);
    expect(messages(await jmLog(sim, 'older'))).toContain(`Restoring job ${restore.jobId} from Checkpoint ${restore.checkpointId} @ ${m.completedCheckpoints.find((c) => c.checkpointId === restore.checkpointId)!.atMs} for ${restore.jobId} located at ${restore.path}.`);
  });

  it('neverRecover: after a TaskManager is lost the job never runs its tasks again; the operator never sees it RUNNING', async () => {
    const rec = f.record('stuck');
    await sim.kube.create(FD, deployment('stuck', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'stuck', stable);
    await rec.until((r) => r.seq > 10, 'a few records');
    await sim.patchFaults({ flink: { neverRecover: true } });
    await sleep(100);
    await killTaskManager('stuck');
    const m = f.model('stuck');
    await until('a failover', () => m.restores.find((r) => r.reason === 'failover'));
    const high = rec.max();
    await sleep(1500);
    expect(rec.records.filter((r) => r.attempt > 0)).toEqual([]);
    expect(rec.max()).toBe(high);
    const fd = (await sim.kube.get(`${FD}/stuck`))!;
    expect(fd.status.jobStatus.state).not.toBe('RUNNING');
    expect(m.runtime?.tasksRunning).toBe(false);
  });

  it('failSavepoints: the stop-with-savepoint of a suspend fails; the job keeps running with the UpgradeFailureException in status.error and a Warning SavepointError', async () => {
    const rec = f.record('sp-fail');
    await sim.kube.create(FD, deployment('sp-fail', { ha: true, upgradeMode: 'savepoint' }));
    const { fd: running } = await lifecycle(sim, 'sp-fail', stable);
    await sim.patchFaults({ flink: { failSavepoints: true } });
    await sleep(100);
    await sim.kube.patch(`${FD}/sp-fail`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'sp-fail', (x) => typeof x.status?.error === 'string' && x.status.error.includes('Savepoint Error'));
    const error = JSON.parse(fd.status.error);
    expect(error).toMatchObject({ type: 'org.apache.flink.kubernetes.operator.exception.UpgradeFailureException', message: 'Savepoint Error' });
    expect(error.throwableList[0].message).toMatch(/failSavepoints/);
    expect((await eventsOf(sim, 'sp-fail')).some((e) => e.type === 'Warning' && e.reason === 'SavepointError' && e.message.startsWith('Savepoint Error'))).toBe(true);
    expect(fd.status.lifecycleState).not.toBe('SUSPENDED');
    expect(fd.status.jobStatus.jobId).toBe(running.status.jobStatus.jobId);
    const high = rec.max();
    await rec.until((r) => r.seq > high + 10, 'records after the failed suspend');

    await sim.patchFaults({ flink: null });
    const done = await lifecycle(sim, 'sp-fail', suspended);
    expect(done.fd.status.jobStatus.upgradeSavepointPath).toMatch(/^s3:\/\/flink-data\/savepoints\//);
  });
});
