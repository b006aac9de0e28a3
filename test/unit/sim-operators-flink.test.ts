// The simulated Flink Kubernetes Operator (1.15.0) and Flink cluster against the fake API
// server: the FlinkDeployment lifecycle and the objects behind it, and - read back from the
// TaskManagers' container logs with the real line parser - that the job's sequence continues
// (or resets) the way Flink's recovery rules say. Each claim here is one the operator's source
// at release-1.15.0 makes (FACTS sections 2 and 3); the tests run in order on one simulation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../sim/api-client.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';
import type { Sim } from '../sim/harness.ts';
import { flinkWorld } from '../sim/systems.ts';
import { SIM_TIME_SCALE } from '../sim/time-scale.ts';
import { FD, SNAP, deployment, distinct, eventsOf, jmLog, lifecycle, messages, reconciled, sleep, stable, startFlinkSim, suspended, until, watchEvents, watchStatuses, type FlinkSim } from './sim-flink-helpers.ts';
import { condition, crdDir, ensureNamespace } from './sim-operators-fixture.ts';

const HA_CMS = (app: string): string => `app=${app},configmap-type=high-availability`;
/** A job's own HA ConfigMap (`<cluster-id>-<job-id>-config-map`): what the operator calls HA metadata. */
const jobHaConfigMaps = (cms: KubeObject[]): KubeObject[] => cms.filter((c) => /-config-map$/.test(c.metadata.name!) && !/-cluster-config-map$/.test(c.metadata.name!));

