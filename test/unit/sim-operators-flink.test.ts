// The simulated Flink Kubernetes Operator and Flink cluster against the fake API server: the
// FlinkDeployment lifecycle and the objects behind it, and - read back from the TaskManagers'
// container logs with the real line parser - that the job's sequence continues (or resets) the
// way Flink's recovery rules say: TaskManager loss replays from the last checkpoint, a savepoint
// suspend/resume continues exactly, a JobManager loss without HA starts again at 1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSequenceLine, type SequenceRecord } from '../../scripts/lib/flink/sequence-line.ts';
import type { KubeObject } from '../sim/api-client.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/crd-validator.ts';
import type { Sim } from '../sim/harness.ts';
import { flinkWorld, type FlinkJobModel } from '../sim/operators/index.ts';
import { condition, crdDir, ensureNamespace, installOperator, operatorSim } from './sim-operators-fixture.ts';

const FD = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments';
const SNAP = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkstatesnapshots';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const jsonLog4j = readFileSync(path.join(repoRoot, 'job', 'conf', 'log4j-console.properties'), 'utf8');

function deployment(name: string, opts: { ha: boolean; upgradeMode: string; rate?: number; serviceAccount?: string; restartBackoff?: string }): KubeObject {
  const conf: Record<string, string> = {
    'taskmanager.numberOfTaskSlots': '2',
    's3.endpoint': 'http://minio.minio.svc.cluster.local:9000',
    'restart-strategy.type': 'exponential-delay',
    'restart-strategy.exponential-delay.initial-backoff': opts.restartBackoff ?? '150 ms',
  };
  if (opts.ha) {
    Object.assign(conf, {
      'execution.checkpointing.interval': '200 ms',
      'state.backend.type': 'rocksdb',
      'state.checkpoints.dir': 's3://flink-data/checkpoints',
      'state.savepoints.dir': 's3://flink-data/savepoints',
      'high-availability.type': 'kubernetes',
      'high-availability.storageDir': 's3://flink-data/ha',
    });
  }
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name, namespace: 'default' },
    spec: {
      image: 'flink-sandbox/hello-job:dev',
      imagePullPolicy: 'IfNotPresent',
      flinkVersion: 'v1_20',
      serviceAccount: opts.serviceAccount ?? 'flink',
      flinkConfiguration: conf,
      jobManager: { resource: { memory: '1024m', cpu: 0.5 } },
      taskManager: { resource: { memory: '1024m', cpu: 0.5 } },
      podTemplate: { spec: { containers: [{ name: 'flink-main-container', env: [{ name: 'ENABLE_BUILT_IN_PLUGINS', value: 'flink-s3-fs-presto-1.20.4.jar' }] }] } },
      logConfiguration: { 'log4j-console.properties': jsonLog4j },
      job: { jarURI: 'local:///opt/flink/usrlib/hello-job.jar', entryClass: 'dev.flinksandbox.hello.HelloJob', args: ['--rate', String(opts.rate ?? 50)], parallelism: 2, upgradeMode: opts.upgradeMode, state: 'running' },
    },
  };
}

type Seen = SequenceRecord & { pod: string };

/** Follows the log of every TaskManager pod of a deployment as it appears (pods vanish when killed). */
class Recorder {
  readonly records: Seen[] = [];
  malformed = 0;
  private readonly sim: Sim;
  private readonly app: string;
  private readonly followed = new Set<string>();
  private readonly abort = new AbortController();

  constructor(sim: Sim, app: string) {
    this.sim = sim;
    this.app = app;
    void this.discover();
  }

  private async discover(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const pods = await this.sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: `app=${this.app},component=taskmanager` }).catch(() => []);
      for (const p of pods) {
        const uid = p.metadata.uid!;
        if (this.followed.has(uid) || !p.status?.containerStatuses?.[0]?.state?.running) continue;
        this.followed.add(uid);
        void this.follow(p.metadata.name!);
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  private async follow(pod: string): Promise<void> {
    try {
      const res = await fetch(`${this.sim.url}/api/v1/namespaces/default/pods/${pod}/log?container=flink-main-container&follow=true`, { signal: this.abort.signal });
      if (!res.ok || !res.body) return;
      let buf = '';
      for await (const chunk of res.body) {
        buf += Buffer.from(chunk as Uint8Array).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const parsed = parseSequenceLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (parsed && 'malformed' in parsed) this.malformed += 1;
          else if (parsed) this.records.push({ ...parsed, pod });
        }
      }
    } catch {
      // aborted at the end of the test
    }
  }

  max(): number {
    return Math.max(0, ...this.records.map((r) => r.seq));
  }

  /** Waits until a record satisfying `check` has been seen. */
  async until(check: (r: Seen) => boolean, what: string, timeoutMs = 10_000): Promise<Seen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records.find(check);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no record ${what} within ${timeoutMs} ms; highest seen ${this.max()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Numbers in 1..max never seen. */
  gaps(): number[] {
    const seen = new Set(this.records.map((r) => r.seq));
    const out: number[] = [];
    for (let i = 1; i <= this.max(); i++) if (!seen.has(i)) out.push(i);
    return out;
  }

  stop(): void {
    this.abort.abort();
  }
}

