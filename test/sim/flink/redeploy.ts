// savepointRedeployNonce (AbstractJobReconciler.redeployWithSavepoint, 1.15.0): the current job
// is cancelled STATELESS (cluster and HA metadata deleted, no new savepoint),
// upgradeSavepointPath becomes initialSavepointPath, the job is deployed from it when its spec
// says running, and the spec is marked stable (so no rollback to the old job). An empty
// initialSavepointPath never gets here: the validator rejects it (reconcile.ts).
import { deploy } from './resume.ts';
import type { Pass } from './ops.ts';
import { recordSpec, type Spec } from './status.ts';

export async function redeployFromSavepoint(p: Pass, spec: Spec): Promise<void> {
  await p.ops.cancelJob(p.fd, p.s, 'STATELESS');
  spec.job.upgradeMode = 'savepoint';
  const path = spec.job.initialSavepointPath as string | undefined;
  if (path) p.s.jobStatus.upgradeSavepointPath = path;
  else delete p.s.jobStatus.upgradeSavepointPath;
  if ((spec.job.state ?? 'running') === 'running') await deploy(p, spec, path, false);
  recordSpec(p.fd, p.s, spec, spec.job.state ?? 'running', false, p.ops.taskManagerInfo(p.fd, spec));
  p.s.reconciliationStatus.lastStableSpec = p.s.reconciliationStatus.lastReconciledSpec;
}
