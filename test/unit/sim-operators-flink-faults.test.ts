// How the simulated Flink cluster notices a lost process, calibrated against real Flink 1.20
// (test/real/flink/CALIBRATION.md) and Flink's sources for what the real tier could not show
// (it runs plain processes, not pods): a TaskManager pod deleted says goodbye itself; a process
// killed inside its pod is seen by the ResourceManager's pod watch; a frozen TaskManager is given
// up only after heartbeat.timeout, while its checkpoint triggers time out and use up their ids; a
// JobManager killed leaves its tasks running until a new one leads, and a new one leads only once
// the old leader's lock has not been renewed for the lease duration. Each test proves the fault
// fired (the knob used up, the process state, Flink's lines) before it judges the recovery, and
// the continuity checker judges the sequences the TaskManagers logged.
import { beforeAll, describe, expect, it } from 'vitest';
import { Checker } from '../../scenarios/checker/checker.ts';
import type { HistoryEvent } from '../../scenarios/checker/history.ts';
import { jobManagerParser } from '../../scenarios/recorder.ts';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import type { Sim } from '../sim/harness.ts';
import { simElapsed, simMs } from '../sim/time-scale.ts';
import { FD, deployment, lifecycle, podLog, stable, useFlinkSimWithKnobs, until, type FlinkSim, type LogEntry, type Recorder } from './sim-flink-helpers.ts';

const PODS = '/api/v1/namespaces/default/pods';

