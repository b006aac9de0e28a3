// Container behaviours for the pods ECK creates. Elasticsearch writes its ECS JSON startup
// lines. Kibana only passes its readiness probe once the Elasticsearch it is associated with
// is usable (phase Ready, health green or yellow), which it learns through the API: so a red
// cluster keeps Kibana's health red, as with the real stack.
import type { KubeObject } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../behaviours.ts';
import { ES_CLUSTER, ES_TYPE, KB_NAME } from './eck-objects.ts';

function esLine(ctx: ContainerContext, logger: string, message: string): string {
  return JSON.stringify({
    '@timestamp': new Date().toISOString(),
    'log.level': 'INFO',
    message,
    'ecs.version': '1.2.0',
    'service.name': 'ES_ECS',
    'event.dataset': 'elasticsearch.server',
    'process.thread.name': 'main',
    'log.logger': logger,
    'elasticsearch.node.name': ctx.pod.metadata.name,
    'elasticsearch.cluster.name': ctx.pod.metadata.labels?.[ES_CLUSTER],
  });
}

function untilStopped(ctx: ContainerContext): Promise<undefined> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve(undefined);
    ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

export const elasticsearchBehaviour: ImageBehaviour = {
  name: 'eck-elasticsearch',
  matches: (_image, pod, container, init) => !init && container.name === 'elasticsearch' && pod.metadata.labels?.[ES_TYPE] === 'elasticsearch',
  async run(ctx) {
    const version = ctx.pod.metadata.labels?.['elasticsearch.k8s.elastic.co/version'] ?? '';
    await ctx.log(
      esLine(ctx, 'org.elasticsearch.node.Node', `version[${version}], pid[7], build[docker], OS[Linux], JVM[Eclipse Adoptium]`),
      esLine(ctx, 'org.elasticsearch.node.Node', 'initialized'),
      esLine(ctx, 'org.elasticsearch.node.Node', 'starting ...'),
      esLine(ctx, 'org.elasticsearch.http.AbstractHttpServerTransport', 'publish_address {0.0.0.0:9200}, bound_addresses {[::]:9200}'),
      esLine(ctx, 'org.elasticsearch.node.Node', 'started'),
    );
    return untilStopped(ctx);
  },
};

/** The Elasticsearch a Kibana pod talks to, read through the API like Kibana's own config. */
async function elasticsearchOf(ctx: ContainerContext): Promise<KubeObject | undefined> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const name = ctx.pod.metadata.labels?.[KB_NAME];
  if (!name) return undefined;
  const kb = await ctx.api.get<KubeObject>(`/apis/kibana.k8s.elastic.co/v1/namespaces/${ns}/kibanas/${name}`);
  const ref = kb?.spec?.elasticsearchRef as { name?: string; namespace?: string } | undefined;
  if (!ref?.name) return undefined;
  return ctx.api.get<KubeObject>(`/apis/elasticsearch.k8s.elastic.co/v1/namespaces/${ref.namespace ?? ns}/elasticsearches/${ref.name}`);
}

export const kibanaBehaviour: ImageBehaviour = {
  name: 'eck-kibana',
  matches: (_image, pod, container, init) => !init && container.name === 'kibana' && pod.metadata.labels?.[ES_TYPE] === 'kibana',
  async run(ctx) {
    let usable = false;
    ctx.setReadiness(() => usable);
    const line = (message: string, level = 'info'): string =>
      JSON.stringify({ '@timestamp': new Date().toISOString(), 'log.level': level, message, 'ecs.version': '8.11.0', 'log.logger': 'status', 'service.name': 'kibana' });
    await ctx.log(line('Kibana is starting'), line('http server running at https://0.0.0.0:5601'));
    let said = '';
    while (!ctx.signal.aborted) {
      let health = 'unknown';
      try {
        const es = await elasticsearchOf(ctx);
        health = es?.status?.phase === 'Ready' ? String(es.status.health ?? 'unknown') : 'unavailable';
      } catch {
        health = 'unavailable';
      }
      const now = health === 'green' || health === 'yellow';
      if (now !== usable || said === '') {
        said = health;
        await ctx.log(now ? line('Kibana is now available (was degraded)') : line(`Unable to retrieve version information from Elasticsearch nodes (cluster health: ${health})`, 'error'));
      }
      usable = now;
      await ctx.sleep(100);
    }
    return undefined;
  },
};

export const eckBehaviours: ImageBehaviour[] = [elasticsearchBehaviour, kibanaBehaviour];
