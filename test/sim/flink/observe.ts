// The simulated operator's observer (AbstractFlinkDeploymentObserver, ApplicationObserver,
// JobStatusObserver and SnapshotObserver of 1.15.0): what the JobManager Deployment and the job
// look like now, written into the status before any reconcile step acts on the spec.
// - The JobManager Deployment is only looked at while the status is not READY: available ->
//   DEPLOYED_NOT_READY, and READY one observation later (it always passes DEPLOYED_NOT_READY);
//   gone -> MISSING, job RECONCILING, error MissingJobManagerException and a Warning `Missing`.
// - While READY the job is asked through the JobManager's REST API (the job model): no answer
//   -> a RUNNING job becomes RECONCILING, and a JobManager Deployment that is gone is noticed;
//   another job id -> `Job Not Found`; a changed state -> updateTime and JobStatusChanged.
// - A job in a globally terminal state reports its latest checkpoint or savepoint as
//   upgradeSavepointPath (SnapshotObserver.observeLatestCheckpoint).
import type { KubeObject } from '../api-client.ts';
import { flinkVersionOfImage, parseMemoryMiB } from './config.ts';
import { GENERATION_ANNOTATION, effectiveConf } from './deploy.ts';
import { checkpointBytes } from './runtime.ts';
import type { FlinkOps } from './ops.ts';
import { UpgradeFailure } from './ops.ts';
import { editLastSpec, errorJson, isTerminalJobState, lastReconciled, lastSpec, type Status } from './status.ts';

const JOB_NOT_FOUND = 'Job Not Found';

/** AbstractFlinkResourceObserver.isResourceReadyToBeObserved, with checkIfAlreadyUpgraded. */
function readyToObserve(ops: FlinkOps, fd: KubeObject, s: Status): boolean {
  const rs = s.reconciliationStatus;
  if (!rs.lastReconciledSpec || rs.state === 'ROLLING_BACK') return false;
  if (s.jobStatus.state === 'CANCELLING') return true;
  if (rs.state !== 'UPGRADING') return true;
  const jm = ops.ctx.informers.deployments.get(fd.metadata.namespace, fd.metadata.name!);
  const deployedGeneration = Number(jm?.metadata.annotations?.[GENERATION_ANNOTATION] ?? -1);
  if (s.jobManagerDeploymentStatus === 'MISSING' && jm && !jm.metadata.deletionTimestamp && deployedGeneration === (s.observedGeneration ?? -1)) {
    // The upgrade went through but its status was never written (the operator died): adopt it.
    s.jobManagerDeploymentStatus = 'DEPLOYING';
    editLastSpec(s, (spec) => {
      if (spec.job) spec.job.state = 'running';
    });
    if (lastSpec(s)?.job) s.jobStatus.state = 'RECONCILING';
    rs.state = 'DEPLOYED';
    return true;
  }
  if (lastReconciled(s)?.meta?.firstDeployment) {
    delete rs.lastReconciledSpec;
    rs.state = 'UPGRADING';
  }
  return false;
}

async function observeJmDeployment(ops: FlinkOps, fd: KubeObject, s: Status): Promise<void> {
  const previous = s.jobManagerDeploymentStatus as string;
  const last = lastSpec(s);
  if (previous === 'MISSING' && fd.spec?.job?.state === 'suspended' && last?.job?.state === 'suspended') return;
  if (previous === 'DEPLOYED_NOT_READY') {
    s.jobManagerDeploymentStatus = 'READY';
    return;
  }
  const jm = ops.ctx.informers.deployments.get(fd.metadata.namespace, fd.metadata.name!);
  if (jm) {
    const st = jm.status ?? {};
    if ((st.replicas ?? 0) > 0 && (st.availableReplicas ?? 0) > 0) {
      s.jobManagerDeploymentStatus = 'DEPLOYED_NOT_READY';
      return;
    }
    const failure = await ops.failedCreate(jm);
    if (failure) {
      s.jobStatus.state = 'RECONCILING';
      if (previous !== 'ERROR') throw new UpgradeFailure(failure, 'FailedCreate', 'DeploymentFailedException');
      return;
    }
    s.jobManagerDeploymentStatus = 'DEPLOYING';
    return;
  }
  s.jobManagerDeploymentStatus = 'MISSING';
  if (!isTerminalJobState(s.jobStatus.state)) s.jobStatus.state = 'RECONCILING';
  if (previous !== 'MISSING' && previous !== 'ERROR') {
    s.error = errorJson('MissingJobManagerException', 'Missing JobManager deployment');
    await ops.event(fd, 'Warning', 'Missing', 'Missing JobManager deployment');
  }
}

