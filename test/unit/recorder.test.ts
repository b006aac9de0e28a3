// The recorder against the fake API server: it follows every pod of one job as pods come and go,
// keeps record lines with their time and source, checkpoints and restores from the JobManager,
// and ignores other jobs' pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLINK_CONTAINER } from '../../scripts/lib/flink/deployment.ts';
import { epochMs, jobManagerParser, startRecorder, type RecordedEntry } from '../../scenarios/recorder.ts';
import { logWriter, namespace, pod, podStatus, running, simKube, until, type SimKube } from './kube-fixture.ts';

const NS = 'rec';
let s: SimKube;
let write: ReturnType<typeof logWriter>;
beforeAll(async () => {
  s = await simKube();
  write = logWriter(s, NS, FLINK_CONTAINER);
  await s.kube.apply([namespace(NS)]);
});
afterAll(() => s?.close());

async function startPod(name: string, labels: Record<string, string>): Promise<void> {
  await s.kube.apply([pod(NS, name, [FLINK_CONTAINER], labels)]);
  await podStatus(s.kube, NS, name, running(FLINK_CONTAINER));
}

describe('recorder', () => {
  it('records the job across a killed TaskManager and its replacement, with checkpoints and restores, and nothing of other jobs', async () => {
    const entries: RecordedEntry[] = [];
    const tm = { app: 'hello', component: 'taskmanager' };
    await startPod('hello-jm', { app: 'hello', component: 'jobmanager' });
    await startPod('hello-taskmanager-1-1', tm);
    await startPod('other-taskmanager-1-1', { app: 'other', component: 'taskmanager' });
    await write('other-taskmanager-1-1', 0, ['SEQ seq=99 subtask=0 attempt=0']);
    await write('hello-taskmanager-1-1', 0, ['SEQ seq=1 subtask=0 attempt=0', 'unrelated Flink line', 'SEQ seq=2 subtask=1 attempt=0']);

    const rec = await startRecorder({ kube: s.kube, namespace: NS, deployment: 'hello', sink: (e) => entries.push(e) });
    await until(() => entries.length === 2);
    await write('hello-jm', 0, [
      JSON.stringify({ '@timestamp': '2026-12-03T09:59:59.000Z', message: 'Triggering checkpoint 7 (type=CheckpointType{name=\'Checkpoint\', sharingFilesStrategy=FORWARD_BACKWARD}) @ 1764755999000 for job 0a1b2c.' }),
      JSON.stringify({ '@timestamp': '2026-12-03T10:00:00.000Z', message: 'Completed checkpoint 7 for job 0a1b2c (1100 bytes, checkpointDuration=12 ms, finalizationTime=0 ms).' }),
    ]);
    await until(() => entries.some((e) => e.kind === 'checkpoint'));

    // The TaskManager is killed: its pod goes, with its log; a replacement comes up.
    await write('hello-taskmanager-1-1', 0, ['SEQ seq=3 subtask=0 attempt=0'], true);
    await until(() => entries.length === 4);
    await s.kube.delete({ apiVersion: 'v1', kind: 'Pod', name: 'hello-taskmanager-1-1', namespace: NS });
    await startPod('hello-taskmanager-2-1', tm);
    await write('hello-jm', 0, ['Restoring job 0a1b2c from Checkpoint 7 @ 1764756000000 for 0a1b2c located at s3://flink-data/checkpoints/0a1b2c/chk-7.']);
    await write('hello-taskmanager-2-1', 0, ['SEQ seq=3 subtask=1 attempt=1', 'SEQ seq=4 subtask=0 attempt=1', 'SEQ seq=5 subtask=BAD attempt=1']);
    await until(() => entries.length === 8);
    await rec.stop();

    expect(rec.pods).toEqual(['hello-jm', 'hello-taskmanager-1-1', 'hello-taskmanager-2-1']);
    const summary = entries.map((e) =>
      e.kind === 'record'
        ? `${e.source} ${e.seq}/${e.subtask}/${e.attempt}`
        : e.kind === 'checkpoint'
          ? `checkpoint ${e.id} triggered ${e.triggered}`
          : e.kind === 'restore'
            ? `restore ${e.from} ${e.id} ${e.path}`
            : `malformed ${e.source}`,
    );
    expect(summary).toEqual([
      'pod/hello-taskmanager-1-1/flink-main-container/0 1/0/0',
      'pod/hello-taskmanager-1-1/flink-main-container/0 2/1/0',
      'checkpoint 7 triggered 1764755999000',
      'pod/hello-taskmanager-1-1/flink-main-container/0 3/0/0',
      'restore checkpoint 7 s3://flink-data/checkpoints/0a1b2c/chk-7',
      'pod/hello-taskmanager-2-1/flink-main-container/0 3/1/1',
      'pod/hello-taskmanager-2-1/flink-main-container/0 4/0/1',
      'malformed pod/hello-taskmanager-2-1/flink-main-container/0',
    ]);
    // Times are the kubelet's (ms since the epoch), one per line, in order.
    const times = entries.map((e) => e.t);
    for (const t of times) expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
  });

  it("reads Flink 1.20's restore line for a savepoint, and kubelet times to the sub-millisecond", () => {
    const jm = jobManagerParser();
    const line = 'Restoring job abc123 from Savepoint 12 @ 1764756000000 for abc123 located at s3://flink-data/savepoints/savepoint-abc123-0f0f0f0f0f0f.';
    expect(jm(line, 5)).toEqual({ t: 5, kind: 'restore', from: 'savepoint', id: 12, path: 's3://flink-data/savepoints/savepoint-abc123-0f0f0f0f0f0f' });
    // A retained checkpoint submitted as the savepoint path: Flink says "Savepoint", the path says checkpoint.
    const retained = 'Restoring job def456 from Savepoint 7 @ 0 for def456 located at s3://flink-data/checkpoints/abc123/chk-7.';
    expect(jm(retained, 5)).toMatchObject({ kind: 'restore', from: 'checkpoint', id: 7, path: 's3://flink-data/checkpoints/abc123/chk-7' });
    // A completion whose trigger line was not seen (the JobManager started mid-checkpoint) has no trigger time.
    expect(jm('Completed checkpoint 3 for job abc123 (1100 bytes, checkpointDuration=12 ms, finalizationTime=0 ms).', 6)).toEqual({ t: 6, kind: 'checkpoint', id: 3 });
    expect(epochMs('2026-12-03T10:00:00.123456789Z')).toBeCloseTo(Date.parse('2026-12-03T10:00:00.123Z') + 0.456789, 6);
    expect(epochMs('2026-12-03T10:00:00Z')).toBe(Date.parse('2026-12-03T10:00:00Z'));
  });
});
