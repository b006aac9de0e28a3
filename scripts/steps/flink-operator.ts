// The Flink Kubernetes Operator: CRDs applied explicitly (Helm never upgrades them),
// then the chart, watching the job namespace so the chart creates the `flink`
// ServiceAccount there. Its webhook refuses calls right after install, so Ready = a
// server-side dry-run create of the sandbox's FlinkDeployment is accepted.
import type { SandboxConfig } from '../lib/config.ts';
import { renderFlinkDeployment } from '../lib/flink/deployment.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { helmReleaseInPlace, prefetchRelease } from './helm-releases.ts';
import { helmInstall, loadPatch, helmPlan, helmShowCrds, loadManifest, type HelmRelease } from './kit.ts';
import { deploymentsStatus } from './release-status.ts';
import type { Step } from '../pipeline/step.ts';

export function flinkOperatorRelease(cfg: SandboxConfig): HelmRelease {
  const v = cfg.components.flinkOperator.version;
  return {
    release: 'flink-kubernetes-operator',
    namespace: cfg.namespaces.operator,
    chart: 'flink-kubernetes-operator',
    version: v,
    repos: cfg.components.flinkOperator.repos.map((r) => r.replaceAll('{version}', v)),
    valuesFiles: ['flink-operator/values.yaml'],
    set: { 'watchNamespaces[0]': cfg.namespaces.job },
    flags: ['--skip-crds'],
  };
}

/** The FlinkDeployment the webhook is asked to accept (dry-run: nothing is created). */
const PROBE_NAME = 'sandbox-webhook-probe';

export const flinkOperatorStep: Step = {
  id: 'flink-operator',
  title: 'Flink Kubernetes Operator',
  needs: ['cert-manager'],
  memoryMiB: 512,
  namespaces: (cfg) => [cfg.namespaces.operator],
  plan: (cfg) => {
    const rel = flinkOperatorRelease(cfg);
    return [
      { kind: 'command', argv: ['helm', 'show', 'crds', rel.chart, '--version', rel.version, '--repo', rel.repos![0]!] },
      { kind: 'manifest', source: 'the chart\'s CRDs (server-side apply)', objects: ['flinkdeployments', 'flinksessionjobs', 'flinkstatesnapshots'] },
      helmPlan(cfg, rel),
    ];
  },
  prefetch: (ctx) => prefetchRelease(ctx, flinkOperatorRelease(ctx.config)),
  isDone: (ctx) => helmReleaseInPlace(ctx, flinkOperatorRelease(ctx.config), 'flink-kubernetes-operator'),
  async apply(ctx) {
    const rel = flinkOperatorRelease(ctx.config);
    const crds = await helmShowCrds(ctx, rel);
    ctx.output(`applying ${crds.length} CRD(s)`);
    const kube = await ctx.services.kube();
    await kube.apply(crds);
    await helmInstall(ctx, rel);
  },
  gate: (cfg) => [
    Ready.dryRunAccepted(`the Flink operator webhook to accept a dry-run FlinkDeployment ${PROBE_NAME} (rendered from hello-ha.yaml)`, async () => {
      const [template] = await loadManifest('flink/hello-ha.yaml');
      const ingress = await loadPatch('flink/ingress-patch.yaml');
      const probe = renderFlinkDeployment(template!, cfg, 'flink-sandbox/hello-job:probe', ingress);
      probe.metadata.name = PROBE_NAME;
      return [probe];
    }),
  ],
  status: (ctx) =>
    deploymentsStatus(ctx, 'flink-operator', ctx.config.namespaces.operator, ['flink-kubernetes-operator'], ctx.config.components.flinkOperator.version),
};
