// What every chart recipe shares: the recipe interface, the `fullname`/labels helpers most
// charts define in _helpers.tpl, typed value lookups, and the real CRD schemas from
// test/fixtures/crds (the same files the project validates its manifests against).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { crdFixtureDir } from '../../fixtures/crds/location.ts';
import type { KubeObject } from '../api-client.ts';
import type { Values } from './helm-values.ts';

export interface ReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  isInstall: boolean;
}

export interface ChartMeta {
  name: string;
  version: string;
  appVersion: string;
  description: string;
}

export interface ChartRecipe {
  name: string;
  description: string;
  /** Versions the chart's repository serves, newest first; the first is the default. */
  versions: string[];
  appVersion(version: string): string;
  /**
   * Where the chart can be fetched from (repository URLs, OCI references, tarball URLs),
   * tested against the URL the chart came from; absent = any source serves it.
   */
  sources?: RegExp[];
  /**
   * The versions one source serves, when it serves fewer than `versions` (a per-release
   * directory such as downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/).
   */
  versionsAt?(source: string): string[] | undefined;
  defaults: Values;
  render(values: Values, release: ReleaseInfo, chart: ChartMeta): KubeObject[];
  /** CRDs from the chart's crds/ directory: created on install when missing, never upgraded. */
  crds?(chart: ChartMeta): KubeObject[];
  /**
   * The same crds/ directory as files (name and text), when the recipe holds them as files:
   * `helm show crds` prints a chart's CRD files as they are, without parsing them.
   */
  crdFiles?(chart: ChartMeta): CrdFile[];
  notes?(values: Values, release: ReleaseInfo, chart: ChartMeta): string;
}

/** The `<chart>.fullname` helper most charts use. */
export function fullname(release: ReleaseInfo, chart: ChartMeta, values: Values): string {
  if (typeof values.fullnameOverride === 'string' && values.fullnameOverride) return values.fullnameOverride.slice(0, 63);
  const name = typeof values.nameOverride === 'string' && values.nameOverride ? values.nameOverride : chart.name;
  return (release.name.includes(name) ? release.name : `${release.name}-${name}`).slice(0, 63).replace(/-$/, '');
}

/** The standard `<chart>.labels` / `<chart>.selectorLabels` helpers. */
export function chartLabels(release: ReleaseInfo, chart: ChartMeta): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = { 'app.kubernetes.io/name': chart.name, 'app.kubernetes.io/instance': release.name };
  return {
    selector,
    labels: {
      'helm.sh/chart': `${chart.name}-${chart.version}`,
      ...selector,
      'app.kubernetes.io/version': chart.appVersion,
      'app.kubernetes.io/managed-by': 'Helm',
    },
  };
}

/** A value at a dotted path, or the fallback when absent (helm's `default`). */
export function get<T>(values: Values, path: string, fallback: T): T {
  let cur: unknown = values;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return fallback;
    cur = (cur as Record<string, unknown>)[p];
  }
  return (cur ?? fallback) as T;
}

/** `{{ with .Values.x }}`: the map at a path, or {} when absent or empty. */
export function map(values: Values, path: string): Record<string, unknown> {
  const v = get<unknown>(values, path, {});
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A list at a path (null/absent -> []). */
export function list<T = unknown>(values: Values, path: string): T[] {
  const v = get<unknown>(values, path, []);
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Leaves out keys whose value is undefined, so rendered objects carry no `key: null`. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

const crdCache = new Map<string, KubeObject[]>();

export interface CrdFile {
  name: string;
  text: string;
}

/** The fixture files whose names start with `prefix`, as text, sorted by name (as helm sorts a chart's files). */
export function referenceCrdFiles(prefix: string): CrdFile[] {
  const dir = crdFixtureDir();
  const files = readdirYaml(dir).filter((f) => f.startsWith(prefix));
  if (files.length === 0) throw new Error(`no ${prefix}*.yaml CRDs in ${dir}`);
  return files.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * The CRDs of the fixture files whose names start with `prefix` (e.g. `flink-`), parsed
 * once per process. Fails loudly when a fixture is missing: a chart without its CRDs would
 * make every later step fail in confusing ways.
 */
export function referenceCrds(prefix: string): KubeObject[] {
  const cached = crdCache.get(prefix);
  if (cached) return structuredClone(cached);
  const out: KubeObject[] = [];
  // js-yaml: about ten times faster than yaml on these files, the same objects (YAML 1.2's core schema).
  for (const f of referenceCrdFiles(prefix)) {
    for (const o of loadAll(f.text, { schema: CORE_SCHEMA }) as (KubeObject | null)[]) {
      if (o && o.kind === 'CustomResourceDefinition') out.push(o);
    }
  }
  crdCache.set(prefix, out);
  return structuredClone(out);
}

function readdirYaml(dir: string): string[] {
  // sorted, so `helm show crds` prints them in a stable order like helm (which sorts by file name)
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
}
