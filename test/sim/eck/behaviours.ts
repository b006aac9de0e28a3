// Container behaviours of ECK: the operator's own pod (`eckOperatorMain`: startup lines in its
// JSON format, Ready after the webhook warm-up), and the pods it creates. Elasticsearch writes
// its ECS JSON startup lines and serves its REST API for real (es-server.ts): an HTTPS server on
// 127.0.0.1 that the simulated kubelet registers as the pod's port 9200, so a port-forward to
// the Service `<name>-es-http` reaches it, and the pipeline's fluentd writes to it. Its indices
// belong to the Elasticsearch object (its data volume), so they survive a pod restart. Kibana
// only passes its readiness probe once the Elasticsearch it is associated with is usable (phase
// Ready, health green or yellow), which it learns through the API: so a red cluster keeps
// Kibana's health red, as with the real stack.
import type { KubeObject } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { byImage, idle, readinessGate, tagOf } from '../controllers/behaviour-kit.ts';
import { simMs } from '../time-scale.ts';
import { ES_CLUSTER, ES_TYPE, KB_NAME } from './objects.ts';
import { EsData, startEsServer } from './es-server.ts';
import { serviceCertificate } from './tls.ts';

/** ES's default index.refresh_interval: documents become searchable within a second. */
const REFRESH_MS = 1000;
const HTTP_PORT = 9200;
/** How long a read of the elastic user's Secret is trusted (ECK updates the file realm from it). */
const PASSWORD_TTL_MS = 1000;

// Each cluster's indices, by the Elasticsearch object's uid (a new cluster starts empty).
const clusterData = new Map<string, EsData>();

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

/** The elastic user's password from ECK's Secret, read through the API and kept briefly. */
function passwordReader(ctx: ContainerContext, namespace: string, cluster: string): () => Promise<string | undefined> {
  let at = 0;
  let value: string | undefined;
  return async () => {
    if (value !== undefined && Date.now() - at < PASSWORD_TTL_MS) return value;
    const secret = await ctx.api.get<KubeObject>(`/api/v1/namespaces/${namespace}/secrets/${cluster}-es-elastic-user`).catch(() => undefined);
    const encoded = (secret?.data as Record<string, string> | undefined)?.elastic;
    value = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
    at = Date.now();
    return value;
  };
}

/** Starts the REST API and makes it the far end of port-forwards to this pod's port 9200. */
async function serveHttp(ctx: ContainerContext, version: string): Promise<{ close(): Promise<void> }> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const cluster = ctx.pod.metadata.labels?.[ES_CLUSTER] ?? '';
  const es = await ctx.api.get<KubeObject>(`/apis/elasticsearch.k8s.elastic.co/v1/namespaces/${ns}/elasticsearches/${cluster}`).catch(() => undefined);
  const key = es?.metadata.uid ?? `${ctx.api.url}/${ns}/${cluster}`;
  let data = clusterData.get(key);
  if (!data) clusterData.set(key, (data = new EsData()));
  const server = await startEsServer({
    clusterName: cluster,
    nodeName: ctx.pod.metadata.name!,
    version,
    data,
    tls: await serviceCertificate(`${cluster}-es-http`, ns),
    password: passwordReader(ctx, ns, cluster),
    refreshMs: simMs(REFRESH_MS),
  });
  await ctx.api.request('POST', '/_sim/portforward-targets', { namespace: ns, pod: ctx.pod.metadata.name, port: HTTP_PORT, host: '127.0.0.1', targetPort: server.port });
  return server;
}

export const elasticsearchBehaviour: ImageBehaviour = {
  name: 'eck-elasticsearch',
  matches: (_image, pod, container, init) => !init && container.name === 'elasticsearch' && pod.metadata.labels?.[ES_TYPE] === 'elasticsearch',
  async run(ctx) {
    const version = ctx.pod.metadata.labels?.['elasticsearch.k8s.elastic.co/version'] ?? '';
    // Ready once it answers on 9200, as ECK's readiness probe script checks.
    let serving = false;
    ctx.setReadiness(() => serving);
    const server = await serveHttp(ctx, version);
    serving = true;
    await ctx.log(
      esLine(ctx, 'org.elasticsearch.node.Node', `version[${version}], pid[7], build[docker], OS[Linux], JVM[Eclipse Adoptium]`),
      esLine(ctx, 'org.elasticsearch.node.Node', 'initialized'),
      esLine(ctx, 'org.elasticsearch.node.Node', 'starting ...'),
      esLine(ctx, 'org.elasticsearch.http.AbstractHttpServerTransport', 'publish_address {0.0.0.0:9200}, bound_addresses {[::]:9200}'),
      esLine(ctx, 'org.elasticsearch.node.Node', 'started'),
    );
    await untilStopped(ctx);
    await server.close();
    return undefined;
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

export const eckOperatorMain: ImageBehaviour = {
  name: 'eck-operator',
  matches: byImage(/\/eck\/eck-operator(-ubi)?:/),
  async run(ctx) {
    const gate = readinessGate(ctx);
    const warmup = await gate.open();
    const version = tagOf(ctx.container.image);
    const line = (logger: string, message: string, extra: Record<string, unknown> = {}): string =>
      JSON.stringify({ 'log.level': 'info', '@timestamp': new Date().toISOString(), 'log.logger': logger, message, 'service.version': `${version}+3ba5a3f8`, 'service.type': 'eck', 'ecs.version': '1.4.0', ...extra });
    await ctx.log(
      line('manager', 'maxprocs: Updating GOMAXPROCS=1: determined from CPU quota'),
      line('manager', 'Setting default container registry', { container_registry: 'docker.elastic.co' }),
      line('manager', 'Setting up controllers'),
    );
    await ctx.sleep(warmup);
    await ctx.log(line('manager', 'Starting the manager', { uuid: ctx.pod.metadata.uid, namespace: ctx.pod.metadata.namespace, version, build_hash: '3ba5a3f8' }), line('controller-runtime.webhook', 'Serving webhook server', { host: '', port: 9443 }));
    return idle(ctx);
  },
};

