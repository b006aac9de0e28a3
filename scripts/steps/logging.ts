// The logging pipeline of the blog: the logging operator (OCI chart, CRDs applied
// explicitly), a Logging with control namespace `logging` (fluent-bit -> fluentd), a
// ClusterOutput to Elasticsearch with the elastic user's Secret, and a Flow for the job
// namespace that selects JobManager and TaskManager pods and parses their JSON lines.
// Ready = Flow and ClusterOutput active with no problems, fluentd and fluent-bit ready.
import type { SandboxConfig } from '../lib/config.ts';
import type { Kube, KubeObject } from '../lib/kube/kube.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { helmReleaseInPlace, prefetchRelease } from './helm-releases.ts';
import {
  applyObjects, ensureNamespace, helmInstall, helmPlan, helmShowCrds, inNamespace, loadManifest,
  objectsInPlace, type HelmRelease,
} from './kit.ts';
import { deploymentsStatus } from './release-status.ts';
import type { Step, StepContext } from '../pipeline/step.ts';

export const LOGGING_NAME = 'sandbox';
const GROUP = 'logging.banzaicloud.io/v1beta1';

export function loggingOperatorRelease(cfg: SandboxConfig): HelmRelease {
  return {
    release: 'logging-operator',
    namespace: cfg.namespaces.logging,
    chart: cfg.components.loggingOperator.chart,
    version: cfg.components.loggingOperator.version,
    valuesFiles: ['logging/values.yaml'],
    flags: ['--skip-crds'],
  };
}

export const loggingOperatorStep: Step = {
  id: 'logging-operator',
  title: 'Logging operator',
  needs: ['cluster'],
  memoryMiB: 128,
  namespaces: (cfg) => [cfg.namespaces.logging],
  plan: (cfg) => {
    const rel = loggingOperatorRelease(cfg);
    return [
      { kind: 'command', argv: ['helm', 'show', 'crds', rel.chart, '--version', rel.version] },
      { kind: 'manifest', source: "the chart's CRDs (server-side apply)", objects: ['loggings', 'flows', 'clusterflows', 'outputs', 'clusteroutputs', 'fluentbitagents', '...'] },
      helmPlan(cfg, rel),
    ];
  },
  prefetch: (ctx) => prefetchRelease(ctx, loggingOperatorRelease(ctx.config)),
  isDone: (ctx) => helmReleaseInPlace(ctx, loggingOperatorRelease(ctx.config), 'logging-operator'),
  async apply(ctx) {
    const rel = loggingOperatorRelease(ctx.config);
    const kube = await ctx.services.kube();
    await ensureNamespace(ctx, rel.namespace);
    await kube.apply(await helmShowCrds(ctx, rel));
    await helmInstall(ctx, rel);
  },
  gate: (cfg) => [Ready.rollout('Deployment', 'logging-operator', cfg.namespaces.logging)],
  status: (ctx) =>
    deploymentsStatus(ctx, 'logging-operator', ctx.config.namespaces.logging, ['logging-operator'], ctx.config.components.loggingOperator.version),
};

async function pipelineObjects(ctx: StepContext): Promise<KubeObject[]> {
  const { logging, job } = ctx.config.namespaces;
  const agent = await loadManifest('logging/logging.yaml');
  for (const o of agent) if (o.kind === 'Logging') o.spec.controlNamespace = logging;
  return [
    ...agent,
    ...inNamespace(await loadManifest('logging/cluster-output.yaml'), logging),
    ...inNamespace(await loadManifest('logging/flow.yaml'), job),
  ];
}

type Problems = { active?: boolean; problemsCount?: number; problems?: string[] };

function activeCheck(o: KubeObject | undefined): { ok: boolean; seen: string } {
  const st = (o?.status ?? {}) as Problems;
  const problems = st.problemsCount ?? st.problems?.length ?? 0;
  return {
    ok: st.active === true && problems === 0,
    seen: o ? `active=${st.active ?? '(unset)'}, problems=${problems}${st.problems?.length ? ` (${st.problems.join('; ')})` : ''}` : 'not found',
  };
}

export const loggingPipelineStep: Step = {
  id: 'logging-pipeline',
  title: 'Logging pipeline to Elasticsearch',
  needs: ['logging-operator', 'elasticsearch'],
  memoryMiB: 512,
  namespaces: (cfg) => [cfg.namespaces.logging],
  plan: (cfg) => [
    { kind: 'manifest', source: 'manifests/logging/logging.yaml', objects: [`Logging ${LOGGING_NAME} (control namespace ${cfg.namespaces.logging})`] },
    { kind: 'manifest', source: 'manifests/logging/cluster-output.yaml', objects: [`ClusterOutput ${cfg.namespaces.logging}/es-output`] },
    { kind: 'manifest', source: 'manifests/logging/flow.yaml', objects: [`Flow ${cfg.namespaces.job}/es-flow`] },
  ],
  isDone: async (ctx) => objectsInPlace(ctx, await pipelineObjects(ctx)),
  apply: async (ctx) => applyObjects(ctx, await pipelineObjects(ctx)),
  gate(cfg) {
    const { logging, job } = cfg.namespaces;
    const daemonSets = (kube: Kube): Promise<KubeObject[]> => kube.list('apps/v1', 'DaemonSet', { namespace: logging });
    return [
      Ready.object({ apiVersion: GROUP, kind: 'ClusterOutput', name: 'es-output', namespace: logging }, 'ClusterOutput es-output active with no problems', activeCheck),
      Ready.object({ apiVersion: GROUP, kind: 'Flow', name: 'es-flow', namespace: job }, 'Flow es-flow active with no problems', activeCheck),
      Ready.rollout('StatefulSet', `${LOGGING_NAME}-fluentd`, logging),
      Ready.polled(`the fluent-bit DaemonSet in ${logging}`, async (kube) => ({ ok: (await daemonSets(kube)).length > 0, seen: 'no fluent-bit DaemonSet yet' })),
      Ready.each(`rollout of every DaemonSet in ${logging} (fluent-bit)`, daemonSets, (ds) => Ready.rollout('DaemonSet', ds.metadata.name, logging)),
    ];
  },
  async status(ctx) {
    const kube = await ctx.services.kube();
    const { logging, job } = ctx.config.namespaces;
    const out = await kube.get({ apiVersion: GROUP, kind: 'ClusterOutput', name: 'es-output', namespace: logging }).catch(() => undefined);
    const flow = await kube.get({ apiVersion: GROUP, kind: 'Flow', name: 'es-flow', namespace: job }).catch(() => undefined);
    if (!out && !flow) return { component: 'logging', health: 'missing' };
    const a = activeCheck(out);
    const b = activeCheck(flow);
    return {
      component: 'logging',
      health: a.ok && b.ok ? 'healthy' : 'degraded',
      version: ctx.config.components.loggingOperator.version,
      endpoint: 'Elasticsearch index fluentd',
      detail: `ClusterOutput ${a.seen}; Flow ${b.seen}`,
    };
  },
};
