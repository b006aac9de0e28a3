// A fake `helm` (v3.19) that installs chart recipes (test/sim/tools/chart-recipes.ts) into the simulated
// cluster it finds through the kubeconfig, stores releases as Helm 3 does (Secrets
// sh.helm.release.v1.*), rolls them back (helm-rollback.ts), and prints and fails like helm.
import { stringify } from 'yaml';
import { SimClient } from '../api-client.ts';
import { ToolExit, bool, flag, flags, parseArgs, runTool, type ParsedArgs, type ToolContext } from './common.ts';
import { goTime, parseDuration, renderGoTemplate } from './go-format.ts';
import { deleteRelease, listReleases, updateRelease, type Release } from './helm-store.ts';
import { resolveContext } from './kubeconfig.ts';

// The chart machinery (recipes, CRD fixtures, values) is imported by the commands that use it:
// every call is a new process, and `helm list` or `helm version` should not pay for it.
const install = (): Promise<typeof import('./helm-install.ts')> => import('./helm-install.ts');
const charts = (): Promise<typeof import('./helm-charts.ts')> => import('./helm-charts.ts');
const rollbacks = (): Promise<typeof import('./helm-rollback.ts')> => import('./helm-rollback.ts');

const VERSION = { Version: 'v3.19.0', GitCommit: '3d8990f0836691f0229297773f3524598f46bda6', GitTreeState: 'clean', GoVersion: 'go1.24.7' };

const BOOLEAN = [
  'install', 'create-namespace', 'wait', 'wait-for-jobs', 'atomic', 'skip-crds', 'all-namespaces', 'all', 'short', 'debug',
  'force-update', 'keep-history', 'dry-run', 'deployed', 'failed', 'pending', 'uninstalled', 'superseded', 'devel',
  'reuse-values', 'reset-values', 'no-hooks', 'help', 'cleanup-on-fail', 'force', 'ignore-not-found', 'recreate-pods',
];
const ALIASES: Record<string, string> = { n: 'namespace', f: 'values', o: 'output', A: 'all-namespaces', a: 'all', q: 'short', h: 'help' };

interface Conn {
  api: SimClient;
  namespace: string;
}

/** helm reaches the cluster through the kubeconfig, like every client-go program. */
function connect(p: ParsedArgs): Conn {
  const kc = resolveContext({ kubeconfig: flag(p, 'kubeconfig'), context: flag(p, 'kube-context') });
  if (!kc) {
    throw new ToolExit('Error: Kubernetes cluster unreachable: Get "http://localhost:8080/version": dial tcp 127.0.0.1:8080: connect: connection refused');
  }
  return { api: new SimClient(kc.server, 'helm'), namespace: flag(p, 'namespace') ?? kc.namespace ?? 'default' };
}

function timeout(p: ParsedArgs): number {
  const raw = flag(p, 'timeout') ?? '5m0s';
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ToolExit(`Error: invalid argument "${raw}" for "--timeout" flag: time: invalid duration "${raw}"`);
  return ms;
}

function latestPerRelease(all: Release[]): Release[] {
  const byName = new Map<string, Release>();
  for (const r of all) {
    const key = `${r.namespace}/${r.name}`;
    const cur = byName.get(key);
    if (!cur || cur.version < r.version) byName.set(key, r);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('\t')).join('\n') + '\n';
}

