// cert-manager, needed by the Flink operator's webhook. Its webhook can be Available
// and still refuse calls (cert-manager #2908), so Ready = a server-side dry-run create
// of an Issuer and a Certificate is accepted.
import type { SandboxConfig } from '../lib/config.ts';
import { gate, helmInstall, helmPlan, helmReleaseInPlace, loadManifest, type HelmRelease } from './kit.ts';
import type { Step, StepContext } from '../pipeline/step.ts';
import { deploymentsStatus } from './release-status.ts';

export function certManagerRelease(cfg: SandboxConfig): HelmRelease {
  const c = cfg.components.certManager;
  return {
    release: 'cert-manager',
    namespace: cfg.namespaces.certManager,
    chart: c.chart,
    version: c.version,
    repos: [c.repo],
    valuesFiles: ['cert-manager/values.yaml'],
  };
}

async function probeObjects(ctx: StepContext) {
  const objects = await loadManifest('cert-manager/readiness-probe.yaml');
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ctx.config.namespaces.certManager } }));
}

export const certManagerStep: Step = {
  id: 'cert-manager',
  title: 'cert-manager',
  needs: ['cluster'],
  memoryMiB: 256,
  namespaces: (cfg) => [cfg.namespaces.certManager],
  plan: (cfg) => [helmPlan(cfg, certManagerRelease(cfg)), { kind: 'check', what: 'dry-run create of an Issuer and a Certificate accepted (webhook answers)' }],
  isDone: (ctx) => helmReleaseInPlace(ctx, certManagerRelease(ctx.config), 'cert-manager'),
  apply: (ctx) => helmInstall(ctx, certManagerRelease(ctx.config)),
  async ready(ctx) {
    const { Wait, kube, opts } = await gate(ctx);
    await Wait.forDryRunAccepted(kube, await probeObjects(ctx), 'the cert-manager webhook to accept an Issuer and a Certificate', opts);
  },
  status: (ctx) =>
    deploymentsStatus(ctx, 'cert-manager', ctx.config.namespaces.certManager, ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'], ctx.config.components.certManager.version),
};