describe('simulated Flink: losing a process, as Flink 1.20 on Kubernetes notices it', () => {
  const knobs = useFlinkSimWithKnobs();
  let f: FlinkSim;
  let sim: Sim;

  beforeAll(() => {
    ({ f, sim } = knobs);
  });

  async function podsOf(app: string, component: string): Promise<KubeObject[]> {
    return sim.kube.list(PODS, { labelSelector: `app=${app},component=${component}` });
  }

  /** A running hello-ha job with `checkpoints` completed checkpoints. */
  async function running(app: string, checkpoints = 2, rate = 5): Promise<Recorder> {
    const rec = f.record(app);
    await sim.kube.create(FD, deployment(app, { ha: true, upgradeMode: 'savepoint', rate }));
    await lifecycle(sim, app, stable);
    await until(`${checkpoints} checkpoints`, () => (f.model(app).completedCheckpoints.length >= checkpoints ? true : undefined), 15_000);
    return rec;
  }

  /** Waits until the job runs its tasks again and completed a checkpoint since its last restore. */
  async function steady(app: string): Promise<void> {
    const m = f.model(app);
    await until(`${app} to run and checkpoint again`, () => {
      const since = m.restores.at(-1)?.atMs ?? 0;
      return m.runtime?.tasksRunning && m.completedCheckpoints.some((c) => c.atMs > since) ? true : undefined;
    }, 15_000);
  }

  /** Waits until the knobs no longer hold `key` (the process it names took its signal), and says when. */
  async function usedUp(key: 'killProcesses' | 'freezeTaskManagers'): Promise<number> {
    return until(`the ${key} knob to be used`, async () => ((await sim.faults()).flink?.[key] === undefined ? Date.now() : undefined));
  }

  async function jmLines(app: string): Promise<LogEntry[]> {
    const [jm] = (await podsOf(app, 'jobmanager')).filter((p) => !p.metadata.deletionTimestamp);
    return jm ? podLog(sim, jm.metadata.name!) : [];
  }

  /** The first JobManager line that passes `test` (from `entries`, else the current JobManager's log). */
  async function lineOf(app: string, what: string, test: (e: LogEntry) => boolean, entries?: () => Promise<LogEntry[]>): Promise<LogEntry> {
    return until(what, async () => (await (entries ?? (() => jmLines(app)))()).find(test), 15_000);
  }

  /**
   * The history a scenario's recorder would have written from `since` on: records, Flink's
   * checkpoints and restores, the fault.
   */
  function judge(rec: Recorder, jobManagerLogs: LogEntry[][], fault: { t: number; name: string }, since = 0): ReturnType<Checker['finish']> {
    const events: HistoryEvent[] = rec.records.filter((r) => r.t >= since).map((r) => ({ t: r.t, kind: 'record', seq: r.seq, subtask: r.subtask, attempt: r.attempt, source: `pod/${r.pod}` }));
    for (const log of jobManagerLogs) {
      const parse = jobManagerParser();
      for (const e of log) {
        const ev = parse(e.line, e.t);
        if (ev && ev.t >= since) events.push(ev);
      }
    }
    events.push({ t: fault.t, kind: 'fault', name: fault.name });
    events.sort((a, b) => a.t - b.t);
    const checker = new Checker({ settleMs: 200 });
    for (const ev of events) checker.event(ev);
    return checker.finish();
  }

  it('a TaskManager pod deleted, with or without a grace period, shuts its TaskExecutor down: the JobManager hears it at once, not by a heartbeat', async () => {
    await running('tm-loss');
    const m = f.model('tm-loss');
    const [first] = await podsOf('tm-loss', 'taskmanager');
    await sim.kube.delete(`${PODS}/${first!.metadata.name}`);
    await until('a failover', () => m.restores.find((r) => r.reason === 'failover'));
    // The kubelet sends SIGTERM before it kills, also for grace period 0 (at least 2 s).
    const second = await until('the replacement to run the tasks', () => (m.runtime?.tasksRunning ? [...m.taskManagers.keys()].find((p) => p !== first!.metadata.name) : undefined));
    await new SimClient(sim.url, 'test').delete(`${PODS}/${second}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    await until('a second failover', () => (m.restores.filter((r) => r.reason === 'failover').length >= 2 ? true : undefined));
    const log = (await jmLines('tm-loss')).map((e) => e.message);
    for (const pod of [first!.metadata.name, second]) {
      expect(log).toContain(`Closing TaskExecutor connection ${pod} because: The TaskExecutor is shutting down.`);
      expect(log).toContain(`Disconnect TaskExecutor ${pod} because: The TaskExecutor is shutting down.`);
    }
    expect(log.filter((l) => /heartbeat|no longer reachable|Worker .* is terminated/.test(l))).toEqual([]);
  });

  it('a TaskManager process killed (SIGKILL): the container exits 137, the ResourceManager sees the pod terminated, removes it and the job fails over onto a new TaskManager', async () => {
    // The job of the test before, running again on its third TaskManager.
    await steady('tm-loss');
    const rec = f.record('tm-loss');
    const m = f.model('tm-loss');
    const failovers = m.restores.length;
    const pod = [...m.taskManagers.keys()][0]!;
    await sim.patchFaults({ flink: { killProcesses: [`^${pod}$`] } });
    await usedUp('killProcesses');
    const terminated = await lineOf('tm-loss', 'the worker terminated', (e) => e.message.startsWith(`Worker ${pod} is terminated.`));
    expect(terminated.message).toBe(`Worker ${pod} is terminated. Diagnostics: Pod terminated, container termination statuses: [flink-main-container(exitCode=137, reason=Error, message=null)], pod status: Failed(reason=null, message=null)`);
    const diagnostics = terminated.message.slice(terminated.message.indexOf('Pod terminated'));
    const restore = await until('a failover', () => m.restores.slice(failovers).find((r) => r.reason === 'failover'));
    const log = (await jmLines('tm-loss')).map((e) => e.message);
    expect(log).toContain(`Disconnect TaskExecutor ${pod} because: ${diagnostics}`);
    expect(log).not.toContain(`Disconnect TaskExecutor ${pod} because: The TaskExecutor is shutting down.`);
    // The driver removed the terminated pod; the ResourceManager started another.
    await until('the killed pod to go', async () => ((await podsOf('tm-loss', 'taskmanager')).some((p) => p.metadata.name === pod) ? undefined : true));
    const replay = await rec.until((r) => r.attempt === restore.attempt, `of attempt ${restore.attempt}`);
    expect(restore.attempt).toBe(3);
    expect(replay.pod).not.toBe(pod);
    expect(replay.seq).toBe(restore.snapshotPosition + 1);
  });

  it('a TaskManager frozen (SIGSTOP) past heartbeat.timeout: records stop, checkpoint triggers time out and use up their ids, the ResourceManager gives it up and replaces it, the job restores the last checkpoint', async () => {
    const rec = await running('tm-freeze');
    const m = f.model('tm-freeze');
    const [victim] = await podsOf('tm-freeze', 'taskmanager');
    const pod = victim!.metadata.name!;
    // The freeze comes after `asked` and before `frozen` (when the knob is seen used up).
    const asked = Date.now();
    await sim.patchFaults({ flink: { freezeTaskManagers: [{ pod: `^${pod}$`, seconds: 60 }] } });
    const frozen = await usedUp('freezeTaskManagers');
    expect(m.taskManagers.get(pod)?.state).toBe('frozen');
    const timedOut = await lineOf('tm-freeze', 'the heartbeat timeout', (e) => e.message === `The heartbeat of TaskManager with id ${pod} timed out.`);
    const lastBefore = m.completedCheckpoints.filter((c) => c.atMs < timedOut.t).at(-1)!;
    // heartbeat.timeout (50 s) after the last heartbeat it answered, at most heartbeat.interval (10 s) before the freeze.
    expect(simElapsed(timedOut.t - asked)).toBeGreaterThanOrEqual(40_000);
    expect(rec.records.filter((r) => r.pod === pod && r.t >= frozen && r.t < timedOut.t)).toEqual([]);

    const restore = await until('a failover', () => m.restores.find((r) => r.reason === 'failover'));
    expect(restore).toMatchObject({ source: 'checkpoint', checkpointId: lastBefore.checkpointId });
    const first = await rec.until((r) => r.attempt === 1, 'of attempt 1');
    expect(first.seq).toBe(restore.snapshotPosition + 1);
    expect(first.pod).not.toBe(pod);
    const log = await jmLines('tm-freeze');
    const messages = log.map((e) => e.message);
    expect(messages).toContain(`Disconnect TaskExecutor ${pod} because: The heartbeat of TaskManager with id ${pod} timed out.`);
    expect(messages).toContain(`Stopping worker ${pod}.`);

    // Every trigger while it was frozen failed after pekko.ask.timeout; the next completed checkpoint skips their ids.
    const nextCompleted = await lineOf('tm-freeze', 'a checkpoint after the restore', (e) => {
      const id = /^Completed checkpoint (\d+) /.exec(e.message);
      return id !== null && Number(id[1]) > lastBefore.checkpointId!;
    });
    const next = Number(/^Completed checkpoint (\d+) /.exec(nextCompleted.message)![1]);
    const skipped = Array.from({ length: next - lastBefore.checkpointId! - 1 }, (_, i) => lastBefore.checkpointId! + 1 + i);
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    const failedIds = async (): Promise<number[]> => (await jmLines('tm-freeze')).flatMap((e) => /^Triggering Checkpoint (\d+) for job \w+ failed due to java\.util\.concurrent\.TimeoutException: Invocation of \[RemoteRpcInvocation\(TaskExecutorGateway\.triggerCheckpoint\(.*\)\)\] at recipient \[pekko\.tcp:\/\/flink@.+:6122\/user\/rpc\/taskmanager_0\] timed out\./.exec(e.message)?.[1] ?? []).map(Number);
    await until('every skipped id to have failed', async () => ((await failedIds()).length >= skipped.length ? true : undefined));
    expect((await failedIds()).sort((a, b) => a - b)).toEqual(skipped);
    for (const id of skipped) expect(messages.some((l) => l.startsWith(`Triggering checkpoint ${id} (type=CheckpointType{name='Checkpoint'`))).toBe(true);

    const highWater = Math.max(...rec.records.filter((r) => r.t < timedOut.t).map((r) => r.seq));
    await rec.until((r) => r.attempt === 1 && r.seq > highWater + 10, 'past the pre-fault high-water mark');
    const verdict = judge(rec, [await jmLines('tm-freeze')], { t: frozen, name: 'freeze-taskmanager' });
    expect(verdict.findings.filter((x) => x.fail)).toEqual([]);
    expect(verdict.valid).toBe(true);
  });

  it('a JobManager pod deleted with HA: the job is suspended (its tasks stop) and the lock is not released, so the new JobManager leads only once the lease ran out', async () => {
    const rec = await running('jm-loss');
    const m = f.model('jm-loss');
    const [jm] = await podsOf('jm-loss', 'jobmanager');
    const highWater = rec.max();
    const deleted = Date.now();
    await sim.kube.delete(`${PODS}/${jm!.metadata.name}`);
    // Shut down cleanly, the old JobManager stopped its tasks: nothing runs on into the leaderless time.
    const shutDown = await until('the old JobManager to shut down', () => (m.runtime === undefined ? Date.now() : undefined));
    expect(m.orphans.size).toBe(0);
    const elected = await lineOf('jm-loss', 'a new leader', (e) => e.t > deleted && /^New leader elected .* for jm-loss-cluster-config-map\.$/.test(e.message));
    // The lease (15 s, renewed every 5 s) had to run out first.
    expect(simElapsed(elected.t - deleted)).toBeGreaterThanOrEqual(10_000);
    const restore = await until('the new JobManager to restore', () => m.restores.find((r) => r.reason === 'jobmanager-start' && r.atMs > deleted));
    expect(restore.source).toBe('checkpoint');
    expect(rec.records.filter((r) => r.t > shutDown && r.t < elected.t)).toEqual([]);
    await rec.until((r) => r.t > elected.t && r.seq > highWater + 10, 'past the old high-water mark');
  });

  it('a JobManager killed (SIGKILL) with HA: its tasks run on with attempt 0 until a new JobManager leads, which waits out the old lock; the replay reaches back to the last checkpoint; the checker judges it valid', async () => {
    // The job of the test before, under the JobManager that took over; judged from here on.
    const since = Date.now();
    const rec = f.record('jm-loss');
    const m = f.model('jm-loss');
    await until('a checkpoint to restore', () => (m.runtime?.tasksRunning && m.completedCheckpoints.some((c) => c.atMs > since) ? true : undefined), 15_000);
    const [jm] = (await podsOf('jm-loss', 'jobmanager')).filter((p) => !p.metadata.deletionTimestamp);
    const pod = jm!.metadata.name!;
    const jobId = m.runtime!.jobId;
    const oldLog = (): Promise<LogEntry[]> => podLog(sim, pod, true);
    await sim.patchFaults({ flink: { killProcesses: [`^${pod}$`] } });
    const killed = await usedUp('killProcesses');
    const elected = await lineOf('jm-loss', 'a new leader', (e) => e.t > killed && /^New leader elected .* for jm-loss-cluster-config-map\.$/.test(e.message), () => podLog(sim, pod));
    const restore = await until('the new JobManager to restore', () => m.restores.find((r) => r.reason === 'jobmanager-start' && r.atMs > killed));
    expect(restore).toMatchObject({ jobId, source: 'checkpoint', attempt: 0 });
    // The same pod, its container restarted: the old one exited 137.
    const after = (await sim.kube.get(`${PODS}/${pod}`))!;
    expect(after.status.containerStatuses[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137 } } });
    expect(simElapsed(elected.t - killed)).toBeGreaterThanOrEqual(10_000);
    // Until then the TaskManager kept running the old tasks: attempt 0, numbers past the kill.
    const ranOn = rec.records.filter((r) => r.attempt === 0 && r.t > killed + simMs(5_000) && r.t < elected.t);
    expect(ranOn.length).toBeGreaterThan(0);
    const highestOld = Math.max(...rec.records.filter((r) => r.t < elected.t).map((r) => r.seq));
    const replayed = await rec.until((r) => r.t > elected.t && r.seq === restore.snapshotPosition + 1, 'the first number after the checkpoint, again');
    expect(replayed.attempt).toBe(0);
    // More than a checkpoint interval (5 s at 5 records/s) is replayed.
    expect(highestOld - restore.snapshotPosition).toBeGreaterThan(25);
    // The killed process wrote nothing more: its last lines are from before the kill.
    expect((await oldLog()).every((e) => e.t <= killed + simMs(5_000))).toBe(true);

    const { fd } = await lifecycle(sim, 'jm-loss', stable);
    expect(fd.status.jobStatus.jobId).toBe(jobId);
    await rec.until((r) => r.t > elected.t && r.seq > highestOld + 10, 'past the old high-water mark');
    const verdict = judge(rec, [await oldLog(), await podLog(sim, pod)], { t: killed, name: 'kill-jobmanager' }, since);
    expect(verdict.findings.filter((x) => x.fail)).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.counts.replayed).toBeGreaterThan(25);
  });
});
