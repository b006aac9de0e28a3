// The fluentd of a Logging (StatefulSet `<logging>-fluentd` in the control namespace), simulated
// as a container behaviour: it takes events from fluent-bit (its forward input, registered under
// its Service while the container runs), routes them by the active Flows and ClusterFlows of its
// Logging through their filters (filters.ts) to their outputs' buffers (buffer.ts), and writes
// due chunks to Elasticsearch (es-output.ts). It reads Flows and outputs through the API, where
// the real one reads the configuration the operator renders from them. Durations from the
// outputs' buffer sections run on the simulation's clock.
// Knob (`/_sim/faults` `logging.dropLines`): lines matching a regex vanish here, as if lost.
import type { KubeObject, SimClient } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { matchesAny } from '../faults.ts';
import { simMs } from '../time-scale.ts';
import { type BufferTiming, OutputBuffer } from './buffer.ts';
import { writeBulk } from './es-output.ts';
import { type FluentEvent, applyFilters, flowSelects, fluentdDurationMs } from './filters.ts';

const GROUP = '/apis/logging.banzaicloud.io/v1beta1';
/** fluentd's flush_thread_interval: how often due chunks are looked for. */
const FLUSH_CHECK_MS = 1000;
/** How often the Flows and outputs are read again (the operator's config reload cadence, roughly). */
const CONFIG_MS = 5000;
// The logging operator's buffer defaults (pkg/sdk/logging/model/output/buffer.go).
const DEFAULT_TIMEKEY_MS = 600_000;
const DEFAULT_TIMEKEY_WAIT_MS = 60_000;
/** fluentd's retry_wait and a cap on its doubling. */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

export interface FluentdReceiver {
  /** Takes events in (the forward input acknowledging them). */
  accept(events: FluentEvent[]): void;
}

// Ready fluentd inputs by `<sim url>|<namespace>/<service>`: what the Service's endpoints are.
const receivers = new Map<string, Set<FluentdReceiver>>();
// Buffers by the PersistentVolumeClaim they live on.
const buffers = new Map<string, OutputBuffer>();

/** A ready fluentd behind the Service, if any (fluent-bit's forward output connects to one). */
export function fluentdReceiver(simUrl: string, namespace: string, service: string): FluentdReceiver | undefined {
  const set = receivers.get(`${simUrl}|${namespace}/${service}`);
  return set?.values().next().value;
}

interface Routing {
  flows: KubeObject[];
  outputs: Map<string, KubeObject>;
}

async function readRouting(api: SimClient, logging: KubeObject, control: string): Promise<Routing> {
  const ref = (o: KubeObject): string => (o.spec?.loggingRef as string | undefined) ?? '';
  const mine = (o: KubeObject): boolean => ref(o) === ref(logging);
  const list = async (plural: string): Promise<KubeObject[]> => (await api.list(`${GROUP}/${plural}`)).items.filter(mine);
  const allNamespaces = logging.spec?.allowClusterResourcesFromAllNamespaces === true;
  const clusterScoped = (o: KubeObject): boolean => allNamespaces || o.metadata.namespace === control;
  const flows = [...(await list('clusterflows')).filter(clusterScoped), ...(await list('flows'))].filter((f) => f.status?.active === true);
  const outputs = new Map<string, KubeObject>();
  for (const o of (await list('clusteroutputs')).filter(clusterScoped)) outputs.set(`global/${o.metadata.name}`, o);
  for (const o of await list('outputs')) outputs.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  return { flows, outputs };
}

function outputKeys(flow: KubeObject): string[] {
  const spec = flow.spec ?? {};
  const local = flow.kind === 'Flow' ? ((spec.localOutputRefs ?? []) as string[]).map((r) => `${flow.metadata.namespace}/${r}`) : [];
  return [...((spec.globalOutputRefs ?? []) as string[]).map((r) => `global/${r}`), ...local];
}

