// Whether a Helm release is deployed with its pinned chart version, in Helm's own record. One
// `helm list --all-namespaces` per run answers for every release of the pipeline (cert-manager,
// the Flink operator, the logging operator), instead of one `helm list` per release.
import { SandboxError } from '../lib/errors.ts';
import { kubeTargetArgs } from '../lib/services.ts';
import type { StepContext } from '../pipeline/step.ts';
import type { HelmRelease } from './kit.ts';
import { askOnce, prefetch } from './probes.ts';

interface HelmListEntry {
  name: string;
  namespace: string;
  status: string;
  chart: string;
}

const KEY = 'helm list --all-namespaces';

async function listReleases(ctx: StepContext): Promise<HelmListEntry[]> {
  const tools = await ctx.services.tools();
  // --max 0: every release, not helm's default first 256.
  const { stdout } = await tools.run('helm', ['list', ...kubeTargetArgs(ctx.config), '--all-namespaces', '--max', '0', '--output', 'json'], { signal: ctx.signal });
  try {
    return JSON.parse(stdout || '[]') as HelmListEntry[];
  } catch (err) {
    throw new SandboxError('cannot read `helm list` output', { cause: err });
  }
}

/** Starts the one `helm list` early (a step's prefetch); isDone then reads its answer. */
export function prefetchReleases(ctx: StepContext): void {
  prefetch(ctx, KEY, () => listReleases(ctx));
}

export async function helmReleaseInPlace(ctx: StepContext, rel: HelmRelease, chartName: string): Promise<boolean> {
  const entries = await askOnce(ctx, KEY, () => listReleases(ctx));
  const versionless = rel.version.replace(/^v/, '');
  return entries.some(
    (e) => e.name === rel.release && e.namespace === rel.namespace && e.status === 'deployed' && e.chart.replace(/-v?([^-]+)$/, '-$1') === `${chartName}-${versionless}`,
  );
}
