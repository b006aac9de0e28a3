// `helm install` / `helm upgrade [--install]`: render the chart recipe, check ownership of
// objects that already exist (helm refuses to adopt what it did not create), record a
// pending release, create the chart's CRDs on install, server-side apply every object
// (fieldManager helm) in helm's kind order, prune what the previous revision had and this
// one has not, optionally --wait (with --timeout, --atomic), then mark the release deployed
// and the previous one superseded.
import { parseAllDocuments, stringify } from 'yaml';
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ReleaseInfo } from './chart-recipes.ts';
import { ToolExit, type ToolContext } from './common.ts';
import { resolveChart, type ResolvedChart } from './helm-charts.ts';
import { createRelease, deleteRelease, listReleases, updateRelease, type Release } from './helm-store.ts';
import { mergeValues, userValues } from './helm-values.ts';
import { waitForWorkloads } from './wait.ts';

export interface InstallOptions {
  command: 'install' | 'upgrade';
  /** upgrade --install */
  install: boolean;
  release: string;
  chartRef: string;
  namespace: string;
  createNamespace: boolean;
  version?: string;
  repo?: string;
  valueFiles: string[];
  sets: string[];
  setStrings: string[];
  wait: boolean;
  timeoutMs: number;
  atomic: boolean;
  skipCrds: boolean;
  description?: string;
  output: string;
}

// pkg/releaseutil/kind_sorter.go InstallOrder (unknown kinds, e.g. custom resources, go last)
const INSTALL_ORDER = [
  'PriorityClass', 'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget',
  'ServiceAccount', 'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim',
  'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role',
  'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet',
  'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];

function orderIndex(kind: string | undefined): number {
  const i = INSTALL_ORDER.indexOf(kind ?? '');
  return i < 0 ? INSTALL_ORDER.length : i;
}

export function sortForInstall(objs: KubeObject[]): KubeObject[] {
  return [...objs].sort((a, b) => orderIndex(a.kind) - orderIndex(b.kind));
}

export function identity(o: KubeObject): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function toManifest(chart: string, objs: KubeObject[]): string {
  return objs.map((o) => `---\n# Source: ${chart}/templates/${String(o.kind).toLowerCase()}.yaml\n${stringify(o)}`).join('');
}

/** Objects of a stored manifest (for pruning and uninstall). */
export function manifestObjects(manifest: string): KubeObject[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === 'object' && !!o.kind);
}

export function nowNano(): string {
  return new Date().toISOString().replace(/Z$/, '000000Z').replace(/\.(\d{3})000000Z$/, '.$1000000Z');
}

function ownershipProblem(existing: KubeObject, release: string, namespace: string): string | undefined {
  const labels = existing.metadata.labels ?? {};
  const ann = existing.metadata.annotations ?? {};
  const problems: string[] = [];
  if (labels['app.kubernetes.io/managed-by'] !== 'Helm') problems.push(`label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"`);
  if (ann['meta.helm.sh/release-name'] !== release) {
    problems.push(ann['meta.helm.sh/release-name'] === undefined
      ? `annotation validation error: missing key "meta.helm.sh/release-name": must be set to "${release}"`
      : `annotation validation error: key "meta.helm.sh/release-name" must equal "${release}": current value is "${ann['meta.helm.sh/release-name']}"`);
  }
  if (ann['meta.helm.sh/release-namespace'] !== namespace) {
    problems.push(ann['meta.helm.sh/release-namespace'] === undefined
      ? `annotation validation error: missing key "meta.helm.sh/release-namespace": must be set to "${namespace}"`
      : `annotation validation error: key "meta.helm.sh/release-namespace" must equal "${namespace}": current value is "${ann['meta.helm.sh/release-namespace']}"`);
  }
  return problems.length ? problems.join('; ') : undefined;
}

/** Applies helm's ownership metadata and the release namespace; fails like helm for unknown kinds. */
export async function prepare(api: SimClient, objs: KubeObject[], release: string, namespace: string): Promise<{ obj: KubeObject; path: string }[]> {
  const out: { obj: KubeObject; path: string }[] = [];
  for (const o of objs) {
    let info;
    try {
      info = await api.resource(o.apiVersion ?? 'v1', o.kind ?? '');
    } catch {
      throw new Error(
        `unable to build kubernetes objects from release manifest: resource mapping not found for name: "${o.metadata.name}" namespace: "${o.metadata.namespace ?? ''}" from "": no matches for kind "${o.kind}" in version "${o.apiVersion}"\nensure CRDs are installed first`,
      );
    }
    const obj: KubeObject = structuredClone(o);
    if (info.namespaced) obj.metadata.namespace ??= namespace;
    else delete obj.metadata.namespace;
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'app.kubernetes.io/managed-by': 'Helm' };
    obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace };
    out.push({ obj, path: await api.objectPath(obj, namespace) });
  }
  return out;
}