function timingOf(output: KubeObject | undefined): BufferTiming {
  const buffer = ((output?.spec?.elasticsearch as Record<string, unknown> | undefined)?.buffer ?? {}) as Record<string, unknown>;
  return {
    timekeyMs: simMs(fluentdDurationMs(buffer.timekey, DEFAULT_TIMEKEY_MS)),
    waitMs: simMs(fluentdDurationMs(buffer.timekey_wait, DEFAULT_TIMEKEY_WAIT_MS)),
    retryMs: simMs(RETRY_MS),
    maxRetryMs: simMs(MAX_RETRY_MS),
  };
}

function log(message: string, level = 'info'): string {
  const t = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000');
  return `${t} [${level}]: ${message}`;
}

async function run(ctx: ContainerContext): Promise<undefined> {
  const { api, pod } = ctx;
  const control = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.labels?.['app.kubernetes.io/managed-by'] ?? '';
  const logging = await api.get<KubeObject>(`${GROUP}/loggings/${name}`);
  const claim = await api.get<KubeObject>(`/api/v1/namespaces/${control}/persistentvolumeclaims/${name}-fluentd-buffer-${pod.metadata.name}`).catch(() => undefined);
  const bufferKey = claim?.metadata.uid ?? `${api.url}|${control}/${pod.metadata.name}`;
  let buffer = buffers.get(bufferKey);
  if (!buffer) buffers.set(bufferKey, (buffer = new OutputBuffer()));
  let routing: Routing = logging ? await readRouting(api, logging, control) : { flows: [], outputs: new Map() };
  let dropLines: string[] | undefined = (await ctx.faults()).logging?.dropLines;
  const timing = (key: string): BufferTiming => timingOf(routing.outputs.get(key));

  const receiver: FluentdReceiver = {
    accept(events) {
      for (const ev of events) {
        if (dropLines && matchesAny(String(ev.record.message ?? ''), dropLines)) continue;
        for (const flow of routing.flows) {
          if (!flowSelects(flow, ev.record)) continue;
          const out = applyFilters(flow, ev);
          if (!out) continue;
          for (const key of outputKeys(flow)) if (routing.outputs.has(key)) buffer.add(key, out, timing(key));
        }
      }
    },
  };
  const regKey = `${api.url}|${control}/${name}-fluentd`;
  let set = receivers.get(regKey);
  if (!set) receivers.set(regKey, (set = new Set()));
  set.add(receiver);
  await ctx.log(log(`starting fluentd worker pid=15 ppid=7 worker=0`), log('fluentd worker is now running worker=0'));

  let lastConfig = Date.now();
  let lastError = '';
  try {
    while (!ctx.signal.aborted) {
      await ctx.sleep(simMs(FLUSH_CHECK_MS));
      if (ctx.signal.aborted) break;
      if (Date.now() - lastConfig >= simMs(CONFIG_MS) && logging) {
        routing = await readRouting(api, logging, control).catch(() => routing);
        dropLines = (await ctx.faults()).logging?.dropLines;
        lastConfig = Date.now();
      }
      for (const chunk of buffer.due(Date.now(), timing)) {
        const output = routing.outputs.get(chunk.output);
        if (!output) continue;
        try {
          await writeBulk(api, output, chunk.events, ctx.signal);
          buffer.written(chunk, Date.now(), timing(chunk.output));
        } catch (err) {
          if (ctx.signal.aborted) break;
          buffer.failed(chunk, Date.now(), timing(chunk.output));
          const why = err instanceof Error ? err.message : String(err);
          if (why !== lastError) await ctx.log(log(`failed to flush the buffer. retry_times=${chunk.failures} chunk="${chunk.tag}" error_class=Fluent::Plugin::ElasticsearchOutput::RecoverableRequestFailure error="${why}"`, 'warn'));
          lastError = why;
        }
      }
    }
  } finally {
    set.delete(receiver);
    buffer.stopped(Date.now(), timing);
  }
  return undefined;
}

export const fluentdBehaviour: ImageBehaviour = {
  name: 'logging-fluentd',
  matches: (_image, pod, container, init) => !init && container.name === 'fluentd' && pod.metadata.labels?.['app.kubernetes.io/name'] === 'fluentd',
  run,
};
