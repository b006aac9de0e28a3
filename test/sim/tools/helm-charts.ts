// How helm finds a chart: `repo/name` through repositories added with `helm repo add`
// (repositories.yaml), `name --repo URL`, `oci://...`, a tarball URL, or a local path; then
// the version (--version, else the newest). Failures are worded like helm's.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { charts, type ChartMeta, type ChartRecipe } from './chart-recipes.ts';
import { matchesAny } from '../faults.ts';
import { ToolExit } from './common.ts';

interface RepoEntry {
  name: string;
  url: string;
  [k: string]: unknown;
}

interface RepoFile {
  apiVersion: string;
  generated: string;
  repositories: RepoEntry[];
}

/** $HELM_REPOSITORY_CONFIG, else $XDG_CONFIG_HOME/helm/repositories.yaml, else ~/.config/helm/... */
export function repoConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HELM_REPOSITORY_CONFIG) return env.HELM_REPOSITORY_CONFIG;
  const base = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config');
  return join(base, 'helm', 'repositories.yaml');
}

export function readRepos(): RepoEntry[] {
  const path = repoConfigPath();
  if (!existsSync(path)) return [];
  return ((parse(readFileSync(path, 'utf8')) as RepoFile | null)?.repositories ?? []).filter((r) => r?.name);
}

export function writeRepos(repos: RepoEntry[]): void {
  const path = repoConfigPath();
  mkdirSync(dirname(path), { recursive: true });
  const file: RepoFile = { apiVersion: '', generated: '0001-01-01T00:00:00Z', repositories: repos };
  writeFileSync(path, stringify(file));
}

export interface ResolvedChart {
  recipe: ChartRecipe;
  meta: ChartMeta;
  /** Where it came from (for messages). */
  source: string;
}

/** The recipe's spelling of a wanted version ("1.21.1" finds "v1.21.1" and back), or the newest. */
function pickVersion(recipe: ChartRecipe, wanted: string | undefined, notFound: (v: string) => ToolExit, served = recipe.versions): string {
  if (!wanted) {
    if (served.length === 0) throw notFound('');
    return served[0]!;
  }
  const bare = wanted.replace(/^v/, '');
  const v = served.find((x) => x === wanted || x.replace(/^v/, '') === bare);
  if (!v) throw notFound(wanted);
  return v;
}

function servedFrom(recipe: ChartRecipe, source: string): boolean {
  return !recipe.sources || recipe.sources.some((re) => re.test(source));
}

function meta(recipe: ChartRecipe, version: string): ChartMeta {
  return { name: recipe.name, version, appVersion: recipe.appVersion(version), description: recipe.description };
}

/** Chart name (and version) from a tarball name like `flink-kubernetes-operator-1.13.0-helm.tgz`. */
function fromTarball(file: string): { name: string; version?: string } {
  const base = basename(file).replace(/\.tgz$|\.tar\.gz$/, '').replace(/-helm$/, '');
  const m = /^(.*?)-(\d+\.\d+\.\d+(?:[-+][\w.]+)?)$/.exec(base);
  return m ? { name: m[1]!, version: m[2] } : { name: base };
}

export interface ResolveOptions {
  repo?: string;
  version?: string;
  /** Regexes of sources that answer 404 now (the `chartSourcesGone` fault knob). */
  gone?: string[];
}

export function resolveChart(ref: string, opts: ResolveOptions): ResolvedChart {
  const isGone = (source: string): boolean => matchesAny(source, opts.gone);
  // oci://registry/path/name
  if (ref.startsWith('oci://')) {
    const name = ref.split('/').pop()!.split(':')[0]!;
    const recipe = charts[name];
    const wanted = opts.version ?? ref.split('/').pop()!.split(':')[1];
    const notFound = (): ToolExit => new ToolExit(`Error: failed to perform "FetchReference" on source: ${ref.replace(/^oci:\/\//, '')}:${wanted ?? 'latest'}: not found`);
    if (!recipe || !servedFrom(recipe, ref) || isGone(ref)) throw notFound();
    return { recipe, meta: meta(recipe, pickVersion(recipe, wanted, notFound)), source: ref };
  }
  // https://.../name-1.2.3.tgz
  if (/^https?:\/\//.test(ref)) {
    const { name, version } = fromTarball(ref);
    const recipe = charts[name];
    if (!recipe || !servedFrom(recipe, ref) || isGone(ref) || (version && !(recipe.versionsAt?.(ref) ?? recipe.versions).includes(version))) {
      throw new ToolExit(`Error: failed to fetch ${ref} : 404 Not Found`);
    }
    return { recipe, meta: meta(recipe, version ?? recipe.versions[0]!), source: ref };
  }
  // name --repo URL
  if (opts.repo) {
    if (isGone(opts.repo)) {
      const index = `${opts.repo.replace(/\/+$/, '')}/index.yaml`;
      throw new ToolExit(`Error: looks like "${opts.repo}" is not a valid chart repository or cannot be reached: failed to fetch ${index} : 404 Not Found`);
    }
    const recipe = charts[ref];
    const notFound = (v?: string): ToolExit =>
      new ToolExit(v ? `Error: chart "${ref}" version "${v}" not found in ${opts.repo} repository` : `Error: chart "${ref}" not found in ${opts.repo} repository`);
    if (!recipe || !servedFrom(recipe, opts.repo)) throw notFound();
    const served = recipe.versionsAt?.(opts.repo) ?? recipe.versions;
    return { recipe, meta: meta(recipe, pickVersion(recipe, opts.version, (v) => (v ? notFound(v) : notFound()), served)), source: opts.repo };
  }
  // a local chart directory or tarball
  if (existsSync(ref)) {
    const { name, version } = fromTarball(ref);
    const recipe = charts[name];
    if (!recipe) throw new ToolExit(`Error: Chart.yaml file is missing`);
    return { recipe, meta: meta(recipe, version ?? recipe.versions[0]!), source: ref };
  }
  const slash = ref.indexOf('/');
  if (slash < 0 || ref.startsWith('.') || ref.startsWith('/')) {
    if (ref.startsWith('.') || ref.startsWith('/')) throw new ToolExit(`Error: path "${ref}" not found`);
    throw new ToolExit(`Error: non-absolute URLs should be in form of repo_name/path_to_chart, got: ${ref}`);
  }
  // repo/name through repositories.yaml
  const repoName = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  const repo = readRepos().find((r) => r.name === repoName);
  if (!repo) throw new ToolExit(`Error: repo ${repoName} not found`);
  const recipe = charts[name];
  const missing = (v?: string): ToolExit =>
    new ToolExit(
      v
        ? `Error: chart "${name}" matching ${v} not found in ${repoName} index. (try 'helm repo update'): no chart version found for ${name}-${v}`
        : `Error: chart "${name}" matching  not found in ${repoName} index. (try 'helm repo update'): no chart name found`,
    );
  if (!recipe || !servedFrom(recipe, repo.url)) throw missing();
  const picked = meta(recipe, pickVersion(recipe, opts.version, (v) => missing(v), recipe.versionsAt?.(repo.url) ?? recipe.versions));
  // The cached index still lists the chart; the download is what fails.
  if (isGone(repo.url)) throw new ToolExit(`Error: failed to fetch ${repo.url.replace(/\/+$/, '')}/${picked.name}-${picked.version}.tgz : 404 Not Found`);
  return { recipe, meta: picked, source: repo.url };
}
