// Whether a Helm release is deployed with its pinned chart version, in Helm's own record. Helm's
// default storage driver keeps that record in the cluster, one Secret per revision of a release
// in the release's namespace (helm/helm pkg/storage/driver/secrets.go, util.go): labelled
// owner=helm, name=<release>, status=<status>, version=<revision>, its data.release being
// base64(gzip(the release as JSON)), with the chart's metadata (name, version) inside. The sandbox
// reads it with one labelled list per release through the API it is already connected to, instead
// of starting a `helm list` process (0.1-0.2 s of CPU); it decides as `helm list` would: the latest
// revision of the release (pkg/action/list.go keeps the highest version of each release), which
// must be `deployed` at the pinned chart version. With HELM_DRIVER naming another driver
// (configmap, sql, memory) the record is not in Secrets, and `helm list` is asked instead.
import { gunzipSync } from 'node:zlib';
import { SandboxError } from '../lib/errors.ts';
import { kubeTargetArgs } from '../lib/services.ts';
import type { StepContext } from '../pipeline/step.ts';
import type { HelmRelease } from './kit.ts';
import { askOnce, prefetch } from './probes.ts';

/** What the decision needs of a release's latest revision. */
export interface ReleaseRecord {
  status: string;
  /** As `helm list` shows it, `<chart name>-<chart version>`, without a `v` before the version. */
  chart: string;
}

const unprefixed = (version: string): string => version.replace(/^v/, '');

/** Helm's secret driver is the default and answers to these names (pkg/action/action.go). */
export function secretDriver(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['', 'secret', 'secrets'].includes(env.HELM_DRIVER ?? '');
}

/** The release JSON inside a Secret's data.release (as the API returns it: base64 once more). */
export function decodeReleaseData(data: string): { info?: { status?: string }; chart?: { metadata?: { name?: string; version?: string } } } {
  const helmText = Buffer.from(data, 'base64').toString('latin1');
  const bytes = Buffer.from(helmText, 'base64');
  // Releases stored before Helm compressed them are plain JSON (util.go checks the gzip magic too).
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08 ? gunzipSync(bytes) : bytes;
  return JSON.parse(json.toString('utf8'));
}

/** The latest revision of `rel` in Helm's Secrets, or undefined when it has none. */
async function fromSecrets(ctx: StepContext, rel: HelmRelease): Promise<ReleaseRecord | undefined> {
  const kube = await ctx.services.kube();
  const secrets = await kube.list('v1', 'Secret', { namespace: rel.namespace, labelSelector: `owner=helm,name=${rel.release}` });
  const revision = (s: (typeof secrets)[number]): number => Number(s.metadata.labels?.version ?? 0);
  const latest = secrets.filter((s) => s.type === 'helm.sh/release.v1').sort((a, b) => revision(b) - revision(a))[0];
  const data = (latest?.data as Record<string, string> | undefined)?.release;
  if (!latest || !data) return undefined;
  try {
    const release = decodeReleaseData(data);
    const chart = release.chart?.metadata;
    return { status: release.info?.status ?? latest.metadata.labels?.status ?? 'unknown', chart: `${chart?.name ?? ''}-${unprefixed(chart?.version ?? '')}` };
  } catch (err) {
    throw new SandboxError(`cannot read Helm's record of release ${rel.namespace}/${rel.release} (Secret ${latest.metadata.name})`, {
      cause: err,
      hint: `\`helm history ${rel.release} --namespace ${rel.namespace}\` shows what Helm makes of it`,
    });
  }
}

interface HelmListEntry {
  name: string;
  namespace: string;
  status: string;
  chart: string;
}

/** `helm list` of the release's namespace, for a storage driver other than Secrets. */
async function fromHelmList(ctx: StepContext, rel: HelmRelease): Promise<ReleaseRecord | undefined> {
  const tools = await ctx.services.tools();
  const args = ['list', ...kubeTargetArgs(ctx.config), '--namespace', rel.namespace, '--filter', `^${rel.release}$`, '--max', '0', '--output', 'json'];
  const { stdout } = await tools.run('helm', args, { signal: ctx.signal });
  let entries: HelmListEntry[];
  try {
    entries = JSON.parse(stdout || '[]') as HelmListEntry[];
  } catch (err) {
    throw new SandboxError('cannot read `helm list` output', { cause: err });
  }
  const e = entries.find((x) => x.name === rel.release && x.namespace === rel.namespace);
  return e ? { status: e.status, chart: e.chart.replace(/-v?([^-]+)$/, '-$1') } : undefined;
}

const key = (rel: HelmRelease): string => `helm release ${rel.namespace}/${rel.release}`;

function readRelease(ctx: StepContext, rel: HelmRelease): Promise<ReleaseRecord | undefined> {
  return secretDriver() ? fromSecrets(ctx, rel) : fromHelmList(ctx, rel);
}

/** Starts reading the release's record early (a step's prefetch); isDone then reads its answer. */
export function prefetchRelease(ctx: StepContext, rel: HelmRelease): void {
  prefetch(ctx, key(rel), () => readRelease(ctx, rel));
}

/** True when the latest revision of the release is deployed with the pinned chart and version. */
export function releaseInPlace(record: ReleaseRecord | undefined, chartName: string, version: string): boolean {
  return record?.status === 'deployed' && record.chart === `${chartName}-${unprefixed(version)}`;
}

export async function helmReleaseInPlace(ctx: StepContext, rel: HelmRelease, chartName: string): Promise<boolean> {
  return releaseInPlace(await askOnce(ctx, key(rel), () => readRelease(ctx, rel)), chartName, rel.version);
}