async function lifecycle(sim: Sim, name: string, done: (fd: KubeObject) => boolean, timeoutMs = 10_000): Promise<{ states: string[]; jm: string[]; fd: KubeObject }> {
  const states: string[] = [];
  const jm: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fd = await sim.kube.get(`${FD}/${name}`);
    const s = fd?.status?.lifecycleState ?? '-';
    const j = fd?.status?.jobManagerDeploymentStatus ?? '-';
    if (states[states.length - 1] !== s) states.push(s);
    if (jm[jm.length - 1] !== j) jm.push(j);
    if (fd && done(fd)) return { states, jm, fd };
    if (Date.now() > deadline) throw new Error(`timed out: lifecycle ${states.join(' -> ')}, JM ${jm.join(' -> ')}, status ${JSON.stringify(fd?.status)?.slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const stable = (fd: KubeObject): boolean => fd.status?.lifecycleState === 'STABLE' && fd.status?.jobStatus?.state === 'RUNNING';

async function jmLog(sim: Sim, app: string): Promise<string> {
  const [pod] = (await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: `app=${app},component=jobmanager` })).filter((p) => !p.metadata.deletionTimestamp);
  const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/${pod!.metadata.name}/log?container=flink-main-container`);
  return res.text();
}

describe('simulated Flink operator and job', () => {
  let sim: Sim;
  let model: (name: string) => FlinkJobModel;
  const crds = loadCrdsFromDir(crdDir);
  const recorders: Recorder[] = [];
  const record = (app: string): Recorder => {
    const r = new Recorder(sim, app);
    recorders.push(r);
    return r;
  };

  beforeAll(async () => {
    sim = await operatorSim(['flink-flinkdeployments.yaml', 'flink-flinkstatesnapshots.yaml']);
    model = (name) => flinkWorld(sim.url).model('default', name);
    await sim.kube.create('/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flink', namespace: 'default' } });
    await installOperator(sim, { kind: 'Deployment', name: 'flink-kubernetes-operator', namespace: 'flink-operator', image: 'ghcr.io/apache/flink-kubernetes-operator:1.15.0', env: { WATCH_NAMESPACES: 'default' } });
  });

  afterAll(async () => {
    for (const r of recorders) r.stop();
    await sim?.close();
  });

  it('deploys CREATED -> DEPLOYED -> STABLE with the JobManager, its Service, TaskManager pods and HA ConfigMaps; the sequence starts at 1', async () => {
    const rec = record('hello-ha');
    await sim.kube.create(FD, deployment('hello-ha', { ha: true, upgradeMode: 'savepoint' }));
    const { states, jm, fd } = await lifecycle(sim, 'hello-ha', stable);
    expect(states.filter((s) => s !== '-')).toEqual(['CREATED', 'DEPLOYED', 'STABLE']);
    expect(jm.indexOf('DEPLOYING')).toBeGreaterThanOrEqual(0);
    expect(jm.indexOf('DEPLOYING')).toBeLessThan(jm.indexOf('READY'));
    const st = fd.status;
    expect(st.jobStatus).toMatchObject({ state: 'RUNNING', jobName: 'hello-job' });
    expect(st.jobStatus.jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(st.jobStatus.startTime)).toBeGreaterThan(0);
    expect(st.reconciliationStatus.state).toBe('DEPLOYED');
    expect(JSON.parse(st.reconciliationStatus.lastReconciledSpec).spec.job.parallelism).toBe(2);
    expect(st.reconciliationStatus.lastStableSpec).toBe(st.reconciliationStatus.lastReconciledSpec);
    expect(condition(fd, 'Running')).toMatchObject({ status: 'True', reason: 'Running', message: 'Job state RUNNING' });
    expect(st.taskManager).toEqual({ labelSelector: 'component=taskmanager,app=hello-ha', replicas: 1 });
    expect(fd.metadata.finalizers).toContain('flinkdeployments.flink.apache.org/finalizer');
    expect(validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkDeployment')!(fd)).toEqual([]);

    const jmDeploy = (await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/hello-ha'))!;
    expect(jmDeploy.spec.template.metadata.labels).toMatchObject({ app: 'hello-ha', component: 'jobmanager', type: 'flink-native-kubernetes' });
    const main = jmDeploy.spec.template.spec.containers[0];
    expect(main).toMatchObject({ name: 'flink-main-container', image: 'flink-sandbox/hello-job:dev' });
    expect(main.env).toEqual(expect.arrayContaining([{ name: 'ENABLE_BUILT_IN_PLUGINS', value: 'flink-s3-fs-presto-1.20.4.jar' }]));
    expect(jmDeploy.spec.template.spec.serviceAccountName).toBe('flink');
    expect((await sim.kube.get('/api/v1/namespaces/default/services/hello-ha-rest'))!.spec.ports).toMatchObject([{ port: 8081 }]);

    const tms = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=taskmanager' });
    expect(tms.map((p) => p.metadata.name)).toEqual(['hello-ha-taskmanager-1-1']);
    expect(tms[0]!.spec.restartPolicy).toBe('Never');
    await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/default/configmaps', (cms) => cms.some((c) => c.metadata.name?.endsWith('-config-map') && c.metadata.labels?.['configmap-type'] === 'high-availability' && Object.keys(c.data ?? {}).some((k) => k.startsWith('checkpointID-'))));

    await rec.until((r) => r.seq >= 30, 'up to 30');
    expect(rec.malformed).toBe(0);
    expect(Math.min(...rec.records.map((r) => r.seq))).toBe(1);
    expect(rec.gaps()).toEqual([]);
    expect(new Set(rec.records.map((r) => r.subtask))).toEqual(new Set([0, 1]));
    expect(new Set(rec.records.map((r) => r.attempt))).toEqual(new Set([0]));
    // Round-robin: consecutive numbers go to alternating subtasks.
    const byseq = new Map(rec.records.map((r) => [r.seq, r.subtask]));
    expect(byseq.get(1)).not.toBe(byseq.get(2));
  });

  it('restarts the job when a TaskManager is killed: RESTARTING -> RUNNING from the last checkpoint, replaying what came after it, on a new TaskManager', async () => {
    const rec = recorders[0]!;
    const m = model('hello-ha');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity) + 5, 'past a checkpoint');
    await sim.kube.delete('/api/v1/namespaces/default/pods/hello-ha-taskmanager-1-1');
    const restore = await (async () => {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const r = m.restores.find((x) => x.reason === 'failover');
        if (r) return r;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error('no failover restore');
    })();
    expect(restore).toMatchObject({ source: 'checkpoint', attempt: 1 });
    expect(restore.restoredPosition).toBe(restore.snapshotPosition);
    const highBefore = rec.max();
    expect(restore.restoredPosition).toBeLessThan(highBefore);

    const first = await rec.until((r) => r.attempt === 1, 'of attempt 1');
    await rec.until((r) => r.attempt === 1 && r.seq > highBefore + 10, 'past the pre-fault high-water mark');
    const replayStart = Math.min(...rec.records.filter((r) => r.attempt === 1).map((r) => r.seq));
    expect(replayStart).toBe(restore.restoredPosition + 1);
    expect(first.pod).toBe('hello-ha-taskmanager-1-2');
    expect(rec.gaps()).toEqual([]);
    expect(await jmLog(sim, 'hello-ha')).toMatch(/switched from state RUNNING to RESTARTING/);
    await lifecycle(sim, 'hello-ha', stable);
  });

  it('recovers from the last checkpoint when the JobManager is killed with HA, without a reset', async () => {
    const rec = recorders[0]!;
    const m = model('hello-ha');
    const [jmPod] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=jobmanager' });
    const restoresBefore = m.restores.length;
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${jmPod!.metadata.name}`);
    const deadline = Date.now() + 5000;
    while (m.restores.length === restoresBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const restore = m.restores[m.restores.length - 1]!;
    expect(restore).toMatchObject({ reason: 'jobmanager-start', source: 'checkpoint' });
    expect(restore.restoredPosition).toBeGreaterThan(0);
    const highBefore = rec.max();
    await rec.until((r) => r.seq > highBefore + 10, 'past the pre-fault high-water mark');
    expect(rec.records.filter((r) => r.seq === 1)).toHaveLength(1);
    expect(rec.gaps()).toEqual([]);
    await lifecycle(sim, 'hello-ha', stable);
  });

  it('suspends with a savepoint (upgrade FlinkStateSnapshot, JM/TM gone, FINISHED) and resumes exactly after it', async () => {
    const rec = recorders[0]!;
    await sim.kube.patch(`${FD}/hello-ha`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'hello-ha', (x) => x.status?.lifecycleState === 'SUSPENDED');
    expect(fd.status.jobStatus.state).toBe('FINISHED');
    const savepoint = fd.status.jobStatus.upgradeSavepointPath as string;
    expect(savepoint).toMatch(/^s3:\/\/flink-data\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/hello-ha')).toBeUndefined();
    expect(await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha' })).toEqual([]);
    // The savepoint upgrade mode drops the HA metadata: the savepoint is what the job resumes from.
    expect(await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: 'app=hello-ha,configmap-type=high-availability' })).toEqual([]);

    const snaps = await sim.kube.waitFor<KubeObject[]>(SNAP, (l) => l.some((s) => s.status?.state === 'COMPLETED' && /^hello-ha-savepoint-upgrade-\d{13}$/.test(s.metadata.name!)));
    const snap = snaps.find((s) => s.metadata.name!.startsWith('hello-ha-savepoint-upgrade-'))!;
    expect(snap.spec).toMatchObject({ jobReference: { kind: 'FlinkDeployment', name: 'hello-ha' }, savepoint: { path: savepoint, alreadyExists: true } });
    expect(snap.status).toMatchObject({ state: 'COMPLETED', path: savepoint });
    expect(snap.metadata.labels).toMatchObject({ 'snapshot.type': 'SAVEPOINT', 'snapshot.trigger-type': 'UPGRADE', 'snapshot.state': 'COMPLETED', 'job-reference.kind': 'FlinkDeployment', 'job-reference.name': 'hello-ha' });
    expect(validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkStateSnapshot')!(snap)).toEqual([]);

    // Stop-with-savepoint: the savepoint holds exactly the last number logged.
    const position = flinkWorld(sim.url).storage.get(savepoint)!.position;
    expect(position).toBe(rec.max());

    await sim.kube.patch(`${FD}/hello-ha`, { spec: { job: { state: 'running' } } });
    const resumed = await lifecycle(sim, 'hello-ha', stable);
    expect(resumed.states).toContain('UPGRADING');
    const firstNew = await rec.until((r) => r.pod === 'hello-ha-taskmanager-1-1' && rec.records.indexOf(r) > rec.records.findIndex((x) => x.seq === position), 'from the resumed job');
    expect(firstNew.seq).toBe(position + 1);
    await rec.until((r) => r.seq > position + 10, 'after the resume');
    expect(rec.gaps()).toEqual([]);
    expect(model('hello-ha').restores.at(-1)).toMatchObject({ source: 'savepoint', path: savepoint, restoredPosition: position });
  });

  it('takes a manual savepoint (TRIGGER_PENDING -> IN_PROGRESS -> COMPLETED) and honours backoffLimit when savepoints fail', async () => {
    const manual = { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkStateSnapshot', metadata: { name: 'manual', namespace: 'default' }, spec: { backoffLimit: 1, jobReference: { kind: 'FlinkDeployment', name: 'hello-ha' }, savepoint: {} } };
    await sim.kube.create(SNAP, manual);
    const states: string[] = [];
    let snap: KubeObject | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      snap = await sim.kube.get(`${SNAP}/manual`);
      const s = snap?.status?.state ?? '-';
      if (states.at(-1) !== s) states.push(s);
      if (s === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(states).toEqual(expect.arrayContaining(['IN_PROGRESS', 'COMPLETED']));
    expect(states.indexOf('IN_PROGRESS')).toBeLessThan(states.indexOf('COMPLETED'));
    expect(snap!.status.path).toMatch(/^s3:\/\/flink-data\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(snap!.status.triggerId).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(snap!.status.resultTimestamp)).not.toBeNaN();
    await sim.kube.waitFor<KubeObject>(`${SNAP}/manual`, (x) => x.metadata.labels?.['snapshot.state'] === 'COMPLETED' && x.metadata.labels?.['snapshot.trigger-type'] === 'MANUAL');
    expect(model('hello-ha').savepoints.get(snap!.status.path)).toBeGreaterThan(0);

    await sim.patchFaults({ flink: { failSavepoints: true } });
    await sim.kube.create(SNAP, { ...manual, metadata: { name: 'doomed', namespace: 'default' } });
    const failed = await sim.kube.waitFor<KubeObject>(`${SNAP}/doomed`, (s) => s.status?.state === 'FAILED');
    expect(failed.status.failures).toBe(2);
    expect(failed.status.error).toMatch(/failSavepoints/);
    await sim.patchFaults({ flink: null });
  });

  it('redeploys from initialSavepointPath when savepointRedeployNonce changes', async () => {
    const rec = recorders[0]!;
    const path = (await sim.kube.get(`${SNAP}/manual`))!.status.path as string;
    const position = model('hello-ha').savepoints.get(path)!;
    await rec.until((r) => r.seq > position + 10, 'past the manual savepoint');
    const countBefore = rec.records.length;
    await sim.kube.patch(`${FD}/hello-ha`, { spec: { job: { initialSavepointPath: path, savepointRedeployNonce: 1 } } });
    await lifecycle(sim, 'hello-ha', (fd) => stable(fd) && JSON.parse(fd.status.reconciliationStatus.lastReconciledSpec).spec.job.savepointRedeployNonce === 1);
    const again = await rec.until((r) => rec.records.indexOf(r) >= countBefore && r.seq === position + 1, 'restarting after the savepoint');
    expect(again.attempt).toBe(0);
    expect(model('hello-ha').restores.at(-1)).toMatchObject({ source: 'savepoint', path, restoredPosition: position });
  });

  it('suspends with last-state keeping the HA metadata, and resumes from the last checkpoint with the same job', async () => {
    const rec = record('last-state');
    await sim.kube.create(FD, deployment('last-state', { ha: true, upgradeMode: 'last-state' }));
    const { fd: running } = await lifecycle(sim, 'last-state', stable);
    const m = model('last-state');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity), 'past a checkpoint');
    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'last-state', (x) => x.status?.lifecycleState === 'SUSPENDED');
    expect(fd.status.jobStatus.upgradeSavepointPath).toBeUndefined();
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/last-state')).toBeUndefined();
    expect((await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: 'app=last-state,configmap-type=high-availability' })).length).toBeGreaterThan(0);
    const checkpoint = m.lastCheckpoint!;
    const before = rec.records.length;

    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { state: 'running' } } });
    const { fd: resumed } = await lifecycle(sim, 'last-state', stable);
    expect(resumed.status.jobStatus.jobId).toBe(running.status.jobStatus.jobId);
    expect(m.restores.at(-1)).toMatchObject({ reason: 'jobmanager-start', source: 'checkpoint', path: checkpoint.path, restoredPosition: checkpoint.position });
    await rec.until((r) => r.seq > checkpoint.position + 5 && rec.records.indexOf(r) >= before, 'after the resume');
    expect(rec.records[before]!.seq).toBe(checkpoint.position + 1);
    expect(rec.gaps()).toEqual([]);
  });

  it('resets the sequence to 1 when the JobManager of a deployment without HA is killed; a stateless suspend takes no savepoint', async () => {
    const rec = record('hello-no-ha');
    await sim.kube.create(FD, deployment('hello-no-ha', { ha: false, upgradeMode: 'stateless', rate: 80 }));
    await lifecycle(sim, 'hello-no-ha', stable);
    await rec.until((r) => r.seq >= 20, 'up to 20');
    const [jmPod] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-no-ha,component=jobmanager' });
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${jmPod!.metadata.name}`);
    await rec.until((r) => r.seq === 1 && rec.records.filter((x) => x.seq === 1).length >= 2, 'of a second run from 1');
    expect(model('hello-no-ha').restores.at(-1)).toMatchObject({ reason: 'jobmanager-start', source: 'scratch', restoredPosition: 0 });
    await lifecycle(sim, 'hello-no-ha', stable);

    await sim.kube.patch(`${FD}/hello-no-ha`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'hello-no-ha', (x) => x.status?.lifecycleState === 'SUSPENDED');
    expect(fd.status.jobStatus.upgradeSavepointPath).toBeUndefined();
    expect((await sim.kube.list(SNAP)).filter((s) => s.spec.jobReference.name === 'hello-no-ha')).toEqual([]);

    // A manual savepoint of a job that is not running is abandoned.
    await sim.kube.create(SNAP, { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkStateSnapshot', metadata: { name: 'too-late', namespace: 'default' }, spec: { jobReference: { kind: 'FlinkDeployment', name: 'hello-no-ha' }, savepoint: {} } });
    const abandoned = await sim.kube.waitFor<KubeObject>(`${SNAP}/too-late`, (x) => x.status?.state === 'ABANDONED');
    expect(abandoned.status.error).toBe('Secondary resource JobReference(kind=FlinkDeployment, name=hello-no-ha) for savepoint too-late is not running');
    expect(abandoned.status.path).toBeUndefined();
  });

  it('misbehaves on purpose with the `flink` knobs: dropped records and a restore that loses state', async () => {
    const rec = record('knobs');
    await sim.patchFaults({ flink: { dropRecords: [7, 8] } });
    await sim.kube.create(FD, deployment('knobs', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'knobs', stable);
    await rec.until((r) => r.seq >= 20, 'up to 20');
    expect(rec.gaps()).toEqual([7, 8]);
    expect(model('knobs').dropped).toEqual([7, 8]);

    await sim.patchFaults({ flink: { loseStateOnRestore: true } });
    const [tm] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=knobs,component=taskmanager' });
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${tm!.metadata.name}`);
    await rec.until((r) => r.attempt === 1 && r.seq === 1, 'of a reset to 1');
    const restore = model('knobs').restores.find((r) => r.reason === 'failover')!;
    expect(restore.source).toBe('checkpoint');
    expect(restore.snapshotPosition).toBeGreaterThan(0);
    expect(restore.restoredPosition).toBe(0);
    await sim.patchFaults({ flink: null });
  });

  it('reports a JobManager that cannot get pods (ServiceAccount missing) as ERROR with the operator error JSON', async () => {
    await sim.kube.create(FD, deployment('no-sa', { ha: false, upgradeMode: 'stateless', serviceAccount: 'missing' }));
    const { fd } = await lifecycle(sim, 'no-sa', (x) => x.status?.jobManagerDeploymentStatus === 'ERROR');
    const error = JSON.parse(fd.status.error);
    expect(error.type).toBe('org.apache.flink.kubernetes.operator.exception.DeploymentFailedException');
    expect(error.message).toMatch(/error looking up service account default\/missing: serviceaccount "missing" not found/);
    expect(error.additionalMetadata).toEqual({ reason: 'FailedCreate' });
    expect(fd.status.jobStatus.state).toBe('RECONCILING');
  });

  it('ignores namespaces outside WATCH_NAMESPACES, and on deletion removes the cluster but keeps the HA ConfigMaps', async () => {
    await ensureNamespace(sim, 'elsewhere');
    await sim.kube.create('/apis/flink.apache.org/v1beta1/namespaces/elsewhere/flinkdeployments', { ...deployment('ignored', { ha: false, upgradeMode: 'stateless' }), metadata: { name: 'ignored', namespace: 'elsewhere' } });

    await sim.kube.delete(`${FD}/knobs`);
    await sim.kube.waitFor<KubeObject[]>(FD, (l) => !l.some((x) => x.metadata.name === 'knobs'));
    expect(await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=knobs' })).toEqual([]);
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/knobs')).toBeUndefined();
    const ha = await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: 'app=knobs,configmap-type=high-availability' });
    expect(ha.length).toBeGreaterThan(0);
    // The trap of FACTS section 2: a new deployment of the same name picks up the OLD job's state.
    const restores = model('knobs').restores.length;
    await sim.kube.create(FD, deployment('knobs', { ha: true, upgradeMode: 'savepoint' }));
    await lifecycle(sim, 'knobs', stable);
    const revived = model('knobs').restores.slice(restores);
    expect(revived).toHaveLength(1);
    expect(revived[0]).toMatchObject({ reason: 'jobmanager-start', source: 'checkpoint' });
    expect(revived[0]!.restoredPosition).toBeGreaterThan(0);

    expect((await sim.kube.get('/apis/flink.apache.org/v1beta1/namespaces/elsewhere/flinkdeployments/ignored'))!.status).toBeUndefined();
  });
});
