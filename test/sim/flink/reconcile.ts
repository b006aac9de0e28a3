// One reconcile pass of the simulated operator over a FlinkDeployment, shaped like
// FlinkDeploymentController.reconcile / cleanup and AbstractFlinkResourceReconciler.reconcile of
// 1.15.0: observe (observe.ts), validate, write the status, then reconcile: the first
// deployment, a spec change (rescale.ts), or other changes (other-changes.ts).
// Failures the operator expects end in status.error as JSON plus a Warning event; the pass
// answers when the operator would look again (ReconciliationUtils.toUpdateControl).
import type { KubeObject } from '../api-client.ts';
import { ApiError } from '../api-client.ts';
import { booleanOption, observeConf, wallDuration } from './operator-config.ts';
import { observe } from './observe.ts';
import { fdPath, persist, UpgradeFailure, type FlinkOps, type Pass } from './ops.ts';
import { reconcileOtherChanges } from './other-changes.ts';
import { reconcileSpecChange } from './rescale.ts';
import { deploy } from './resume.ts';
import { specChangedMessage, specDiff } from './spec-diff.ts';
import { editLastSpec, errorJson, lastReconciled, lastSpec, recordSpec, runningCondition, withDefaults, type Spec } from './status.ts';
import { patchMeta, writeStatus } from '../controllers/operator-kit.ts';

export const DEPLOYMENT_FINALIZER = 'flinkdeployments.flink.apache.org/finalizer';

/** DefaultValidator's checks that the simulation needs (a savepoint redeploy needs a path). */
function validationError(spec: Spec, last: Spec | undefined): string | undefined {
  const nonce = spec.job?.savepointRedeployNonce;
  if (last?.job && spec.job && nonce !== undefined && nonce !== null && nonce !== last.job.savepointRedeployNonce) {
    if (!String(spec.job.initialSavepointPath ?? '').trim()) return 'InitialSavepointPath must not be empty for savepoint redeployment';
  }
  return undefined;
}

/** The first deployment (AbstractFlinkResourceReconciler, updateStatusBeforeFirstDeployment). */
async function firstDeploy(p: Pass, spec: Spec): Promise<void> {
  if (spec.job?.state === 'suspended') return;
  const initial = spec.job?.initialSavepointPath as string | undefined;
  if (spec.job) {
    if (initial) p.s.jobStatus.upgradeSavepointPath = initial;
    spec.job.upgradeMode = initial ? 'savepoint' : 'stateless';
  }
  const tm = p.ops.taskManagerInfo(p.fd, spec);
  recordSpec(p.fd, p.s, spec, 'suspended', true, tm);
  await persist(p);
  await deploy(p, spec, initial, false);
  recordSpec(p.fd, p.s, spec, spec.job?.state ?? 'running', false, tm);
}

async function reconcile(p: Pass, spec: Spec, announced: Set<string>): Promise<void> {
  if (!p.s.reconciliationStatus.lastReconciledSpec) return firstDeploy(p, spec);
  const last = lastSpec(p.s)!;
  const diff = specDiff(last, spec);
  if (diff.type !== 'IGNORE' || p.s.reconciliationStatus.state === 'UPGRADING') {
    const once = `${p.fd.metadata.uid}:${p.fd.metadata.generation}`;
    if (diff.type !== 'IGNORE' && !announced.has(once)) {
      announced.add(once);
      await p.ops.event(p.fd, 'Normal', 'SpecChanged', specChangedMessage(diff));
    }
    if (await reconcileSpecChange(p, diff.type, spec, last)) return;
  } else {
    // updateReconciliationMetadata: a resource deployed once is no longer on its first deployment.
    const meta = lastReconciled(p.s)?.meta;
    if (meta?.firstDeployment && p.s.reconciliationStatus.state !== 'DEPLOYED') editLastSpec(p.s, (_s, m) => (m.firstDeployment = false));
  }
  await reconcileOtherChanges(p);
}

/** Records an expected failure the way the controller's catch blocks do. */
async function recordFailure(p: Pass, err: UpgradeFailure): Promise<void> {
  if (err.type === 'DeploymentFailedException') {
    p.s.jobManagerDeploymentStatus = 'ERROR';
    p.s.jobStatus.state = 'RECONCILING';
    p.s.error = errorJson(err.type, err.message, { reason: err.reason });
  } else {
    p.s.error = errorJson(err.type, err.message, {}, err.causeMessage ? [{ type: 'java.util.concurrent.CompletionException', message: err.causeMessage }] : []);
  }
  await p.ops.event(p.fd, 'Warning', err.reason, err.causeMessage ? `${err.message} -> ${err.causeMessage}` : err.message);
}

