// A Helm release an earlier helm left pending: helm was killed (a second Ctrl-C, a crash, a
// closed terminal) before it could record how its install, upgrade or rollback ended. Helm
// records each operation as a new revision with status pending-install, pending-upgrade or
// pending-rollback and refuses every later install or upgrade of the release with "another
// operation (install/upgrade/rollback) is in progress" until that revision is dealt with. The
// repair starts from helm's refusal and reads the revisions with `helm history`, whatever told
// the step that the release needed installing.
import { SandboxError } from '../lib/errors.ts';
import { kubeTargetArgs } from '../lib/services.ts';
import type { StepContext } from '../pipeline/step.ts';

/** What helm says about a release an earlier helm left pending (pkg/action errPending). */
export const HELM_PENDING = /another operation \(install\/upgrade\/rollback\) is in progress/;

/** One row of `helm history --output json`, oldest first. */
interface Revision {
  revision: number;
  status: string;
  chart: string;
  description: string;
}

/**
 * Clears what blocks `helm upgrade --install` of `rel` after helm refused it as pending; true
 * when it did (the install is then tried again), false when the release is not pending after
 * all (the refusal stands).
 *
 * - pending-install: a first install; nothing of it was ever deployed, so it is uninstalled.
 * - pending-upgrade, pending-rollback: the release was deployed before; it is rolled back to
 *   its last deployed revision (`helm rollback` does not refuse a pending release), which puts
 *   that revision's objects back and records a deployed revision on top, so the upgrade that
 *   follows starts from a known state. Helm leaves the interrupted revision's status as it was
 *   in the history.
 */
export async function repairPendingRelease(ctx: StepContext, rel: { release: string; namespace: string }): Promise<boolean> {
  const tools = await ctx.services.tools();
  const target = [...kubeTargetArgs(ctx.config), '--namespace', rel.namespace];
  const history = await tools.run('helm', ['history', rel.release, ...target, '--output', 'json'], { signal: ctx.signal }).then(
    ({ stdout }) => JSON.parse(stdout || '[]') as Revision[],
    (err: unknown) => {
      // No revision at all: whatever helm refused, it is not a release left pending.
      if (err instanceof Error && /release: not found/.test(err.message)) return [];
      throw err;
    },
  );
  const last = history.at(-1);
  if (!last?.status.startsWith('pending-')) return false;
  const name = `${rel.namespace}/${rel.release}`;
  if (last.status === 'pending-install') {
    ctx.output(`helm release ${rel.release} was left pending-install by an interrupted run: uninstalling it to install again`);
    await tools.run('helm', ['uninstall', rel.release, ...target], { signal: ctx.signal, onLine: ctx.output });
    return true;
  }
  const earlier = history.slice(0, -1).reverse();
  const good = earlier.find((r) => r.status === 'deployed') ?? earlier.find((r) => !r.status.startsWith('pending-') && r.status !== 'uninstalled');
  if (!good) {
    throw new SandboxError(`helm release ${name} is ${last.status} (revision ${last.revision}): an earlier helm was stopped mid-way, and no earlier revision can be rolled back to`, {
      hint: `see \`helm history ${rel.release} --namespace ${rel.namespace}\`; \`helm uninstall ${rel.release} --namespace ${rel.namespace}\` removes it (and what it installed), then re-run`,
    });
  }
  const which = good.status === 'deployed' ? 'its last deployed one' : `its last ${good.status} one, none being deployed`;
  ctx.output(`helm release ${rel.release} was left ${last.status} (revision ${last.revision}) by an interrupted run: rolling it back to revision ${good.revision} (${which}), then upgrading it`);
  try {
    await tools.run('helm', ['rollback', rel.release, String(good.revision), ...target], { signal: ctx.signal, onLine: ctx.output });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new SandboxError(`helm could not roll back release ${name}, left ${last.status} by an interrupted run, to revision ${good.revision}`, {
      cause: err,
      hint: `see \`helm history ${rel.release} --namespace ${rel.namespace}\`; roll it back yourself (\`helm rollback ${rel.release} <revision> --namespace ${rel.namespace}\`) or uninstall it, then re-run`,
    });
  }
  return true;
}
