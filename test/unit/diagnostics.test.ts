// The diagnostics bundle: what lands on disk for a namespace with a failing pod, and what is
// left when the cluster is gone.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDiagnostics } from '../../scripts/lib/diagnostics/bundle.ts';
import { SandboxError } from '../../scripts/lib/errors.ts';
import { namespace, pod, podStatus, simKube, type SimKube } from './kube-fixture.ts';

const NS = 'flink';
let s: SimKube;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diag-'));
  s = await simKube();
  await s.kube.apply([
    namespace(NS),
    pod(NS, 'tm-1', ['flink-main-container']),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flink-config', namespace: NS }, data: { 'config.yaml': 'parallelism: 2' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'minio-credentials', namespace: NS }, type: 'Opaque', stringData: { password: 'hunter2-very-secret' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hello-rest', namespace: NS },
      spec: { selector: { app: 'hello' }, ports: [{ port: 8081 }] },
    },
  ]);
  await podStatus(s.kube, NS, 'tm-1', {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [
      {
        name: 'flink-main-container',
        image: 'hello:1',
        ready: false,
        restartCount: 1,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } },
        lastState: { terminated: { reason: 'Error', exitCode: 1 } },
      },
    ],
  });
  const tm = await s.kube.get({ apiVersion: 'v1', kind: 'Pod', name: 'tm-1', namespace: NS });
  const ev = (name: string, at: string, reason: string, message: string) => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: NS },
    involvedObject: { kind: 'Pod', name: 'tm-1', namespace: NS, uid: tm?.metadata.uid },
    reason,
    message,
    type: reason === 'BackOff' ? 'Warning' : 'Normal',
    firstTimestamp: at,
    lastTimestamp: at,
  });
  await s.kube.apply([
    ev('tm-1.b', '2024-05-01T10:02:00Z', 'BackOff', 'Back-off restarting failed container'),
    ev('tm-1.a', '2024-05-01T10:00:00Z', 'Scheduled', 'Successfully assigned flink/tm-1 to worker'),
  ]);
  await s.sim('POST', '/_sim/logs', { namespace: NS, pod: 'tm-1', container: 'flink-main-container', attempt: 0, lines: ['seq=1', 'java.lang.OutOfMemoryError'], terminated: true });
  await s.sim('POST', '/_sim/logs', { namespace: NS, pod: 'tm-1', container: 'flink-main-container', attempt: 1, lines: ['seq=1 again'] });
});
afterAll(async () => {
  await s?.close();
  await rm(dir, { recursive: true, force: true });
});

const read = (bundle: string, rel: string) => readFile(join(bundle, rel), 'utf8');

describe('writeDiagnostics', () => {
  it('writes objects, a describe page, sorted events and both logs of a failing pod, but no secret data', async () => {
    const error = new SandboxError('step flink-job failed', { cause: new Error('TaskManager tm-1 crashed'), hint: 'see the logs' });
    const bundle = await writeDiagnostics(s.kube, { runId: 'run-1', namespaces: [NS, 'absent-ns'], dir, error, steps: [{ id: 'flink-job', outcome: 'failed' }] });
    expect(bundle).toBe(join(dir, 'run-1'));

    expect(await read(bundle, `${NS}/pods.yaml`)).toContain('CrashLoopBackOff');
    expect(await read(bundle, `${NS}/services.yaml`)).toContain('hello-rest');
    expect(await read(bundle, `${NS}/configmaps.yaml`)).toContain('parallelism: 2');
    const describePage = await read(bundle, `${NS}/describe/tm-1.txt`);
    expect(describePage).toContain('State:      Waiting: CrashLoopBackOff - back-off 10s restarting failed container');
    expect(describePage).toContain('Restarts:   1');
    expect(describePage).toContain('Back-off restarting failed container');
    const events = (await read(bundle, `${NS}/events.txt`)).trim().split('\n');
    expect(events.map((l) => l.split('  ')[2])).toEqual(['Scheduled', 'BackOff']);
    expect(await read(bundle, `${NS}/logs/tm-1/flink-main-container.log`)).toBe('seq=1 again\n');
    expect(await read(bundle, `${NS}/logs/tm-1/flink-main-container.previous.log`)).toBe('seq=1\njava.lang.OutOfMemoryError\n');

    expect(await read(bundle, `${NS}/secrets.txt`)).toBe('minio-credentials  Opaque\n');
    const everything = await Promise.all(
      (await readdir(bundle, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')),
    );
    expect(everything.join('\n')).not.toContain('hunter2');
    expect(everything.join('\n')).not.toContain(Buffer.from('hunter2-very-secret').toString('base64'));

    expect(await read(bundle, 'absent-ns/MISSING.txt')).toMatch(/does not exist/);
    expect(await read(bundle, 'error.txt')).toMatch(/^step flink-job failed\n  caused by: TaskManager tm-1 crashed\nhint: see the logs\n/);
    const summary = JSON.parse(await read(bundle, 'summary.json'));
    expect(summary).toMatchObject({ runId: 'run-1', context: 'sim', namespaces: [NS, 'absent-ns'], error: { message: 'step flink-job failed', causes: ['TaskManager tm-1 crashed'] } });
    expect(summary.steps).toEqual([{ id: 'flink-job', outcome: 'failed' }]);
    expect(summary.files).toContain(`${NS}/describe/tm-1.txt`);
  });

  it('on an unreachable cluster still writes error.txt and a note, quickly and without throwing', async () => {
    const gone = await simKube();
    await gone.close();
    const started = performance.now();
    const bundle = await writeDiagnostics(gone.kube, { runId: 'run-dead', namespaces: [NS], dir, error: new Error('boom') });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await read(bundle, 'error.txt')).toMatch(/^boom\n/);
    const summary = JSON.parse(await read(bundle, 'summary.json'));
    expect(summary.notes[0]).toMatch(/^cluster unreachable, nothing collected from it: .*connection refused/);
    expect(summary.files).toEqual(['error.txt', 'summary.json']);
  });

  it('without a cluster connection writes the error and says so', async () => {
    const bundle = await writeDiagnostics(undefined, { runId: 'run-none', namespaces: [NS], dir, error: 'docker is not running' });
    expect(await read(bundle, 'error.txt')).toBe('docker is not running\n');
    expect(JSON.parse(await read(bundle, 'summary.json')).notes).toEqual(['no connection to a cluster: only the error is recorded']);
  });
});
