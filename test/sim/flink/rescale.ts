// A spec change of a deployed job (AbstractJobReconciler.reconcileSpecChange, 1.15.0). In native
// mode nothing scales in place: a new parallelism, image or configuration of a running job is a
// full upgrade over TWO reconcile passes. The first takes the job down the way its upgrade mode
// says (suspend.ts) and records the new spec as UPGRADING with job state suspended; the
// operator reschedules at once, and the second pass finds a suspended job that should run and
// resumes it with the recorded upgrade mode (resume.ts). A plain suspend stops after the
// first half, a plain resume is only the second.
import type { Pass } from './ops.ts';
import { redeployFromSavepoint } from './redeploy.ts';
import { resumeSuspended } from './resume.ts';
import type { DiffType } from './spec-diff.ts';
import type { Spec } from './status.ts';
import { suspendForChange } from './suspend.ts';

/** True when the change was handled (or must be waited for); false lets other reconcile actions run. */
export async function reconcileSpecChange(p: Pass, diff: DiffType, spec: Spec, last: Spec): Promise<boolean> {
  const wantRunning = (spec.job?.state ?? 'running') === 'running';
  if (diff === 'SAVEPOINT_REDEPLOY') {
    await redeployFromSavepoint(p, spec);
    return true;
  }
  let current = last.job?.state ?? 'running';
  if (current === 'running') {
    const outcome = await suspendForChange(p, spec, wantRunning, last);
    if (typeof outcome === 'object') return !outcome.allowOtherActions;
    if (outcome !== 'suspended') return true;
    current = 'suspended';
  }
  if (current === 'suspended' && wantRunning) await resumeSuspended(p, spec, last);
  return true;
}