async function list(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const conn = connect(p);
  const all = bool(p, 'all-namespaces');
  let releases = latestPerRelease(await listReleases(conn.api, all ? undefined : conn.namespace));
  const picked = ['deployed', 'failed', 'pending', 'uninstalled', 'superseded'].filter((s) => bool(p, s));
  const statuses = bool(p, 'all') ? undefined : picked.length ? picked : ['deployed', 'failed'];
  if (statuses) releases = releases.filter((r) => statuses.some((s) => (s === 'pending' ? r.info.status.startsWith('pending') : r.info.status === s)));
  const filter = flag(p, 'filter');
  if (filter) {
    let re: RegExp;
    try {
      re = new RegExp(filter);
    } catch {
      throw new ToolExit(`Error: error parsing regexp: invalid filter: \`${filter}\``);
    }
    releases = releases.filter((r) => re.test(r.name));
  }
  const output = flag(p, 'output') ?? 'table';
  const rows = releases.map((r) => ({
    name: r.name,
    namespace: r.namespace,
    revision: String(r.version),
    updated: goTime(r.info.last_deployed),
    status: r.info.status,
    chart: `${r.chart.metadata.name}-${r.chart.metadata.version}`,
    app_version: r.chart.metadata.appVersion,
  }));
  if (bool(p, 'short')) {
    for (const r of rows) ctx.out(`${r.name}\n`);
    return;
  }
  if (output === 'json') {
    ctx.out(`${JSON.stringify(rows)}\n`);
    return;
  }
  if (output === 'yaml') {
    ctx.out(stringify(rows));
    return;
  }
  ctx.out(table([['NAME', 'NAMESPACE', 'REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION'], ...rows.map((r) => [r.name, r.namespace, r.revision, r.updated, r.status, r.chart, r.app_version])]));
}

async function latest(conn: Conn, name: string): Promise<Release | undefined> {
  return (await listReleases(conn.api, conn.namespace, name)).at(-1);
}

async function status(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const name = p.positional[1];
  if (!name) throw new ToolExit('Error: "helm status" requires 1 argument\n\nUsage:  helm status RELEASE_NAME [flags]');
  const conn = connect(p);
  const rel = await latest(conn, name);
  if (!rel) throw new ToolExit('Error: release: not found');
  (await install()).printRelease(ctx, rel, flag(p, 'output') ?? 'table');
}

