// `helm rollback RELEASE [REVISION]` and `helm history RELEASE`, as helm 3.19 does them
// (pkg/action/rollback.go, cmd/helm/history.go).
//
// Rollback does not look at the status of the release's last revision: it is how a release
// left pending-install/-upgrade/-rollback (its helm killed mid-way) is unstuck. It stores a new
// revision (last + 1) holding the target revision's chart, values and manifest, as
// pending-rollback with the description "Rollback to N"; updates the cluster from the last
// revision's manifest to the target's (apply the target's objects, delete what only the last
// had); with --wait waits for the workloads; then marks every deployed revision superseded and
// the new one deployed. The last revision keeps its status (a pending-upgrade one stays
// pending-upgrade in the history). A failed update marks the last revision superseded and the
// new one failed.
import type { SimClient } from '../api-client.ts';
import { ToolExit, type ToolContext } from './common.ts';
import { applyAll, deleteObjects, identity, manifestObjects, nowNano, prepare, statusTime, waitForRelease } from './helm-install.ts';
import { createRelease, deleteRelease, listReleases, updateRelease, type Release } from './helm-store.ts';
import { stringify } from 'yaml';

export interface RollbackOptions {
  release: string;
  /** The REVISION argument as given (absent or 0: the one before the last). */
  revision?: string;
  namespace: string;
  wait: boolean;
  timeoutMs: number;
  dryRun: boolean;
  historyMax: number;
}

export async function rollback(ctx: ToolContext, api: SimClient, o: RollbackOptions): Promise<void> {
  let wanted = 0;
  if (o.revision !== undefined) {
    if (!/^[+-]?\d+$/.test(o.revision)) throw new ToolExit(`Error: could not convert revision to a number: strconv.Atoi: parsing "${o.revision}": invalid syntax`);
    wanted = Number(o.revision);
  }
  if (wanted < 0) throw new ToolExit('Error: invalid release revision');
  const history = await listReleases(api, o.namespace, o.release);
  const current = history.at(-1);
  if (!current) throw new ToolExit('Error: release: not found');
  const targetVersion = wanted === 0 ? current.version - 1 : wanted;
  const previous = history.find((r) => r.version === targetVersion);
  if (!previous) throw new ToolExit(`Error: release has no ${targetVersion} version`);

  const target: Release = {
    name: o.release,
    namespace: current.namespace,
    version: current.version + 1,
    info: {
      first_deployed: current.info.first_deployed,
      last_deployed: nowNano(),
      deleted: '',
      description: `Rollback to ${targetVersion}`,
      status: 'pending-rollback',
      ...(previous.info.notes ? { notes: previous.info.notes } : {}),
    },
    chart: structuredClone(previous.chart),
    config: structuredClone(previous.config),
    manifest: previous.manifest,
  };
  if (o.dryRun) {
    ctx.out('Rollback was a success! Happy Helming!\n');
    return;
  }
  await createRelease(api, target);

  let items: Awaited<ReturnType<typeof prepare>>;
  try {
    items = await prepare(api, manifestObjects(target.manifest), o.release, o.namespace);
  } catch (err) {
    // As helm: the new revision stays pending-rollback.
    throw new ToolExit(`Error: unable to build kubernetes objects from new release manifest: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await applyAll(api, items);
    const keep = new Set(items.map((i) => identity(i.obj)));
    await deleteObjects(api, manifestObjects(current.manifest).filter((obj) => !keep.has(identity(obj))), o.namespace);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    current.info.status = 'superseded';
    await updateRelease(api, current);
    target.info.status = 'failed';
    target.info.description = `Rollback "${o.release}" failed: ${reason}`;
    await updateRelease(api, target);
    throw new ToolExit(`Error: ${reason}`);
  }
  if (o.wait && !(await waitForRelease(api, items, Date.now() + o.timeoutMs))) {
    target.info.status = 'failed';
    target.info.description = `Release "${o.release}" failed: context deadline exceeded`;
    await updateRelease(api, target);
    throw new ToolExit(`Error: release ${o.release} failed: context deadline exceeded`);
  }
  for (const r of history) {
    if (r.info.status !== 'deployed') continue;
    r.info.status = 'superseded';
    await updateRelease(api, r);
  }
  target.info.status = 'deployed';
  await updateRelease(api, target);
  // --history-max (10 by default; 0: no limit): the oldest revisions go.
  if (o.historyMax > 0) {
    const all = await listReleases(api, o.namespace, o.release);
    for (const r of all.slice(0, Math.max(0, all.length - o.historyMax))) await deleteRelease(api, r);
  }
  ctx.out('Rollback was a success! Happy Helming!\n');
}

/** `helm history`: the newest `max` revisions, oldest first. */
export async function history(ctx: ToolContext, api: SimClient, o: { release: string; namespace: string; max: number; output: string }): Promise<void> {
  const all = await listReleases(api, o.namespace, o.release);
  if (all.length === 0) throw new ToolExit('Error: release: not found');
  const rows = all.slice(Math.max(0, all.length - o.max)).map((r) => ({
    revision: r.version,
    updated: r.info.last_deployed,
    status: r.info.status,
    chart: `${r.chart.metadata.name}-${r.chart.metadata.version}`,
    app_version: r.chart.metadata.appVersion,
    description: r.info.description,
  }));
  if (o.output === 'json') {
    ctx.out(`${JSON.stringify(rows)}\n`);
    return;
  }
  if (o.output === 'yaml') {
    ctx.out(stringify(rows));
    return;
  }
  const table = [['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION'], ...rows.map((r) => [String(r.revision), statusTime(r.updated), r.status, r.chart, r.app_version, r.description])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  ctx.out(`${table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('\t')).join('\n')}\n`);
}
