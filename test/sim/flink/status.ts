// FlinkDeployment status as the operator (1.15.0) writes it: the defaults of a new
// FlinkDeploymentStatus (jobStatus with the deprecated savepointInfo / checkpointInfo, clusterInfo,
// JobManager MISSING, reconciliation UPGRADING), lifecycleState derived exactly like
// CommonStatus.getLifecycleState(), the `Running` condition of ConditionsUtils, lastReconciledSpec
// as SpecUtils writes it (`{"spec":..,"resource_metadata":{"apiVersion":..,"firstDeployment":..}}`),
// the bookkeeping of ReconciliationUtils.updateStatusForSpecReconciliation, and status.error as
// the JSON of the operator's exception.
import type { KubeObject } from '../api-client.ts';

export type Status = Record<string, any>;
export type Spec = Record<string, any>;

/** ReconciliationMetadata: all the operator records beside the spec. */
export interface SpecMeta {
  apiVersion: string;
  firstDeployment: boolean;
}

export interface SpecWithMeta {
  spec: Spec;
  meta: SpecMeta | undefined;
}

/** What `new FlinkDeploymentStatus()` serializes to (null fields are left out). */
export function initialStatus(): Status {
  return {
    jobStatus: { savepointInfo: { savepointHistory: [], lastPeriodicSavepointTimestamp: 0 }, checkpointInfo: { lastPeriodicCheckpointTimestamp: 0 } },
    clusterInfo: {},
    jobManagerDeploymentStatus: 'MISSING',
    reconciliationStatus: { reconciliationTimestamp: 0, state: 'UPGRADING' },
    conditions: [],
  };
}

/** A stored status with the defaults filled in where it lacks them (a deep copy). */
export function withDefaults(stored: Status | undefined): Status {
  const base = initialStatus();
  const s: Status = structuredClone(stored ?? {});
  s.jobStatus = { ...base.jobStatus, ...(s.jobStatus ?? {}) };
  s.clusterInfo ??= {};
  s.jobManagerDeploymentStatus ??= 'MISSING';
  s.reconciliationStatus = { ...base.reconciliationStatus, ...(s.reconciliationStatus ?? {}) };
  s.conditions ??= [];
  return s;
}

export function writeSpecWithMeta(spec: Spec, meta: SpecMeta): string {
  return JSON.stringify({ spec, resource_metadata: meta });
}

function readSpecWithMeta(raw: string | undefined): SpecWithMeta | undefined {
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as { spec?: Spec; resource_metadata?: SpecMeta };
    return { spec: parsed.spec ?? {}, meta: parsed.resource_metadata };
  } catch {
    return undefined;
  }
}

export function lastReconciled(status: Status): SpecWithMeta | undefined {
  return readSpecWithMeta(status.reconciliationStatus?.lastReconciledSpec as string | undefined);
}

/** The spec part of lastReconciledSpec, or undefined before the first deployment. */
export function lastSpec(status: Status): Spec | undefined {
  return lastReconciled(status)?.spec;
}

/** ReconciliationMetadata.from: a resource counts as first deployed until a later spec is reconciled. */
function metaFor(fd: KubeObject, status: Status): SpecMeta {
  const rs = status.reconciliationStatus ?? {};
  const first = !rs.lastReconciledSpec || (rs.state === 'DEPLOYED' && lastReconciled(status)?.meta?.firstDeployment === true);
  return { apiVersion: fd.apiVersion ?? 'flink.apache.org/v1beta1', firstDeployment: first };
}

/**
 * ReconciliationUtils.updateStatusForSpecReconciliation: records `spec` (the job state replaced by
 * `jobState`, the trigger nonces kept from the last reconciled spec) as reconciled, UPGRADING
 * before a deployment attempt and DEPLOYED after, clears the error; a spec the user suspended is
 * stable at once.
 */
export function recordSpec(fd: KubeObject, status: Status, spec: Spec, jobState: 'running' | 'suspended', upgrading: boolean, taskManagers: (running: boolean) => Record<string, unknown>): void {
  const clone: Spec = structuredClone(spec);
  const rs = status.reconciliationStatus;
  delete status.error;
  rs.reconciliationTimestamp = Date.now();
  rs.state = upgrading ? 'UPGRADING' : 'DEPLOYED';
  // ReconciliationMetadata.from runs after the new state is set.
  const meta = metaFor(fd, status);
  if (clone.job) {
    clone.job.state = jobState;
    const last = lastSpec(status);
    if (last?.job) {
      clone.job.savepointTriggerNonce = last.job.savepointTriggerNonce;
      clone.job.checkpointTriggerNonce = last.job.checkpointTriggerNonce;
    }
    status.taskManager = taskManagers(jobState === 'running');
    rs.lastReconciledSpec = writeSpecWithMeta(clone, meta);
    if (fd.spec?.job?.state === 'suspended') rs.lastStableSpec = rs.lastReconciledSpec;
  } else rs.lastReconciledSpec = writeSpecWithMeta(clone, meta);
  status.observedGeneration = fd.metadata.generation ?? 1;
}

