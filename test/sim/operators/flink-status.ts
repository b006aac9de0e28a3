// FlinkDeployment status as the operator (1.15) writes it: lifecycleState derived from the
// reconciliation status exactly like FlinkDeploymentStatus.getLifecycleState(), the `Running`
// condition of ConditionUtils, lastReconciledSpec as `{"spec":..,"resource_metadata":..}`, and
// status.error as the JSON of the operator's exception.
import type { KubeObject } from '../api-client.ts';
import { nowTime } from './operator-kit.ts';

export type Status = Record<string, any>;

export function serializeSpec(fd: KubeObject, firstDeployment: boolean): string {
  return JSON.stringify({ spec: fd.spec, resource_metadata: { apiVersion: fd.apiVersion, metadata: { generation: fd.metadata.generation ?? 1 }, firstDeployment } });
}

/** The spec part of lastReconciledSpec, or undefined before the first deployment. */
export function lastSpec(status: Status): Record<string, any> | undefined {
  const raw = status.reconciliationStatus?.lastReconciledSpec as string | undefined;
  if (!raw) return undefined;
  try {
    return (JSON.parse(raw) as { spec?: Record<string, any> }).spec ?? {};
  } catch {
    return undefined;
  }
}

export function lifecycleState(status: Status): string {
  const rs = status.reconciliationStatus ?? {};
  const last = lastSpec(status);
  if (!last) return status.error ? 'FAILED' : 'CREATED';
  if (rs.state === 'UPGRADING') return 'UPGRADING';
  if (rs.state === 'ROLLING_BACK') return 'ROLLING_BACK';
  if (last.job?.state === 'suspended') return 'SUSPENDED';
  if (status.jobStatus?.state === 'FAILED') return 'FAILED';
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

/** ConditionUtils.createConditionFromStatus: one `Running` condition once something was deployed. */
export function runningCondition(status: Status): Record<string, unknown>[] {
  const last = lastSpec(status);
  if (!last) return [];
  let cond: { status: string; reason: string; message: string };
  if (last.job) {
    const state = String(status.jobStatus?.state ?? 'RECONCILING');
    cond = { status: state === 'RUNNING' ? 'True' : 'False', reason: state.charAt(0) + state.slice(1).toLowerCase(), message: `Job state ${state}` };
  } else {
    const [s, reason, message] = SESSION_CONDITION[String(status.jobManagerDeploymentStatus ?? 'MISSING')] ?? SESSION_CONDITION.MISSING!;
    cond = { status: s, reason, message };
  }
  const old = (status.conditions as { status?: string; lastTransitionTime?: string }[] | undefined)?.[0];
  const lastTransitionTime = old && old.status === cond.status && old.lastTransitionTime ? old.lastTransitionTime : nowTime();
  return [{ type: 'Running', ...cond, lastTransitionTime }];
}

/** status.error: the JSON the operator serializes its exceptions to. */
export function errorJson(type: string, message: string, additionalMetadata: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: `org.apache.flink.kubernetes.operator.exception.${type}`, message, additionalMetadata, throwableList: [] });
}

/** lifecycleState and conditions follow from the rest. */
export function finish(status: Status): Status {
  const out = { ...status };
  out.lifecycleState = lifecycleState(out);
  const conditions = runningCondition(out);
  if (conditions.length) out.conditions = conditions;
  else delete out.conditions;
  return out;
}