async function waitForCrds(api: SimClient, crds: KubeObject[], deadline: number): Promise<void> {
  for (const crd of crds) {
    const group = crd.spec?.group as string;
    const version = ((crd.spec?.versions ?? []) as { name: string; served?: boolean }[]).find((v) => v.served !== false)?.name;
    while (Date.now() < deadline) {
      const doc = await api.get<{ resources?: { name: string }[] }>(`/apis/${group}/${version}`);
      if (doc?.resources?.some((r) => r.name === crd.spec?.names?.plural)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function applyAll(api: SimClient, items: { obj: KubeObject; path: string }[]): Promise<void> {
  for (const { obj, path } of items) {
    try {
      await api.apply(path, obj, 'helm');
    } catch (err) {
      if (err instanceof ApiError) {
        const body = err.body as { message?: string } | undefined;
        throw new Error(body?.message ?? err.message);
      }
      throw err;
    }
  }
}

export async function deleteObjects(api: SimClient, objs: KubeObject[], namespace: string): Promise<void> {
  for (const o of [...sortForInstall(objs)].reverse()) {
    if (o.kind === 'CustomResourceDefinition') continue;
    if (o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep') continue;
    try {
      await api.delete(await api.objectPath(o, namespace), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
    } catch {
      // a kind that is no longer served: nothing left to delete
    }
  }
}

export async function waitForRelease(api: SimClient, items: { obj: KubeObject }[], deadline: number): Promise<boolean> {
  const groups = new Map<string, string[]>();
  for (const { obj } of items) {
    const plural = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' }[obj.kind ?? ''];
    if (!plural) continue;
    const path = `/apis/apps/v1/namespaces/${obj.metadata.namespace}/${plural}`;
    groups.set(path, [...(groups.get(path) ?? []), obj.metadata.name!]);
  }
  const results = await Promise.all([...groups].map(([path, names]) => waitForWorkloads(api, path, names, deadline)));
  return results.every(Boolean);
}

export function statusTime(iso: string): string {
  // Go's ANSIC layout, as helm prints LAST DEPLOYED.
  const d = new Date(iso);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/** The status block helm prints after install/upgrade and for `helm status`. */
export function printRelease(ctx: ToolContext, rel: Release, output: string): void {
  if (output === 'json') {
    ctx.out(`${JSON.stringify(rel)}\n`);
    return;
  }
  if (output === 'yaml') {
    ctx.out(stringify(rel));
    return;
  }
  const lines = [
    `NAME: ${rel.name}`,
    `LAST DEPLOYED: ${statusTime(rel.info.last_deployed)}`,
    `NAMESPACE: ${rel.namespace}`,
    `STATUS: ${rel.info.status}`,
    `REVISION: ${rel.version}`,
    'TEST SUITE: None',
  ];
  if (rel.info.notes) lines.push('NOTES:', rel.info.notes.replace(/\n$/, ''));
  ctx.out(`${lines.join('\n')}\n`);
}

export async function installOrUpgrade(ctx: ToolContext, api: SimClient, o: InstallOptions): Promise<void> {
  const history = await listReleases(api, o.namespace, o.release);
  const last = history.at(-1);
  const fresh = !last || last.info.status === 'uninstalled';
  const installing = o.command === 'install' || fresh;
  const prefix = o.command === 'install' ? 'INSTALLATION FAILED: ' : installing ? '' : 'UPGRADE FAILED: ';
  const fail = (msg: string): ToolExit => new ToolExit(`Error: ${prefix}${msg}`);

  if (o.command === 'install' && last && last.info.status !== 'uninstalled') throw fail('cannot re-use a name that is still in use');
  if (o.command === 'upgrade' && fresh && !o.install) throw new ToolExit(`Error: UPGRADE FAILED: "${o.release}" has no deployed releases`);
  if (last && last.info.status.startsWith('pending-')) throw fail('another operation (install/upgrade/rollback) is in progress');

  let chart: ResolvedChart;
  try {
    chart = resolveChart(o.chartRef, { repo: o.repo, version: o.version, gone: (await ctx.faults()).chartSourcesGone });
  } catch (err) {
    if (err instanceof ToolExit && o.command === 'install') throw new ToolExit(err.message.replace(/^Error: /, `Error: ${prefix}`), err.code);
    throw err;
  }
  const config = userValues(o.valueFiles, o.sets, o.setStrings);
  const values = mergeValues(chart.recipe.defaults, config);
  const revision = fresh ? (last ? last.version + 1 : 1) : last!.version + 1;
  const info: ReleaseInfo = { name: o.release, namespace: o.namespace, revision, isInstall: installing };

  if (o.command === 'upgrade' && fresh && o.output === 'table') ctx.out(`Release "${o.release}" does not exist. Installing it now.\n`);

  if (o.createNamespace && installing) {
    await api.createIfAbsent('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } });
  }
  if (!(await api.get(`/api/v1/namespaces/${o.namespace}`))) throw fail(`create: failed to create: namespaces "${o.namespace}" not found`);

  const crds = installing && !o.skipCrds ? (chart.recipe.crds?.(chart.meta) ?? []) : [];
  for (const crd of crds) await api.createIfAbsent('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await waitForCrds(api, crds, Date.now() + 10_000);

  let items: { obj: KubeObject; path: string }[];
  try {
    items = await prepare(api, sortForInstall(chart.recipe.render(values, info, chart.meta)), o.release, o.namespace);
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
  const previous = last && !fresh ? manifestObjects(last.manifest) : [];
  const previousIds = new Set(previous.map(identity));
  for (const { obj, path } of items) {
    if (previousIds.has(identity(obj))) continue;
    const existing = await api.get(path);
    const problem = existing && ownershipProblem(existing, o.release, o.namespace);
    if (problem) {
      const ns = obj.metadata.namespace ? ` in namespace "${obj.metadata.namespace}"` : '';
      throw fail(`${installing ? 'rendered manifests contain a resource that already exists. Unable to continue with install' : 'Unable to continue with update'}: ${obj.kind} "${obj.metadata.name}"${ns} exists and cannot be imported into the current release: invalid ownership metadata; ${problem}`);
    }
  }

  const at = nowNano();
  const rel: Release = {
    name: o.release,
    namespace: o.namespace,
    version: revision,
    info: {
      first_deployed: history[0]?.info.first_deployed ?? at,
      last_deployed: at,
      deleted: '',
      description: installing ? 'Initial install underway' : 'Preparing upgrade',
      status: installing ? 'pending-install' : 'pending-upgrade',
      ...(chart.recipe.notes ? { notes: chart.recipe.notes(values, info, chart.meta) } : {}),
    },
    chart: { metadata: { ...chart.meta, apiVersion: 'v2', type: 'application' }, values: chart.recipe.defaults },
    config,
    manifest: toManifest(chart.meta.name, items.map((i) => i.obj)),
  };
  await createRelease(api, rel);

  const markFailed = async (reason: string): Promise<void> => {
    rel.info.status = 'failed';
    rel.info.description = `Release "${o.release}" failed: ${reason}`;
    await updateRelease(api, rel);
  };

  try {
    await applyAll(api, items);
    if (!installing) {
      const keep = new Set(items.map((i) => identity(i.obj)));
      await deleteObjects(api, previous.filter((p) => !keep.has(identity(p))), o.namespace);
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    await markFailed(reason);
    throw fail(reason);
  }

  if (o.wait && !(await waitForRelease(api, items, Date.now() + o.timeoutMs))) {
    await markFailed('context deadline exceeded');
    if (o.atomic) {
      if (installing) {
        await deleteObjects(api, items.map((i) => i.obj), o.namespace);
        for (const r of await listReleases(api, o.namespace, o.release)) await deleteRelease(api, r);
        throw fail(`release ${o.release} failed, and has been uninstalled due to atomic being set: context deadline exceeded`);
      }
      const good = [...history].reverse().find((r) => r.info.status === 'deployed' || r.info.status === 'superseded');
      if (good) {
        const back = await prepare(api, manifestObjects(good.manifest), o.release, o.namespace);
        await applyAll(api, back);
        const rolled: Release = { ...structuredClone(good), version: revision + 1, info: { ...good.info, last_deployed: nowNano(), status: 'deployed', description: `Rollback to ${good.version}` } };
        await createRelease(api, rolled);
      }
      throw fail(`release ${o.release} failed, and has been rolled back due to atomic being set: context deadline exceeded`);
    }
    throw fail('context deadline exceeded');
  }

  rel.info.status = 'deployed';
  rel.info.description = o.description ?? (installing ? 'Install complete' : 'Upgrade complete');
  await updateRelease(api, rel);
  for (const r of history) {
    if (r.info.status === 'deployed' || (r.info.status === 'failed' && !installing)) {
      r.info.status = 'superseded';
      await updateRelease(api, r);
    }
  }
  // --history-max 10 (the default): the oldest revisions go.
  const all = await listReleases(api, o.namespace, o.release);
  for (const r of all.slice(0, Math.max(0, all.length - 10))) await deleteRelease(api, r);

  if (o.command === 'upgrade' && !fresh && o.output === 'table') ctx.out(`Release "${o.release}" has been upgraded. Happy Helming!\n`);
  printRelease(ctx, rel, o.output);
}
