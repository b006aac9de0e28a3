// ECK: the operator (its published CRDs and operator manifests, pinned), then
// Elasticsearch and Kibana `quickstart` in the logging namespace. Ready =
// Elasticsearch phase Ready with health green or yellow, and Kibana health green.
import type { SandboxConfig } from '../lib/config.ts';
import { fetchManifest } from '../lib/exec/remote-manifest.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { applyObjects, ensureNamespace, inNamespace, loadManifest, objectsInPlace } from './kit.ts';
import type { Step, StepContext } from '../pipeline/step.ts';

export const ES_NAME = 'quickstart';

export function eckUrls(cfg: SandboxConfig): string[] {
  const base = cfg.components.eck.baseUrl.replaceAll('{version}', cfg.components.eck.version);
  return [`${base}/crds.yaml`, `${base}/operator.yaml`];
}

export const eckOperatorStep: Step = {
  id: 'eck-operator',
  title: 'ECK operator',
  needs: ['cluster'],
  memoryMiB: 200,
  namespaces: (cfg) => [cfg.namespaces.eckOperator],
  plan: (cfg) => eckUrls(cfg).map((u) => ({ kind: 'manifest' as const, source: u, objects: ['server-side apply'] })),
  async isDone(ctx) {
    const kube = await ctx.services.kube();
    const sts = await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'elastic-operator', namespace: ctx.config.namespaces.eckOperator });
    const image = sts?.spec?.template?.spec?.containers?.[0]?.image as string | undefined;
    return image?.endsWith(`:${ctx.config.components.eck.version}`) ?? false;
  },
  async apply(ctx) {
    const kube = await ctx.services.kube();
    for (const url of eckUrls(ctx.config)) {
      ctx.output(`applying ${url}`);
      await kube.apply(await fetchManifest(url, ctx.signal));
    }
  },
  gate: (cfg) => [Ready.rollout('StatefulSet', 'elastic-operator', cfg.namespaces.eckOperator)],
};

async function stackObjects(ctx: StepContext) {
  const ns = ctx.config.namespaces.logging;
  return inNamespace([...(await loadManifest('eck/elasticsearch.yaml')), ...(await loadManifest('eck/kibana.yaml'))], ns);
}

export const elasticStep: Step = {
  id: 'elasticsearch',
  title: 'Elasticsearch and Kibana',
  needs: ['eck-operator'],
  memoryMiB: 2048,
  namespaces: (cfg) => [cfg.namespaces.logging],
  plan: (cfg) => [
    { kind: 'manifest', source: 'manifests/eck/elasticsearch.yaml', objects: [`Elasticsearch ${cfg.namespaces.logging}/${ES_NAME}`] },
    { kind: 'manifest', source: 'manifests/eck/kibana.yaml', objects: [`Kibana ${cfg.namespaces.logging}/${ES_NAME}`] },
  ],
  isDone: async (ctx) => objectsInPlace(ctx, await stackObjects(ctx)),
  async apply(ctx) {
    await ensureNamespace(ctx, ctx.config.namespaces.logging);
    await applyObjects(ctx, await stackObjects(ctx));
  },
  gate: (cfg) => [
    Ready.object(
      { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', name: ES_NAME, namespace: cfg.namespaces.logging },
      'Elasticsearch quickstart to be Ready with health green or yellow',
      (es) => {
        const phase = es?.status?.phase as string | undefined;
        const health = es?.status?.health as string | undefined;
        return { ok: phase === 'Ready' && (health === 'green' || health === 'yellow'), seen: `phase ${phase ?? '(none)'}, health ${health ?? '(none)'}` };
      },
      `read the Elasticsearch pod's log and events in the diagnostics bundle (under ${cfg.namespaces.logging}/logs/ and ${cfg.namespaces.logging}/events.txt); a red health is often disk or memory pressure on the node (\`sandbox doctor\`); \`sandbox up\` continues once it is green or yellow`,
    ),
    Ready.jsonPath({ apiVersion: 'kibana.k8s.elastic.co/v1', kind: 'Kibana', name: ES_NAME, namespace: cfg.namespaces.logging }, '.status.health', 'green'),
  ],
  gateSeconds: (cfg) => cfg.timeouts.elasticsearchSeconds,
  async status(ctx) {
    const kube = await ctx.services.kube();
    const ns = ctx.config.namespaces.logging;
    const es = await kube.get({ apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', name: ES_NAME, namespace: ns }).catch(() => undefined);
    const kb = await kube.get({ apiVersion: 'kibana.k8s.elastic.co/v1', kind: 'Kibana', name: ES_NAME, namespace: ns }).catch(() => undefined);
    if (!es) return { component: 'elasticsearch', health: 'missing' };
    const esHealth = es.status?.health as string | undefined;
    const kbHealth = kb?.status?.health as string | undefined;
    return {
      component: 'elasticsearch',
      health: es.status?.phase === 'Ready' && (esHealth === 'green' || esHealth === 'yellow') && kbHealth === 'green' ? 'healthy' : 'degraded',
      version: es.spec?.version as string | undefined,
      endpoint: `https://${ES_NAME}-es-http.${ns}.svc:9200 (Kibana: sandbox open kibana)`,
      detail: `Elasticsearch ${es.status?.phase ?? 'no phase'}/${esHealth ?? 'unknown'}, Kibana ${kbHealth ?? 'unknown'}`,
    };
  },
};
