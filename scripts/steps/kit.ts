// Building blocks shared by the install steps: manifests from manifests/, helm releases,
// and the check-then-act test for both.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { containsDesired, firstDifference } from '../lib/kube/desired.ts';
import { SandboxError } from '../lib/errors.ts';
import { parseManifests, type KubeObject } from '../lib/kube/kube.ts';
import { packagePath } from '../lib/paths.ts';
import type { SandboxConfig } from '../lib/config.ts';
import { kubeTargetArgs } from '../lib/services.ts';
import type { PlanAction, StepContext } from '../pipeline/step.ts';
import { HELM_PENDING, repairPendingRelease } from './helm-pending.ts';

/** Parses a file under manifests/ into objects (multi-document YAML). */
export async function loadManifest(relPath: string): Promise<KubeObject[]> {
  return parseManifests(await readFile(packagePath('manifests', relPath), 'utf8'));
}

/** A file under manifests/ that is a patch (a fragment of an object), not an object. */
export async function loadPatch(relPath: string): Promise<KubeObject> {
  return parse(await readFile(packagePath('manifests', relPath), 'utf8')) as KubeObject;
}

export function names(objects: KubeObject[]): string[] {
  return objects.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
}

export function inNamespace(objects: KubeObject[], namespace: string): KubeObject[] {
  return objects.map((o) => (CLUSTER_KINDS.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace } }));
}

const CLUSTER_KINDS = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'IngressClass', 'ClusterIssuer',
  'ClusterOutput', 'ClusterFlow', 'Logging', 'FluentbitAgent', 'PriorityClass',
]);

export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** What every object the sandbox makes in code is labelled with; `down --context` selects on it. */
export const PART_OF_LABELS: Readonly<Record<string, string>> = { [PART_OF_LABEL]: 'flink-sandbox' };
export const PART_OF_SELECTOR = `${PART_OF_LABEL}=flink-sandbox`;

/**
 * Creates the namespace when absent, labelled as the sandbox's so that `down --context`
 * removes it; a namespace that already existed is left unlabelled (and is never deleted).
 */
export async function ensureNamespace(ctx: StepContext, name: string): Promise<void> {
  const kube = await ctx.services.kube();
  if (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name })) return;
  await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [PART_OF_LABEL]: 'flink-sandbox' } } }]);
}

/** True when every object exists and holds every field we declare. */
export async function objectsInPlace(ctx: StepContext, objects: KubeObject[]): Promise<boolean> {
  const kube = await ctx.services.kube();
  for (const o of objects) {
    const live = await kube.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
    if (!live) return false;
    const { status: _ignored, ...desired } = o;
    if (!containsDesired(desired, live)) {
      ctx.output(`${o.kind} ${o.metadata.name} differs from the manifest at ${firstDifference(desired, live)}: re-applying`);
      return false;
    }
  }
  return true;
}

export async function applyObjects(ctx: StepContext, objects: KubeObject[]): Promise<void> {
  const kube = await ctx.services.kube();
  ctx.output(`applying ${objects.length} object(s)`);
  await kube.apply(objects);
}

export interface HelmRelease {
  release: string;
  namespace: string;
  /** Chart name (with `repos`), an oci:// reference, or a chart URL. */
  chart: string;
  version: string;
  /** Repository URLs tried in order (the Flink operator's moves to archive.apache.org when superseded). */
  repos?: string[];
  valuesFiles?: string[];
  set?: Record<string, string>;
  /** Further flags, e.g. --skip-crds when the CRDs are applied explicitly. */
  flags?: string[];
}

export function helmArgs(cfg: SandboxConfig, rel: HelmRelease, repo: string | undefined = rel.repos?.[0]): string[] {
  const args = ['upgrade', '--install', rel.release, rel.chart, ...kubeTargetArgs(cfg), '--namespace', rel.namespace, '--create-namespace', '--version', rel.version];
  if (repo) args.push('--repo', repo);
  for (const f of rel.valuesFiles ?? []) args.push('-f', packagePath('manifests', f));
  for (const [k, v] of Object.entries(rel.set ?? {})) args.push('--set', `${k}=${v}`);
  args.push(...(rel.flags ?? []));
  return args;
}

export function helmPlan(cfg: SandboxConfig, rel: HelmRelease): PlanAction {
  return { kind: 'command', argv: ['helm', ...helmArgs(cfg, rel)] };
}

/** What `up` installed (profile, extras, Helm releases), so `status` and `down` know what to expect. */
export const INSTALL_CONFIGMAP = 'flink-sandbox-install';

/** Releases this run installed or upgraded: `down --context` uninstalls only what `up` installed. */
function recordRelease(ctx: StepContext, rel: HelmRelease): void {
  const id = `${rel.namespace}/${rel.release}`;
  if (!ctx.state.installedReleases.includes(id)) ctx.state.installedReleases.push(id);
}

/**
 * Runs `attempt` against each of the release's chart repositories in turn (the Flink operator's
 * chart moves to archive.apache.org when superseded) and returns the first success.
 */
async function fromFirstRepo<T>(ctx: StepContext, rel: HelmRelease, failure: string, attempt: (repo: string | undefined) => Promise<T>): Promise<T> {
  const repos = rel.repos?.length ? rel.repos : [undefined];
  let lastError: unknown;
  for (const repo of repos) {
    try {
      return await attempt(repo);
    } catch (err) {
      lastError = err;
      if (ctx.signal.aborted) break;
    }
  }
  throw new SandboxError(failure, {
    cause: lastError,
    hint: repos.length > 1 ? `tried ${repos.join(' and ')}; check network access to them` : 'check network access to the chart repository',
  });
}

/** `helm show crds`: Helm never upgrades CRDs, so the sandbox applies them itself (server-side). */
export async function helmShowCrds(ctx: StepContext, rel: HelmRelease): Promise<KubeObject[]> {
  const tools = await ctx.services.tools();
  return fromFirstRepo(ctx, rel, `cannot read the CRDs of chart ${rel.chart} ${rel.version}`, async (repo) => {
    const { stdout } = await tools.run('helm', ['show', 'crds', rel.chart, '--version', rel.version, ...(repo ? ['--repo', repo] : [])], {
      signal: ctx.signal,
    });
    return parseManifests(stdout);
  });
}

/**
 * helm upgrade --install, from the first repository that serves the pinned chart version. A
 * release an earlier helm left pending (which helm refuses to touch) is repaired, then installed.
 */
export async function helmInstall(ctx: StepContext, rel: HelmRelease): Promise<void> {
  const tools = await ctx.services.tools();
  await ensureNamespace(ctx, rel.namespace);
  const install = (): Promise<unknown> =>
    fromFirstRepo(ctx, rel, `helm could not install ${rel.release} (chart ${rel.chart} ${rel.version})`, async (repo) => {
      ctx.output(`helm upgrade --install ${rel.release} ${rel.chart} ${rel.version}${repo ? ` (${repo})` : ''}`);
      return tools.run('helm', helmArgs(ctx.config, rel, repo), { signal: ctx.signal, onLine: ctx.output });
    });
  try {
    await install();
  } catch (err) {
    if (ctx.signal.aborted || !refusedAsPending(err) || !(await repairPendingRelease(ctx, rel))) throw err;
    await install();
  }
  recordRelease(ctx, rel);
}

/** Whether helm's error (anywhere in the cause chain) is its refusal of a release left pending. */
function refusedAsPending(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (HELM_PENDING.test(e.message)) return true;
  return false;
}