async function uninstall(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const names = p.positional.slice(1);
  if (names.length === 0) throw new ToolExit('Error: "helm uninstall" requires at least 1 argument\n\nUsage:  helm uninstall RELEASE_NAME [...] [flags]');
  const conn = connect(p);
  for (const name of names) {
    const history = await listReleases(conn.api, conn.namespace, name);
    const rel = history.at(-1);
    if (!rel || rel.info.status === 'uninstalled') {
      if (bool(p, 'ignore-not-found')) continue;
      throw new ToolExit(`Error: uninstall: Release not loaded: ${name}: release: not found`);
    }
    rel.info.status = 'uninstalling';
    await updateRelease(conn.api, rel);
    const { manifestObjects, sortForInstall } = await install();
    const objs = manifestObjects(rel.manifest);
    for (const o of [...sortForInstall(objs)].reverse()) {
      if (o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep') continue;
      try {
        await conn.api.delete(await conn.api.objectPath(o, conn.namespace), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
      } catch {
        // kind no longer served (its CRD went first): nothing to delete
      }
    }
    if (bool(p, 'keep-history')) {
      rel.info.status = 'uninstalled';
      rel.info.deleted = new Date().toISOString();
      rel.info.description = 'Uninstallation complete';
      await updateRelease(conn.api, rel);
    } else {
      for (const r of history) await deleteRelease(conn.api, r);
    }
    ctx.out(`release "${name}" uninstalled\n`);
  }
}

async function getCmd(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const [, what, name] = p.positional;
  if (!name || !['values', 'manifest', 'notes', 'all'].includes(what ?? '')) throw new ToolExit(`Error: unknown command "${what ?? ''}" for "helm get"`);
  const conn = connect(p);
  const rel = await latest(conn, name);
  if (!rel) throw new ToolExit('Error: release: not found');
  if (what === 'manifest') ctx.out(rel.manifest);
  else if (what === 'notes') ctx.out(`NOTES:\n${rel.info.notes ?? ''}`);
  else if (what === 'values') {
    const values = bool(p, 'all') ? { ...rel.chart.values, ...rel.config } : rel.config;
    if (flag(p, 'output') === 'json') ctx.out(`${JSON.stringify(values)}\n`);
    else ctx.out(`USER-SUPPLIED VALUES:\n${Object.keys(values).length ? stringify(values) : 'null\n'}`);
  } else ctx.out(`${stringify(rel)}`);
}

/** `helm show chart|values|crds|all CHART`: what the chart recipe would have in its files. */
async function show(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const [, what, ref] = p.positional;
  if (!ref || !['chart', 'values', 'crds', 'all', 'readme'].includes(what ?? '')) {
    throw new ToolExit(`Error: "helm show ${what ?? ''}" requires 1 argument\n\nUsage:  helm show ${what ?? 'chart'} [CHART] [flags]`);
  }
  const chart = (await charts()).resolveChart(ref, { repo: flag(p, 'repo'), version: flag(p, 'version'), gone: (await ctx.faults()).chartSourcesGone });
  const chartYaml = stringify({ apiVersion: 'v2', appVersion: chart.meta.appVersion, description: chart.meta.description, name: chart.meta.name, type: 'application', version: chart.meta.version });
  // Files are printed as they are (as helm does); a recipe that makes its CRDs in code prints them as YAML.
  const files = chart.recipe.crdFiles?.(chart.meta);
  const crds = files
    ? files.map((f) => `---\n# Source: ${chart.meta.name}/crds/${f.name}\n${f.text.endsWith('\n') ? f.text : `${f.text}\n`}`).join('')
    : (chart.recipe.crds?.(chart.meta) ?? []).map((c) => `---\n# Source: ${chart.meta.name}/crds/${c.metadata.name}.yaml\n${stringify(c)}`).join('');
  if (what === 'chart') ctx.out(chartYaml);
  else if (what === 'values') ctx.out(stringify(chart.recipe.defaults));
  else if (what === 'crds') ctx.out(crds);
  else if (what === 'readme') ctx.out(`# ${chart.meta.name}\n\n${chart.meta.description}\n`);
  else ctx.out(`${chartYaml}---\n${stringify(chart.recipe.defaults)}${crds}`);
}

async function repo(ctx: ToolContext, p: ParsedArgs): Promise<void> {
  const [, sub, name, url] = p.positional;
  const { readRepos, writeRepos } = await charts();
  const repos = readRepos();
  if (sub === 'add') {
    if (!name || !url) throw new ToolExit('Error: "helm repo add" requires 2 arguments\n\nUsage:  helm repo add [NAME] [URL] [flags]');
    const existing = repos.find((r) => r.name === name);
    if (existing && existing.url === url) {
      ctx.out(`"${name}" already exists with the same configuration, skipping\n`);
      return;
    }
    if (existing && !bool(p, 'force-update')) throw new ToolExit(`Error: repository name (${name}) already exists, please specify a different name`);
    writeRepos([...repos.filter((r) => r.name !== name), { name, url, caFile: '', certFile: '', keyFile: '', insecure_skip_tls_verify: false, pass_credentials_all: false }]);
    ctx.out(`"${name}" has been added to your repositories\n`);
    return;
  }
  if (sub === 'update' || sub === 'up') {
    if (repos.length === 0) throw new ToolExit('Error: no repositories found. You must add one before updating');
    const only = p.positional.slice(2);
    ctx.out('Hang tight while we grab the latest from your chart repositories...\n');
    for (const r of repos) if (only.length === 0 || only.includes(r.name)) ctx.out(`...Successfully got an update from the "${r.name}" chart repository\n`);
    ctx.out('Update Complete. ⎈Happy Helming!⎈\n');
    return;
  }
  if (sub === 'list' || sub === 'ls') {
    if (repos.length === 0) throw new ToolExit('Error: no repositories to show');
    ctx.out(table([['NAME', 'URL'], ...repos.map((r) => [r.name, r.url])]));
    return;
  }
  if (sub === 'remove' || sub === 'rm') {
    if (!name || !repos.some((r) => r.name === name)) throw new ToolExit(`Error: no repo named "${name ?? ''}" found`);
    writeRepos(repos.filter((r) => r.name !== name));
    ctx.out(`"${name}" has been removed from your repositories\n`);
    return;
  }
  throw new ToolExit(`Error: unknown command "${sub ?? ''}" for "helm repo"`);
}

async function main(ctx: ToolContext): Promise<void> {
  const p = parseArgs(ctx.argv, { boolean: BOOLEAN, aliases: ALIASES });
  const cmd = p.positional[0];
  switch (cmd) {
    case 'version': {
      const template = flag(p, 'template');
      if (template) ctx.out(renderGoTemplate(template, VERSION));
      else if (bool(p, 'short')) ctx.out(`${VERSION.Version}+g${VERSION.GitCommit.slice(0, 7)}\n`);
      else ctx.out(`version.BuildInfo{Version:"${VERSION.Version}", GitCommit:"${VERSION.GitCommit}", GitTreeState:"${VERSION.GitTreeState}", GoVersion:"${VERSION.GoVersion}"}\n`);
      return;
    }
    case 'install':
    case 'upgrade': {
      const [, release, chartRef] = p.positional;
      if (!release || !chartRef) throw new ToolExit(`Error: "helm ${cmd}" requires 2 arguments\n\nUsage:  helm ${cmd} [RELEASE] [CHART] [flags]`);
      const conn = connect(p);
      await (await install()).installOrUpgrade(ctx, conn.api, {
        command: cmd,
        install: bool(p, 'install'),
        release,
        chartRef,
        namespace: conn.namespace,
        createNamespace: bool(p, 'create-namespace'),
        version: flag(p, 'version'),
        repo: flag(p, 'repo'),
        valueFiles: flags(p, 'values'),
        sets: flags(p, 'set'),
        setStrings: flags(p, 'set-string'),
        wait: bool(p, 'wait') || bool(p, 'atomic'),
        timeoutMs: timeout(p),
        atomic: bool(p, 'atomic'),
        skipCrds: bool(p, 'skip-crds'),
        description: flag(p, 'description'),
        output: flag(p, 'output') ?? 'table',
      });
      return;
    }
    case 'list':
    case 'ls':
      return list(ctx, p);
    case 'rollback': {
      // Further arguments are ignored, as cobra's MinimumNArgs(1) lets them through.
      const [, release, revision] = p.positional;
      if (!release) throw new ToolExit('Error: "helm rollback" requires at least 1 argument\n\nUsage:  helm rollback <RELEASE> [REVISION] [flags]');
      const conn = connect(p);
      const historyMax = Number(flag(p, 'history-max') ?? process.env.HELM_MAX_HISTORY ?? 10);
      return (await rollbacks()).rollback(ctx, conn.api, { release, revision, namespace: conn.namespace, wait: bool(p, 'wait'), timeoutMs: timeout(p), dryRun: bool(p, 'dry-run'), historyMax });
    }
    case 'history':
    case 'hist': {
      const [, release, extra] = p.positional;
      if (!release || extra !== undefined) throw new ToolExit(`Error: "helm history" requires 1 argument\n\nUsage:  helm history RELEASE_NAME [flags]`);
      const conn = connect(p);
      const max = Number(flag(p, 'max') ?? 256);
      return (await rollbacks()).history(ctx, conn.api, { release, namespace: conn.namespace, max, output: flag(p, 'output') ?? 'table' });
    }
    case 'status':
      return status(ctx, p);
    case 'uninstall':
    case 'delete':
    case 'del':
    case 'un':
      return uninstall(ctx, p);
    case 'get':
      return getCmd(ctx, p);
    case 'repo':
      return repo(ctx, p);
    case 'show':
    case 'inspect':
      return show(ctx, p);
    case undefined:
      ctx.out('The Kubernetes package manager\n\nUsage:\n  helm [command]\n');
      return;
    default:
      throw new ToolExit(`Error: unknown command "${cmd}" for "helm"\nRun 'helm --help' for usage.`);
  }
}

await runTool('helm', main);