/** ReconciliationUtils.updateLastReconciledSpec: edits the recorded spec in place. */
export function editLastSpec(status: Status, edit: (spec: Spec, meta: SpecMeta) => void): void {
  const last = lastReconciled(status);
  if (!last) return;
  const meta: SpecMeta = last.meta ?? { apiVersion: 'flink.apache.org/v1beta1', firstDeployment: false };
  edit(last.spec, meta);
  status.reconciliationStatus.lastReconciledSpec = writeSpecWithMeta(last.spec, meta);
}

const MANUAL_RESTORE = ['Manual restore required.', 'It is possible that the job has finished or terminally failed, or the configmaps have been deleted.', 'HA metadata is not available'];

export function lifecycleState(status: Status): string {
  if (status.lifecycleState === 'DELETING' || status.lifecycleState === 'DELETED') return status.lifecycleState;
  const rs = status.reconciliationStatus ?? {};
  const last = lastSpec(status);
  if (!last) return status.error ? 'FAILED' : 'CREATED';
  if (rs.state === 'UPGRADING') return 'UPGRADING';
  if (rs.state === 'ROLLING_BACK') return 'ROLLING_BACK';
  if (last.job?.state === 'suspended') return 'SUSPENDED';
  if (status.jobStatus?.state === 'FAILED') return 'FAILED';
  const jm = status.jobManagerDeploymentStatus;
  if ((jm === 'MISSING' || jm === 'ERROR') && typeof status.error === 'string' && MANUAL_RESTORE.some((m) => status.error.includes(m))) return 'FAILED';
  if (rs.state === 'ROLLED_BACK') return 'ROLLED_BACK';
  if (rs.lastStableSpec && rs.lastStableSpec === rs.lastReconciledSpec) return 'STABLE';
  return 'DEPLOYED';
}

const SESSION_CONDITION: Record<string, [string, string, string]> = {
  READY: ['True', 'JobManagerReady', 'JobManager is running and ready to receive REST API calls'],
  MISSING: ['False', 'JobManagerDeploymentMissing', 'JobManager deployment not found'],
  DEPLOYING: ['False', 'JobManagerIsDeploying', 'JobManager process is starting up'],
  DEPLOYED_NOT_READY: ['False', 'DeployedNotReady', 'JobManager is running but not ready yet to receive REST API calls'],
  ERROR: ['False', 'Error', 'JobManager deployment failed'],
};

/** FlinkDeploymentStatus.setRunningConditionIfRequired: one `Running` condition once something was deployed. */
export function runningCondition(status: Status): Record<string, unknown>[] {
  const last = lastSpec(status);
  if (!last) return [];
  let cond: { status: string; reason: string; message: string };
  if (last.job) {
    const state = String(status.jobStatus?.state ?? 'RECONCILING');
    cond = { status: state === 'RUNNING' ? 'True' : 'False', reason: state.charAt(0) + state.slice(1).toLowerCase(), message: `Job status ${state}` };
  } else {
    const [s, reason, message] = SESSION_CONDITION[String(status.jobManagerDeploymentStatus ?? 'MISSING')] ?? SESSION_CONDITION.MISSING!;
    cond = { status: s, reason, message };
  }
  const old = (status.conditions as { type?: string; status?: string; lastTransitionTime?: string }[] | undefined)?.find((c) => c.type === 'Running');
  // ConditionsUtils keeps the time while the status stays the same (Instant.toString() otherwise).
  const lastTransitionTime = old && old.status === cond.status && old.lastTransitionTime ? old.lastTransitionTime : new Date().toISOString();
  return [{ type: 'Running', ...cond, lastTransitionTime }];
}

/** status.error: the JSON the operator serializes its exceptions to (FlinkResourceException). */
export function errorJson(type: string, message: string, additionalMetadata: Record<string, unknown> = {}, causes: { type: string; message: string }[] = []): string {
  const qualified = type.includes('.') ? type : `org.apache.flink.kubernetes.operator.exception.${type}`;
  return JSON.stringify({ type: qualified, message, additionalMetadata, throwableList: causes.map((c) => ({ ...c, additionalMetadata: {} })) });
}

/** lifecycleState and conditions follow from the rest. */
export function finish(status: Status): Status {
  const out = { ...status };
  out.lifecycleState = lifecycleState(out);
  const conditions = runningCondition(out);
  if (conditions.length || out.conditions) out.conditions = conditions;
  return out;
}

export function isTerminalJobState(state: string | undefined): boolean {
  return state === 'FINISHED' || state === 'CANCELED' || state === 'FAILED';
}
