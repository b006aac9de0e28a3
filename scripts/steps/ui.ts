// Optional UI extras (`--with ui`): ingress-nginx for kind, so each job's Flink UI is at
// http://localhost/<name>/, and Heimdall listing every FlinkDeployment. The ingress
// controller's admission webhook must answer before any Ingress is created.
import type { SandboxConfig } from '../lib/config.ts';
import type { KubeObject } from '../lib/kube/kube.ts';
import { fetchManifest } from '../lib/exec/remote-manifest.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { applyObjects, inNamespace, loadManifest, objectsInPlace } from './kit.ts';
import { deploymentsStatus } from './release-status.ts';
import type { Step, StepContext } from '../pipeline/step.ts';

const INGRESS_NS = 'ingress-nginx';

export function ingressNginxUrl(cfg: SandboxConfig): string {
  return cfg.components.ingressNginx.manifestUrl.replaceAll('{version}', cfg.components.ingressNginx.version);
}

function probeIngress(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'sandbox-webhook-probe', namespace: INGRESS_NS },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ http: { paths: [{ path: '/sandbox-probe', pathType: 'Prefix', backend: { service: { name: 'probe', port: { number: 80 } } } }] } }],
    },
  };
}

export const ingressStep: Step = {
  id: 'ingress-nginx',
  title: 'ingress-nginx (UI extra)',
  needs: ['cluster'],
  memoryMiB: 256,
  namespaces: () => [INGRESS_NS],
  plan: (cfg) => [
    { kind: 'manifest', source: ingressNginxUrl(cfg), objects: ['server-side apply'] },
  ],
  async isDone(ctx) {
    const kube = await ctx.services.kube();
    const dep = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'ingress-nginx-controller', namespace: INGRESS_NS });
    const image = dep?.spec?.template?.spec?.containers?.[0]?.image as string | undefined;
    return image?.includes(`:${ctx.config.components.ingressNginx.version.replace(/^controller-/, '')}`) ?? false;
  },
  async apply(ctx) {
    const kube = await ctx.services.kube();
    const objects = await fetchManifest(ingressNginxUrl(ctx.config), ctx.signal);
    // Its certgen Jobs have immutable templates and only need to have run once.
    const existing = await Promise.all(
      objects.map((o) => (o.kind === 'Job' ? kube.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }) : undefined)),
    );
    await kube.apply(objects.filter((_, i) => existing[i] === undefined));
  },
  gate: () => [
    Ready.rollout('Deployment', 'ingress-nginx-controller', INGRESS_NS),
    Ready.dryRunAccepted('the ingress-nginx admission webhook to accept an Ingress', async () => [probeIngress()]),
  ],
  status: (ctx) => deploymentsStatus(ctx, 'ingress-nginx', INGRESS_NS, ['ingress-nginx-controller'], ctx.config.components.ingressNginx.version),
};

async function heimdallObjects(ctx: StepContext): Promise<KubeObject[]> {
  return inNamespace(await loadManifest('ui/heimdall.yaml'), ctx.config.namespaces.job);
}

export const heimdallStep: Step = {
  id: 'heimdall',
  title: 'Heimdall (UI extra)',
  needs: ['flink-operator'],
  memoryMiB: 256,
  namespaces: (cfg) => [cfg.namespaces.job],
  plan: (cfg) => [
    { kind: 'manifest', source: 'manifests/ui/heimdall.yaml', objects: [`Deployment, Service, ServiceAccount, Role, RoleBinding heimdall in ${cfg.namespaces.job}`] },
  ],
  isDone: async (ctx) => objectsInPlace(ctx, await heimdallObjects(ctx)),
  apply: async (ctx) => applyObjects(ctx, await heimdallObjects(ctx)),
  gate: (cfg) => [Ready.rollout('Deployment', 'heimdall', cfg.namespaces.job)],
  status: async (ctx) => ({
    ...(await deploymentsStatus(ctx, 'heimdall', ctx.config.namespaces.job, ['heimdall'], '')),
    endpoint: 'sandbox open heimdall',
  }),
};
