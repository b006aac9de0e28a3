// cert-manager, needed by the Flink operator's webhook. Its webhook can be Available
// and still refuse calls (cert-manager #2908), so Ready = a server-side dry-run create
// of an Issuer and a Certificate is accepted.
import type { SandboxConfig } from '../lib/config.ts';
import type { KubeObject } from '../lib/kube/kube.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { helmReleaseInPlace, prefetchRelease } from './helm-releases.ts';
import { helmInstall, helmPlan, loadManifest, type HelmRelease } from './kit.ts';
import type { Step } from '../pipeline/step.ts';
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

async function probeObjects(cfg: SandboxConfig): Promise<KubeObject[]> {
  const objects = await loadManifest('cert-manager/readiness-probe.yaml');
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: cfg.namespaces.certManager } }));
}

export const certManagerStep: Step = {
  id: 'cert-manager',
  title: 'cert-manager',
  needs: ['cluster'],
  memoryMiB: 256,
  namespaces: (cfg) => [cfg.namespaces.certManager],
  plan: (cfg) => [helmPlan(cfg, certManagerRelease(cfg))],
  prefetch: (ctx) => prefetchRelease(ctx, certManagerRelease(ctx.config)),
  isDone: (ctx) => helmReleaseInPlace(ctx, certManagerRelease(ctx.config), 'cert-manager'),
  apply: (ctx) => helmInstall(ctx, certManagerRelease(ctx.config)),
  gate: (cfg) => [Ready.dryRunAccepted('the cert-manager webhook to accept a dry-run Issuer and Certificate', () => probeObjects(cfg))],
  status: (ctx) =>
    deploymentsStatus(ctx, 'cert-manager', ctx.config.namespaces.certManager, ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'], ctx.config.components.certManager.version),
};