/** When the operator looks again, in wall-clock ms (undefined: only when something changes). */
function rescheduleAfter(p: Pass, before: string | undefined): number {
  const s = p.s;
  if (s.jobStatus.state === 'CANCELLING') return wallDuration(p.conf, 'kubernetes.operator.observer.progress-check.interval');
  const state = s.reconciliationStatus.state;
  if (state !== before && (state === 'UPGRADING' || state === 'ROLLING_BACK')) return 0;
  switch (s.jobManagerDeploymentStatus) {
    case 'DEPLOYING':
      return wallDuration(p.conf, 'kubernetes.operator.observer.progress-check.interval');
    case 'DEPLOYED_NOT_READY':
      return wallDuration(p.conf, 'kubernetes.operator.observer.rest-ready.delay');
    default:
      return wallDuration(p.conf, 'kubernetes.operator.reconcile.interval');
  }
}

/** One pass; answers the delay until the next one. */
export async function reconcileDeployment(ops: FlinkOps, fd: KubeObject, announced: Set<string>): Promise<number | undefined> {
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  const finalizers = fd.metadata.finalizers ?? [];
  if (!finalizers.includes(DEPLOYMENT_FINALIZER)) fd = await patchMeta(ops.api, ops.deployments, fdPath(ns, name), fd, { finalizers: [...finalizers, DEPLOYMENT_FINALIZER] });
  const p: Pass = { ops, fd, s: withDefaults(fd.status), conf: observeConf(ops.config, fd) };
  const before = p.s.reconciliationStatus.state as string;
  try {
    await observe(ops, fd, p.s);
    let spec: Spec = structuredClone(fd.spec ?? {});
    const invalid = validationError(spec, lastSpec(p.s));
    if (invalid) {
      await ops.event(fd, 'Warning', 'ValidationError', invalid, 'Operator');
      p.s.error = errorJson('ValidationException', invalid);
      const last = lastSpec(p.s);
      if (!last) {
        await persist(p);
        return undefined;
      }
      // Reconcile with the last good spec meanwhile (applyValidationErrorAndResetSpec).
      spec = structuredClone(last);
      if (p.s.reconciliationStatus.state === 'UPGRADING' && spec.job) spec.job.state = 'running';
    }
    await persist(p);
    await reconcile(p, spec, announced);
  } catch (err) {
    if (!(err instanceof UpgradeFailure)) throw err;
    await recordFailure(p, err);
  }
  p.s.conditions = runningCondition(p.s);
  await persist(p);
  return rescheduleAfter(p, before);
}

/** FlinkDeploymentController.cleanup: the job goes STATELESS, cluster and HA metadata with it. */
export async function cleanupDeployment(ops: FlinkOps, fd: KubeObject): Promise<void> {
  const finalizers = fd.metadata.finalizers ?? [];
  if (!finalizers.includes(DEPLOYMENT_FINALIZER)) return;
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  try {
    await ops.event(fd, 'Normal', 'Cleanup', 'Cleaning up FlinkDeployment', 'Operator');
    const p: Pass = { ops, fd, s: { ...withDefaults(fd.status), lifecycleState: 'DELETING' }, conf: observeConf(ops.config, fd) };
    try {
      await observe(ops, fd, p.s);
    } catch (err) {
      if (!(err instanceof UpgradeFailure)) throw err;
    }
    const terminal = ['FINISHED', 'CANCELED', 'FAILED'].includes(p.s.jobStatus.state);
    if (!p.s.reconciliationStatus.lastReconciledSpec || terminal) await ops.deleteCluster(fd, p.s, true);
    else await ops.cancelJob(fd, p.s, booleanOption(p.conf, 'kubernetes.operator.job.savepoint-on-deletion', false) ? 'SAVEPOINT' : 'STATELESS');
    const updated = await writeStatus(ops.api, ops.deployments, fdPath(ns, name), fd, { ...p.s, lifecycleState: 'DELETING' });
    await patchMeta(ops.api, ops.deployments, fdPath(ns, name), updated, { finalizers: finalizers.filter((f) => f !== DEPLOYMENT_FINALIZER) });
  } catch (err) {
    // Already gone: an earlier pass finished the cleanup.
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    ops.deployments.remove(fd);
  }
}