/** JobStatusObserver.observe: false when the job could not be found. */
async function observeJob(ops: FlinkOps, fd: KubeObject, s: Status): Promise<boolean> {
  if (lastSpec(s)?.job?.state === 'suspended') return false;
  const js = s.jobStatus;
  const previous = js.state as string | undefined;
  const runtime = ops.rest(fd);
  if (!runtime) {
    // The REST call fails: connection refused while a JobManager restarts, a timeout when it is gone.
    if (previous === 'RUNNING') js.state = 'RECONCILING';
    if (!ops.ctx.informers.deployments.get(fd.metadata.namespace, fd.metadata.name!)) await observeJmDeployment(ops, fd, s);
    return false;
  }
  const view = runtime.view();
  if (view.jobId !== js.jobId) {
    await ops.event(fd, 'Warning', 'Missing', JOB_NOT_FOUND, 'Job');
    s.reconciliationStatus.state = 'DEPLOYED';
    js.state = 'RECONCILING';
    s.error = JOB_NOT_FOUND;
    return false;
  }
  // The operator reports RUNNING only once every task runs.
  const state = view.state === 'RUNNING' && !view.tasksRunning ? 'CREATED' : view.state;
  Object.assign(js, { state, jobName: view.jobName, startTime: String(view.startTime) });
  if (state !== previous) {
    js.updateTime = String(Date.now());
    if (state === 'CANCELED' || (isTerminalJobState(state) && previous === 'CANCELLING')) {
      editLastSpec(s, (spec, meta) => {
        spec.job.state = 'suspended';
        meta.firstDeployment = false;
      });
    }
    if (state === 'FAILED' && view.failure) {
      s.error = errorJson('org.apache.flink.runtime.JobException', view.failure);
      await ops.event(fd, 'Warning', 'Error', view.failure, 'Job');
    }
    await ops.event(fd, 'Normal', 'JobStatusChanged', previous ? `Job status changed from ${previous} to ${state}` : `Job status changed to ${state}`, 'Job');
  }
  // ReconciliationUtils.checkAndUpdateStableSpec
  const rs = s.reconciliationStatus;
  if (rs.state === 'DEPLOYED' && (state === 'RUNNING' || (state === 'FINISHED' && lastSpec(s)?.job?.state === 'running'))) rs.lastStableSpec = rs.lastReconciledSpec;
  if (isTerminalJobState(state)) {
    const latest = runtime.latestSnapshot();
    if (latest?.path) js.upgradeSavepointPath = latest.path;
    else if (state === 'CANCELED') delete js.upgradeSavepointPath;
  }
  return true;
}

/** Java's Double.toString for the values that occur here (always a decimal point). */
function javaDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/**
 * AbstractFlinkService.getClusterInfo: the JobManager's version and revision (the simulation
 * cannot know Flink's commit, so the revision says so), CPU and memory of the JobManagers and the
 * registered TaskManagers (FlinkUtils.calculateCluster*Usage, limit factors 1), and the state
 * size of the latest completed checkpoint.
 */
function clusterInfo(ops: FlinkOps, fd: KubeObject): Record<string, string> {
  // What the simulated JobManager reports (cluster.ts): the image's exact version, else 1.20.4.
  const version = flinkVersionOfImage(String(fd.spec?.image ?? '')) ?? '1.20.4';
  const conf = effectiveConf(fd, { jobId: '' });
  const model = ops.world.model(fd.metadata.namespace!, fd.metadata.name!);
  const tms = model.taskManagers.size;
  const jmReplicas = Number(conf['kubernetes.jobmanager.replicas'] ?? 1);
  const cpu = Number(conf['kubernetes.jobmanager.cpu.amount'] ?? 1) * jmReplicas + Number(conf['kubernetes.taskmanager.cpu.amount'] ?? 1) * tms;
  const mib = (key: string, fallback: number): number => parseMemoryMiB(conf[key]) ?? fallback;
  const memory = Math.round(mib('jobmanager.memory.process.size', 1600) * 1024 ** 2 * jmReplicas) + Math.round(mib('taskmanager.memory.process.size', 1728) * 1024 ** 2 * tms);
  const latest = model.runtime?.lastCompleted;
  return {
    'flink-version': version,
    'flink-revision': 'unknown (simulated)',
    'total-cpu': javaDouble(cpu),
    'total-memory': String(memory),
    ...(latest ? { 'state-size': String(checkpointBytes(latest.position)) } : {}),
  };
}

/** Observes into `s` (a working copy of the status). */
export async function observe(ops: FlinkOps, fd: KubeObject, s: Status): Promise<void> {
  if (!readyToObserve(ops, fd, s)) return;
  if (s.jobManagerDeploymentStatus !== 'READY') await observeJmDeployment(ops, fd, s);
  if (s.jobManagerDeploymentStatus === 'READY') await observeJob(ops, fd, s);
  if (s.jobManagerDeploymentStatus === 'READY') s.clusterInfo = { ...s.clusterInfo, ...clusterInfo(ops, fd) };
  const rs = s.reconciliationStatus;
  if (s.jobManagerDeploymentStatus !== 'ERROR' && s.jobStatus.state !== 'FAILED' && rs.lastStableSpec && rs.lastStableSpec === rs.lastReconciledSpec) delete s.error;
}