describe('simulated Flink operator 1.15.0: FlinkDeployment lifecycle', () => {
  let f: FlinkSim;
  let sim: Sim;
  const crds = loadCrdsFromDir(crdDir);

  beforeAll(async () => {
    f = await startFlinkSim();
    sim = f.sim;
  });

  afterAll(async () => {
    await f?.close();
  });

  it('deploys CREATED -> UPGRADING -> DEPLOYED -> STABLE, the JobManager passing DEPLOYED_NOT_READY, with the status fields 1.15.0 writes and no others', async () => {
    const rec = f.record('hello-ha');
    const watch = watchStatuses(sim, 'hello-ha');
    await sim.kube.create(FD, deployment('hello-ha', { ha: true, upgradeMode: 'savepoint' }));
    const { fd } = await lifecycle(sim, 'hello-ha', stable);
    watch.stop();
    expect(distinct(watch.statuses.map((s) => s.lifecycleState))).toEqual(['CREATED', 'UPGRADING', 'DEPLOYED', 'STABLE']);
    // The observer moves DEPLOYED_NOT_READY -> READY only on its next pass: never straight to READY.
    expect(distinct(watch.statuses.map((s) => s.jobManagerDeploymentStatus))).toEqual(['MISSING', 'DEPLOYING', 'DEPLOYED_NOT_READY', 'READY']);
    const jobStates = distinct(watch.statuses.map((s) => s.jobStatus?.state));
    expect(jobStates.slice(0, 2)).toEqual([undefined, 'RECONCILING']);
    expect(jobStates.at(-1)).toBe('RUNNING');

    const st = fd.status;
    expect(st.jobStatus).toMatchObject({ state: 'RUNNING', jobName: 'hello-job' });
    expect(st.jobStatus.jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(st.jobStatus.updateTime)).toBeGreaterThan(0);
    // Deprecated, but present with their defaults.
    expect(st.jobStatus.savepointInfo).toEqual({ savepointHistory: [], lastPeriodicSavepointTimestamp: 0 });
    expect(st.jobStatus.checkpointInfo).toEqual({ lastPeriodicCheckpointTimestamp: 0 });
    const last = JSON.parse(st.reconciliationStatus.lastReconciledSpec);
    expect(Object.keys(last).sort()).toEqual(['resource_metadata', 'spec']);
    expect(last.resource_metadata).toEqual({ apiVersion: 'flink.apache.org/v1beta1', firstDeployment: true });
    // The first deployment records the mode it deployed with: stateless, having no initial savepoint.
    expect(last.spec.job).toMatchObject({ parallelism: 2, state: 'running', upgradeMode: 'stateless' });
    expect(st.reconciliationStatus.lastStableSpec).toBe(st.reconciliationStatus.lastReconciledSpec);
    expect(condition(fd, 'Running')).toMatchObject({ status: 'True', reason: 'Running', message: 'Job status RUNNING' });
    expect(st.taskManager).toEqual({ labelSelector: 'component=taskmanager,app=hello-ha', replicas: 1 });
    // getClusterInfo: 0.5 + 0.5 CPU, 1024 MiB each for the JobManager and the one TaskManager.
    expect(st.clusterInfo).toMatchObject({ 'flink-version': '1.20.4', 'total-cpu': '1.0', 'total-memory': String(2 * 1024 ** 3) });
    expect(fd.metadata.finalizers).toContain('flinkdeployments.flink.apache.org/finalizer');
    expect(validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkDeployment')!(fd)).toEqual([]);

    const jmDeploy = (await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/hello-ha'))!;
    expect(jmDeploy.spec.template.metadata.labels).toMatchObject({ app: 'hello-ha', component: 'jobmanager', type: 'flink-native-kubernetes' });
    expect(jmDeploy.metadata.annotations).toEqual({ 'flinkdeployment.flink.apache.org/generation': '1' });
    expect(jmDeploy.spec.template.spec.containers[0]).toMatchObject({ name: 'flink-main-container', image: 'flink-sandbox/hello-job:dev' });
    const tms = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=taskmanager' });
    expect(tms.map((p) => p.metadata.name)).toEqual(['hello-ha-taskmanager-1-1']);
    await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/default/configmaps', (cms) => jobHaConfigMaps(cms).some((c) => Object.keys(c.data ?? {}).some((k) => k.startsWith('checkpointID-'))));

    await rec.until((r) => r.seq >= 30, 'up to 30');
    expect(rec.malformed).toBe(0);
    expect(Math.min(...rec.records.map((r) => r.seq))).toBe(1);
    expect(rec.gaps()).toEqual([]);
    expect(new Set(rec.records.map((r) => r.subtask))).toEqual(new Set([0, 1]));
    const log = messages(await jmLog(sim, 'hello-ha'));
    const completed = log.filter((m) => m.startsWith('Completed checkpoint'));
    expect(completed.length).toBeGreaterThan(0);
    // CheckpointCoordinator's own wording.
    for (const m of completed) expect(m).toMatch(new RegExp(`^Completed checkpoint \\d+ for job ${st.jobStatus.jobId} \\(\\d+ bytes, checkpointDuration=\\d+ ms, finalizationTime=\\d+ ms\\)\\.$`));
  });

  it('runs the job on the simulation clock: 5 s checkpoints and records per second scaled by the one time factor', async () => {
    const m = f.model('hello-ha');
    const before = m.completedCheckpoints.length;
    const start = Date.now();
    await sleep(1000);
    const taken = m.completedCheckpoints.length - before;
    const simulatedSeconds = (Date.now() - start) / 1000 / SIM_TIME_SCALE;
    // One every 5 simulated seconds (checkpoints wait for their barrier, so allow some slack).
    expect(taken).toBeGreaterThanOrEqual(Math.floor(simulatedSeconds / 5 / 2));
    expect(taken).toBeLessThanOrEqual(Math.ceil(simulatedSeconds / 5) + 1);
  });

  it('restarts the job when a TaskManager is killed: RESTARTING -> RUNNING from the last checkpoint, replaying what came after it', async () => {
    const m = f.model('hello-ha');
    const tm = (await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=taskmanager' }))[0]!;
    await sleep(300);
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${tm.metadata.name}`);
    const restore = await until('a failover restore', () => m.restores.find((x) => x.reason === 'failover'));
    expect(restore).toMatchObject({ source: 'checkpoint', attempt: 1 });
    expect(restore.restoredPosition).toBe(restore.snapshotPosition);
    expect(restore.restoredPosition).toBeLessThan(m.highestEmitted);
    // The JobManager's log is written asynchronously: the line follows the restore shortly.
    const line = `Restoring job ${restore.jobId} from Checkpoint ${restore.checkpointId} @ ${m.completedCheckpoints.find((c) => c.checkpointId === restore.checkpointId)!.atMs} for ${restore.jobId} located at ${restore.path}.`;
    await until('the restore line', async () => (messages(await jmLog(sim, 'hello-ha')).includes(line) ? true : undefined));
    await lifecycle(sim, 'hello-ha', stable);
  });

  it('recovers from the last checkpoint when the JobManager is killed with HA, without a reset', async () => {
    const m = f.model('hello-ha');
    const [jmPod] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-ha,component=jobmanager' });
    const restoresBefore = m.restores.length;
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${jmPod!.metadata.name}`);
    const restore = await until('a restore by the new JobManager', () => m.restores.slice(restoresBefore).find((r) => r.reason === 'jobmanager-start'));
    expect(restore).toMatchObject({ source: 'checkpoint' });
    expect(restore.restoredPosition).toBeGreaterThan(0);
    const { fd } = await lifecycle(sim, 'hello-ha', stable);
    // The JobManager Deployment stayed: no operator action, same job.
    expect(fd.status.jobStatus.jobId).toBe(restore.jobId);
  });

  it('suspends with a savepoint: stop-with-savepoint, FINISHED, SUSPENDED, an UPGRADE snapshot; the JobManager goes with the TTL, and resume restores the savepoint with checkpoint ids continuing after it', async () => {
    const rec = f.record('hello-ha');
    const before = await sim.kube.get(`${FD}/hello-ha`);
    await sim.kube.patch(`${FD}/hello-ha`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'hello-ha', suspended);
    expect(fd.status.jobStatus.state).toBe('FINISHED');
    const savepoint = fd.status.jobStatus.upgradeSavepointPath as string;
    expect(savepoint).toMatch(/^s3:\/\/flink-data\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(reconciled(fd).job).toMatchObject({ state: 'suspended', upgradeMode: 'savepoint' });
    const events = await eventsOf(sim, 'hello-ha');
    expect(events).toEqual(expect.arrayContaining([
      { type: 'Normal', reason: 'SpecChanged', message: 'UPGRADE change(s) detected (Diff: FlinkDeploymentSpec[job.state : running -> suspended]), starting reconciliation.' },
      { type: 'Normal', reason: 'Suspended', message: 'Suspending existing deployment.' },
    ]));
    const snaps = await sim.kube.waitFor<KubeObject[]>(SNAP, (l) => l.some((s) => s.metadata.labels?.['snapshot.state'] === 'COMPLETED' && /^hello-ha-savepoint-upgrade-\d{13}$/.test(s.metadata.name!)));
    const snap = snaps.find((s) => s.metadata.name!.startsWith('hello-ha-savepoint-upgrade-'))!;
    expect(snap.spec).toEqual({ backoffLimit: -1, jobReference: { kind: 'FlinkDeployment', name: 'hello-ha' }, savepoint: { path: savepoint, formatType: 'CANONICAL', disposeOnDelete: false, alreadyExists: true } });
    expect(snap.status.triggerTimestamp).toBe(snap.status.resultTimestamp);
    expect(snap.metadata.labels).toMatchObject({ 'snapshot.type': 'SAVEPOINT', 'snapshot.trigger-type': 'UPGRADE', 'snapshot.state': 'COMPLETED', 'job-reference.kind': 'FlinkDeployment', 'job-reference.name': 'hello-ha' });
    expect(validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkStateSnapshot')!(snap)).toEqual([]);
    // Stop-with-savepoint: the savepoint holds exactly the last number logged.
    const saved = flinkWorld(sim.url).storage.get(savepoint)!;
    await until('the last records', () => (rec.max() >= saved.position ? true : undefined));
    expect(saved.position).toBe(f.model('hello-ha').highestEmitted);

    // The chart sets shutdown-ttl 30 s: the job has been RUNNING for longer, so the JobManager goes
    // on the next pass, without the HA metadata being touched by the operator.
    const gone = await lifecycle(sim, 'hello-ha', (x) => x.status?.jobManagerDeploymentStatus === 'MISSING');
    expect(gone.fd.status.lifecycleState).toBe('SUSPENDED');
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/hello-ha')).toBeUndefined();
    expect(Date.now()).toBeGreaterThan(Number(before!.status.jobStatus.updateTime) + 30_000 * SIM_TIME_SCALE);
    // Flink itself dropped the finished job's HA entries.
    expect(jobHaConfigMaps(await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: HA_CMS('hello-ha') }))).toEqual([]);

    await sim.kube.patch(`${FD}/hello-ha`, { spec: { job: { state: 'running' } } });
    const resumed = await lifecycle(sim, 'hello-ha', stable);
    expect(resumed.states).toContain('UPGRADING');
    expect(resumed.fd.status.jobStatus.jobId).not.toBe(before!.status.jobStatus.jobId);
    const jobId = resumed.fd.status.jobStatus.jobId as string;
    await rec.until((r) => r.seq > saved.position + 10, 'after the resume');
    expect(rec.records.filter((r) => r.seq > saved.position)[0]!.seq).toBe(saved.position + 1);
    expect(f.model('hello-ha').restores.at(-1)).toMatchObject({ source: 'savepoint', path: savepoint, restoredPosition: saved.position, checkpointId: saved.checkpointId });
    const log = messages(await jmLog(sim, 'hello-ha'));
    expect(log).toContain(`Starting job ${jobId} from savepoint ${savepoint} ()`);
    expect(log).toContain(`Reset the checkpoint ID of job ${jobId} to ${saved.checkpointId! + 1}.`);
    expect(log).toContain(`Restoring job ${jobId} from Savepoint ${saved.checkpointId} @ 0 for ${jobId} located at ${savepoint}.`);
    await until('a checkpoint of the resumed job', async () => (messages(await jmLog(sim, 'hello-ha')).some((m) => m.startsWith('Completed checkpoint')) ? true : undefined));
    const first = Number(/^Completed checkpoint (\d+) /.exec(messages(await jmLog(sim, 'hello-ha')).find((m) => m.startsWith('Completed checkpoint'))!)![1]);
    expect(first).toBe(saved.checkpointId! + 1);
  });

  it('keeps the JobManager of a savepoint-suspended job READY until shutdown-ttl has passed since jobStatus.updateTime (a per-deployment override)', async () => {
    await sim.kube.create(FD, deployment('ttl', { ha: true, upgradeMode: 'savepoint', flinkConfiguration: { 'kubernetes.operator.jm-deployment.shutdown-ttl': '2 min' } }));
    const { fd: running } = await lifecycle(sim, 'ttl', stable);
    const since = Number(running.status.jobStatus.updateTime);
    await sim.kube.patch(`${FD}/ttl`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'ttl', suspended);
    expect(fd.status).toMatchObject({ jobManagerDeploymentStatus: 'READY', jobStatus: { state: 'FINISHED' } });
    const ttlMs = 120_000 * SIM_TIME_SCALE;
    // Several reconcile intervals (15 s each) inside the TTL: the JobManager stays.
    while (Date.now() < since + ttlMs - 200) {
      const now = await sim.kube.get(`${FD}/ttl`);
      expect(now!.status.jobManagerDeploymentStatus).toBe('READY');
      expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/ttl')).toBeDefined();
      await sleep(100);
    }
    await sim.kube.waitFor(`${FD}/ttl`, (x: KubeObject) => x.status?.jobManagerDeploymentStatus === 'MISSING', 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(since + ttlMs);
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/ttl')).toBeUndefined();
    expect((await sim.kube.get(`${FD}/ttl`))!.status.lifecycleState).toBe('SUSPENDED');
  });

  it('suspends with last-state (cluster gone, HA kept) and resumes with the mode recorded then, even after the spec switched to savepoint: same job, from HA', async () => {
    const rec = f.record('last-state');
    await sim.kube.create(FD, deployment('last-state', { ha: true, upgradeMode: 'last-state' }));
    const { fd: running } = await lifecycle(sim, 'last-state', stable);
    const m = f.model('last-state');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity), 'past a checkpoint');
    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'last-state', suspended);
    expect(fd.status.jobManagerDeploymentStatus).toBe('MISSING');
    expect(reconciled(fd).job.upgradeMode).toBe('last-state');
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/last-state')).toBeUndefined();
    const [store] = jobHaConfigMaps(await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: HA_CMS('last-state') }));
    // The newest checkpoint the HA store points at (one may have completed as the cluster went).
    const data = store!.data as Record<string, string>;
    const latestKey = Object.keys(data).filter((k) => k.startsWith('checkpointID-')).sort().at(-1)!;
    const checkpoint = flinkWorld(sim.url).storage.get(data[latestKey]!)!;

    // upgradeMode alone is ignored; with the resume it does not decide how to restore either.
    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { upgradeMode: 'savepoint', state: 'running' } } });
    const { fd: resumed } = await lifecycle(sim, 'last-state', stable);
    expect(resumed.status.jobStatus.jobId).toBe(running.status.jobStatus.jobId);
    expect(resumed.status.jobStatus.upgradeSavepointPath).toBe('KUBERNETES_OPERATOR_LAST_STATE');
    expect(reconciled(resumed).job.upgradeMode).toBe('last-state');
    expect(m.restores.at(-1)).toMatchObject({ reason: 'jobmanager-start', source: 'checkpoint', path: checkpoint.path, restoredPosition: checkpoint.position });
    const before = rec.records.length;
    await rec.until((r) => r.seq > checkpoint.position + 5 && rec.records.indexOf(r) >= before, 'after the resume');
  });

  it('upgrades a running job whose parallelism changed over two passes: savepoint and UPGRADING with the new spec suspended, then a deploy from that savepoint', async () => {
    const rec = f.record('rescale');
    await sim.kube.create(FD, deployment('rescale', { ha: true, upgradeMode: 'savepoint' }));
    const { fd: running } = await lifecycle(sim, 'rescale', stable);
    await rec.until((r) => r.seq > 20, 'a few records');
    await sim.kube.patch(`${FD}/rescale`, { spec: { job: { parallelism: 4 } } });
    const passes: { lifecycle: string; job: string; parallelism: number; jm: string }[] = [];
    const { fd } = await lifecycle(sim, 'rescale', (x) => {
      const rs = x.status?.reconciliationStatus;
      if (rs?.lastReconciledSpec) {
        const job = reconciled(x).job;
        const entry = { lifecycle: x.status.lifecycleState, job: job.state, parallelism: job.parallelism, jm: x.status.jobManagerDeploymentStatus };
        const prev = passes.at(-1);
        if (!prev || JSON.stringify(prev) !== JSON.stringify(entry)) passes.push(entry);
      }
      return stable(x) && reconciled(x).job.parallelism === 4;
    });
    // First pass: the job stopped with a savepoint, the new spec recorded as suspended while UPGRADING.
    expect(passes).toContainEqual({ lifecycle: 'UPGRADING', job: 'suspended', parallelism: 4, jm: 'READY' });
    expect(fd.status.jobStatus.jobId).not.toBe(running.status.jobStatus.jobId);
    expect(fd.status.taskManager).toEqual({ labelSelector: 'component=taskmanager,app=rescale', replicas: 2 });
    const path = fd.status.jobStatus.upgradeSavepointPath as string;
    expect(f.model('rescale').restores.at(-1)).toMatchObject({ source: 'savepoint', path });
    const position = flinkWorld(sim.url).storage.get(path)!.position;
    const after = await rec.until((r) => r.seq === position + 1, 'continuing after the savepoint');
    expect(after.attempt).toBe(0);
    await rec.until((r) => r.subtask === 3, 'from the fourth subtask');
    expect(await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=rescale,component=taskmanager' })).toHaveLength(2);
  });

  it('ignores changes to upgradeMode, initialSavepointPath, allowNonRestoredState and the trigger nonces alone', async () => {
    const before = (await sim.kube.get(`${FD}/rescale`))!;
    const restores = f.model('rescale').restores.length;
    await sim.kube.patch(`${FD}/rescale`, { spec: { job: { upgradeMode: 'last-state', initialSavepointPath: 's3://flink-data/savepoints/elsewhere', allowNonRestoredState: true, savepointTriggerNonce: null, checkpointTriggerNonce: null } } });
    await sleep(1000);
    const after = (await sim.kube.get(`${FD}/rescale`))!;
    expect(after.status.reconciliationStatus.lastReconciledSpec).toBe(before.status.reconciliationStatus.lastReconciledSpec);
    expect(after.status.jobStatus.jobId).toBe(before.status.jobStatus.jobId);
    expect(after.status.lifecycleState).toBe('STABLE');
    expect(f.model('rescale').restores.length).toBe(restores);
    expect((await eventsOf(sim, 'rescale')).filter((e) => e.reason === 'SpecChanged')).toHaveLength(1);
  });

  it('redeploys on a new savepointRedeployNonce: cancel stateless (cluster and HA deleted, no savepoint), upgradeSavepointPath := initialSavepointPath, deploy, stable; an empty path is rejected', async () => {
    const rec = f.record('last-state');
    const m = f.model('last-state');
    // A savepoint of the job to redeploy from: the one the rescale upgrade took.
    const from = (await sim.kube.get(`${FD}/rescale`))!.status.jobStatus.upgradeSavepointPath as string;
    const saved = flinkWorld(sim.url).storage.get(from)!;
    const before = (await sim.kube.get(`${FD}/last-state`))!;
    const snapshotsBefore = (await sim.kube.list(SNAP)).length;

    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { savepointRedeployNonce: 1 } } });
    const rejected = await lifecycle(sim, 'last-state', (x) => typeof x.status?.error === 'string' && x.status.error.includes('ValidationException'));
    expect(JSON.parse(rejected.fd.status.error)).toMatchObject({ type: 'org.apache.flink.kubernetes.operator.exception.ValidationException', message: 'InitialSavepointPath must not be empty for savepoint redeployment' });
    expect(await eventsOf(sim, 'last-state')).toContainEqual({ type: 'Warning', reason: 'ValidationError', message: 'InitialSavepointPath must not be empty for savepoint redeployment' });
    expect(rejected.fd.status.jobStatus.jobId).toBe(before.status.jobStatus.jobId);

    const countBefore = rec.records.length;
    await sim.kube.patch(`${FD}/last-state`, { spec: { job: { initialSavepointPath: from, savepointRedeployNonce: 2 } } });
    const { fd } = await lifecycle(sim, 'last-state', (x) => stable(x) && reconciled(x).job.savepointRedeployNonce === 2);
    expect(fd.status.jobStatus.upgradeSavepointPath).toBe(from);
    expect(fd.status.jobStatus.jobId).not.toBe(before.status.jobStatus.jobId);
    expect(reconciled(fd).job.upgradeMode).toBe('savepoint');
    expect(fd.status.error).toBeUndefined();
    expect(m.restores.at(-1)).toMatchObject({ source: 'savepoint', path: from, restoredPosition: saved.position });
    const again = await rec.until((r) => rec.records.indexOf(r) >= countBefore && r.seq === saved.position + 1, 'restarting after the savepoint');
    expect(again.attempt).toBe(0);
    // No savepoint was taken of the cancelled job.
    expect((await sim.kube.list(SNAP)).length).toBe(snapshotsBefore);
  });

  it('records initialSavepointPath as upgradeSavepointPath on a first deployment, which restores from it', async () => {
    const from = (await sim.kube.get(`${FD}/rescale`))!.status.jobStatus.upgradeSavepointPath as string;
    const saved = flinkWorld(sim.url).storage.get(from)!;
    await sim.kube.create(FD, deployment('from-savepoint', { ha: true, upgradeMode: 'last-state', job: { initialSavepointPath: from } }));
    const { fd } = await lifecycle(sim, 'from-savepoint', stable);
    expect(fd.status.jobStatus.upgradeSavepointPath).toBe(from);
    expect(reconciled(fd).job.upgradeMode).toBe('savepoint');
    expect(f.model('from-savepoint').restores[0]).toMatchObject({ reason: 'jobmanager-start', source: 'savepoint', path: from, restoredPosition: saved.position });
  });

  it('reports a lost JobManager Deployment as MISSING with the job RECONCILING and a Warning Missing, then recovers it from HA (RecoverDeployment), same job', async () => {
    const m = f.model('from-savepoint');
    const before = (await sim.kube.get(`${FD}/from-savepoint`))!;
    const restores = m.restores.length;
    // The job's HA ConfigMap exists from the job's start, before its first checkpoint.
    const jobCm = `/api/v1/namespaces/default/configmaps/from-savepoint-${before.status.jobStatus.jobId}-config-map`;
    expect(await sim.kube.get(jobCm)).toBeDefined();
    // A checkpoint in HA, so the recovery below restores from it rather than the initial savepoint.
    await until('a checkpoint in the HA ConfigMap', async () => (Object.keys((await sim.kube.get(jobCm))?.data ?? {}).some((k) => k.startsWith('checkpointID-')) ? true : undefined));
    const watch = watchEvents(sim, 'from-savepoint');
    await sleep(50);
    await sim.kube.delete('/apis/apps/v1/namespaces/default/deployments/from-savepoint');
    const missing = await lifecycle(sim, 'from-savepoint', (x) => x.status?.jobManagerDeploymentStatus === 'MISSING');
    expect(missing.fd.status.jobStatus.state).toBe('RECONCILING');
    const { fd } = await lifecycle(sim, 'from-savepoint', stable);
    watch.stop();
    const missingAt = watch.events.indexOf('Warning Missing: Missing JobManager deployment');
    expect(missingAt).toBeGreaterThanOrEqual(0);
    expect(watch.events.indexOf('Warning RecoverDeployment: Recovering lost deployment')).toBeGreaterThan(missingAt);
    expect(fd.status.jobStatus.jobId).toBe(before.status.jobStatus.jobId);
    // (TaskManagers killed with the Deployment may make the old JobManager fail over first.)
    expect(m.restores.slice(restores).find((r) => r.reason === 'jobmanager-start')).toMatchObject({ source: 'checkpoint', jobId: before.status.jobStatus.jobId });
  });

  it('resets the sequence to 1 when the JobManager of a deployment without HA is killed; a stateless suspend deletes the cluster and takes no savepoint', async () => {
    const rec = f.record('hello-no-ha');
    await sim.kube.create(FD, deployment('hello-no-ha', { ha: false, upgradeMode: 'stateless' }));
    await lifecycle(sim, 'hello-no-ha', stable);
    await rec.until((r) => r.seq >= 20, 'up to 20');
    const [jmPod] = await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello-no-ha,component=jobmanager' });
    await sim.kube.delete(`/api/v1/namespaces/default/pods/${jmPod!.metadata.name}`);
    await rec.until((r) => r.seq === 1 && rec.records.filter((x) => x.seq === 1).length >= 2, 'of a second run from 1');
    expect(f.model('hello-no-ha').restores.at(-1)).toMatchObject({ reason: 'jobmanager-start', source: 'scratch', restoredPosition: 0 });
    await lifecycle(sim, 'hello-no-ha', stable);

    await sim.kube.patch(`${FD}/hello-no-ha`, { spec: { job: { state: 'suspended' } } });
    const { fd } = await lifecycle(sim, 'hello-no-ha', suspended);
    expect(fd.status.jobManagerDeploymentStatus).toBe('MISSING');
    expect(fd.status.jobStatus.upgradeSavepointPath).toBeUndefined();
    expect(await sim.kube.get('/apis/apps/v1/namespaces/default/deployments/hello-no-ha')).toBeUndefined();
    expect((await sim.kube.list(SNAP)).filter((s) => s.spec.jobReference.name === 'hello-no-ha')).toEqual([]);
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

  it('ignores namespaces outside WATCH_NAMESPACES; deleting a FlinkDeployment deletes its cluster AND its HA metadata, so a recreated one starts from scratch', async () => {
    await ensureNamespace(sim, 'elsewhere');
    await sim.kube.create('/apis/flink.apache.org/v1beta1/namespaces/elsewhere/flinkdeployments', { ...deployment('ignored', { ha: false, upgradeMode: 'stateless' }), metadata: { name: 'ignored', namespace: 'elsewhere' } });

    const rec = f.record('recreated');
    await sim.kube.create(FD, deployment('recreated', { ha: true, upgradeMode: 'last-state' }));
    await lifecycle(sim, 'recreated', stable);
    const m = f.model('recreated');
    await rec.until((r) => r.seq > (m.lastCheckpoint?.position ?? Infinity), 'past a checkpoint');
    await sim.kube.delete(`${FD}/recreated`);
    await sim.kube.waitFor<KubeObject[]>(FD, (l) => !l.some((x) => x.metadata.name === 'recreated'));
    expect(await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=recreated' })).toEqual([]);
    expect(await sim.kube.list('/api/v1/namespaces/default/configmaps', { labelSelector: 'app=recreated,type=flink-native-kubernetes' })).toEqual([]);
    expect(await eventsOf(sim, 'recreated')).toContainEqual({ type: 'Normal', reason: 'Cleanup', message: 'Cleaning up FlinkDeployment' });

    const restores = m.restores.length;
    const before = rec.records.length;
    await sim.kube.create(FD, deployment('recreated', { ha: true, upgradeMode: 'last-state' }));
    await lifecycle(sim, 'recreated', stable);
    expect(m.restores.slice(restores)).toEqual([expect.objectContaining({ reason: 'jobmanager-start', source: 'scratch', restoredPosition: 0 })]);
    const first = await rec.until((r) => rec.records.indexOf(r) >= before, 'of the new deployment');
    expect(first.seq).toBe(1);

    expect((await sim.kube.get('/apis/flink.apache.org/v1beta1/namespaces/elsewhere/flinkdeployments/ignored'))!.status).toBeUndefined();
  });
});
