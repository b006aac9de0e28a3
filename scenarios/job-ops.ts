// What the scenarios do to the job through its FlinkDeployment and FlinkStateSnapshots: merge
// patches for suspend/resume and upgrades (the operator reacts to spec changes), and waits on the
// status fields the operator 1.15 writes (FACTS.md sections 2 and 3).
import { readFile } from 'node:fs/promises';
import { parseManifests, type KubeObject, type ObjectRef } from '../scripts/lib/kube/kube.ts';
import { packagePath } from '../scripts/lib/paths.ts';
import { Wait } from '../scripts/lib/wait/wait.ts';
import { deploymentRef, FLINK_API } from './job.ts';
import type { ScenarioContext } from './scenario.ts';

const WAIT_MS = 300_000;

function ref(ctx: ScenarioContext): ObjectRef {
  return deploymentRef(ctx.job.name, ctx.job.namespace);
}

export async function patchJob(ctx: ScenarioContext, job: Record<string, unknown>): Promise<void> {
  await ctx.kube.patchMerge(ref(ctx), { spec: { job } });
}

/**
 * Suspends the job (`spec.job.state: suspended`): with upgradeMode savepoint the operator stops it
 * with a savepoint and records the path in `status.jobStatus.upgradeSavepointPath`. Returns that path.
 */
export async function suspend(ctx: ScenarioContext): Promise<string> {
  ctx.note({ kind: 'suspend' });
  await patchJob(ctx, { state: 'suspended' });
  const fd = await Wait.forObject(
    ctx.kube,
    ref(ctx),
    (o) => {
      const s = o?.status;
      const seen = `lifecycle ${s?.lifecycleState ?? '-'}, job ${s?.jobStatus?.state ?? '-'}`;
      return { ok: s?.lifecycleState === 'SUSPENDED' && s?.jobStatus?.state === 'FINISHED', seen, fail: s?.lifecycleState === 'FAILED' ? `the suspend failed: ${s?.error ?? seen}` : undefined };
    },
    `${ctx.job.name} lifecycle SUSPENDED with the job FINISHED`,
    { timeoutMs: WAIT_MS, signal: ctx.signal },
  );
  const path = String(fd.status?.jobStatus?.upgradeSavepointPath ?? '');
  ctx.note({ kind: 'savepoint', path });
  return path;
}

export async function resume(ctx: ScenarioContext): Promise<void> {
  ctx.note({ kind: 'resume' });
  await patchJob(ctx, { state: 'running' });
  await ctx.waitForRunning();
}

/** The upgrade FlinkStateSnapshot the operator made for a savepoint path, if any. */
export async function upgradeSnapshot(ctx: ScenarioContext, path: string): Promise<KubeObject | undefined> {
  const snaps = await ctx.kube.list(FLINK_API, 'FlinkStateSnapshot', { namespace: ctx.job.namespace, labelSelector: 'snapshot.trigger-type=UPGRADE' });
  return snaps.find((s) => s.spec?.savepoint?.path === path || s.status?.path === path);
}

export function snapshotRef(ctx: ScenarioContext, name: string): ObjectRef {
  return { apiVersion: FLINK_API, kind: 'FlinkStateSnapshot', name, namespace: ctx.job.namespace };
}

/**
 * Creates the blog's Listing 2 savepoint for the job under `name` and waits for COMPLETED. Returns
 * its path and the high-water mark seen before it was asked for: the savepoint covers at least
 * that far (what the TaskManagers logged trails what the source emitted).
 */
export async function takeSavepoint(ctx: ScenarioContext, name: string): Promise<{ path: string; covers: number }> {
  // A snapshot of this name left by an earlier run (its deletion held until a job runs again to
  // dispose of its data, e.g. after that run's job FAILED) would answer COMPLETED with its old
  // path: it goes first, now that the job runs.
  if (await ctx.kube.get(snapshotRef(ctx, name))) await deleteSnapshot(ctx, name);
  const covers = ctx.highWater();
  const [template] = parseManifests(await readFile(packagePath('manifests', 'flink', 'savepoint.yaml'), 'utf8'));
  const snap = structuredClone(template!);
  snap.metadata = { name, namespace: ctx.job.namespace };
  snap.spec.jobReference = { kind: 'FlinkDeployment', name: ctx.job.name };
  await ctx.kube.apply([snap]);
  const done = await Wait.forObject(
    ctx.kube,
    snapshotRef(ctx, name),
    (o) => {
      const state = o?.status?.state as string | undefined;
      return { ok: state === 'COMPLETED', seen: `state ${state ?? '-'}`, fail: state === 'FAILED' || state === 'ABANDONED' ? `savepoint ${name} ${state}: ${o?.status?.error ?? ''}` : undefined };
    },
    `FlinkStateSnapshot ${name} COMPLETED`,
    { timeoutMs: WAIT_MS, signal: ctx.signal },
  );
  const path = String(done.status?.path ?? '');
  ctx.note({ kind: 'savepoint', path });
  return { path, covers };
}

/**
 * Deletes a manual snapshot. With disposeOnDelete (the default) the operator deletes the data on
 * S3 too, which needs the job running; an IN_PROGRESS snapshot blocks deletion (FACTS.md section 3).
 */
export async function deleteSnapshot(ctx: ScenarioContext, name: string): Promise<void> {
  // Disposal needs the job running: with the job FAILED or gone the operator holds the deletion
  // until a job runs again (the next takeSavepoint finishes it), so it is not waited for then.
  const running = (await ctx.deployment())?.status?.jobStatus?.state === 'RUNNING';
  await ctx.kube.delete(snapshotRef(ctx, name), { wait: running, timeoutMs: 120_000, signal: ctx.signal });
}
