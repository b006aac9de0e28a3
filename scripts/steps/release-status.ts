// `sandbox status` for a component installed by a chart or manifest: its Deployments' availability.
import type { ComponentStatus, StepContext } from '../pipeline/step.ts';

export async function deploymentsStatus(
  ctx: StepContext,
  component: string,
  namespace: string,
  deploymentNames: string[],
  version: string,
): Promise<ComponentStatus> {
  const kube = await ctx.services.kube();
  const found = await Promise.all(
    deploymentNames.map((name) => kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace })),
  );
  if (found.every((d) => d === undefined)) return { component, health: 'missing', version };
  const notReady = deploymentNames.filter((_, i) => {
    const d = found[i];
    return !d || (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1);
  });
  return {
    component,
    health: notReady.length ? 'degraded' : 'healthy',
    version,
    detail: notReady.length ? `not available: ${notReady.join(', ')}` : `${deploymentNames.join(', ')} available in ${namespace}`,
  };
}
