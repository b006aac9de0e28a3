// fluent-bit, the node agent of a Logging (DaemonSet `<agent>-fluentbit`), simulated as a
// container behaviour with the configuration the logging operator renders for containerd
// (pkg/resources/fluentbit): the tail input reads every container log on its node (new pods are
// found every Refresh_Interval 5 s, new files read from their first line), the `cri` parser makes
// each line a record {stream, logtag, message} timed by the runtime, the kubernetes filter adds
// `kubernetes` (pod_name, namespace_name, pod_id, labels, annotations, host, container_name,
// docker_id, container_hash, container_image: the keys of fluent-bit's filter_kubernetes), and
// the forward output sends records to the Logging's fluentd every Flush 1 s, retrying without
// limit while no fluentd is ready.
// The tail database (on the node, so it outlasts the pod) records positions one flush behind
// what was delivered, so a restarted fluent-bit sends its last flush again: duplicates, never
// gaps, around fluent-bit restarts.
import type { KubeObject, SimClient } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { simMs } from '../time-scale.ts';
import type { FluentEvent, KubernetesMeta } from './filters.ts';
import { fluentdReceiver } from './fluentd.ts';
import { type Position, tailLog } from './tail.ts';

const GROUP = '/apis/logging.banzaicloud.io/v1beta1';
/** [SERVICE] Flush 1. */
const FLUSH_MS = 1000;
/** [INPUT] tail Refresh_Interval 5. */
const REFRESH_MS = 5000;

// Tail databases by node (uid): file -> position.
const tailDbs = new Map<string, Map<string, Position>>();

interface Pending {
  file: string;
  at: Position;
  event: FluentEvent;
}

function containerId(pod: KubeObject, container: string): { id?: string; status?: Record<string, any> } {
  const status = ((pod.status?.containerStatuses ?? []) as Record<string, any>[]).find((s) => s.name === container);
  const id = typeof status?.containerID === 'string' ? status.containerID.replace(/^[a-z]+:\/\//, '') : undefined;
  return { id, status };
}

function metadata(pod: KubeObject, container: string): KubernetesMeta {
  const { id, status } = containerId(pod, container);
  const m = pod.metadata;
  return {
    pod_name: m.name!,
    namespace_name: m.namespace!,
    ...(m.uid ? { pod_id: m.uid } : {}),
    ...(m.labels ? { labels: { ...m.labels } } : {}),
    ...(m.annotations ? { annotations: { ...m.annotations } } : {}),
    ...(pod.spec?.nodeName ? { host: pod.spec.nodeName } : {}),
    container_name: container,
    ...(id ? { docker_id: id } : {}),
    ...(status?.imageID ? { container_hash: status.imageID } : {}),
    ...(status?.image ? { container_image: status.image } : {}),
  };
}

/** The fluentd Service this agent forwards to: `<logging>-fluentd` of the Logging it belongs to. */
async function fluentdService(api: SimClient, pod: KubeObject): Promise<string | undefined> {
  const owner = pod.metadata.labels?.['app.kubernetes.io/managed-by'];
  if (!owner) return undefined;
  const direct = await api.get<KubeObject>(`${GROUP}/loggings/${owner}`).catch(() => undefined);
  if (direct?.spec?.fluentbit) return `${owner}-fluentd`;
  const agent = await api.get<KubeObject>(`${GROUP}/fluentbitagents/${owner}`).catch(() => undefined);
  const ref = (agent?.spec?.loggingRef as string | undefined) ?? '';
  const loggings = (await api.list(`${GROUP}/loggings`)).items;
  const logging = loggings.find((l) => ((l.spec?.loggingRef as string | undefined) ?? '') === ref && l.spec?.controlNamespace === pod.metadata.namespace);
  return logging ? `${logging.metadata.name}-fluentd` : undefined;
}

function restartCount(pod: KubeObject | undefined, container: string): number {
  const s = ((pod?.status?.containerStatuses ?? []) as { name: string; restartCount?: number }[]).find((c) => c.name === container);
  return s?.restartCount ?? 0;
}

async function run(ctx: ContainerContext): Promise<undefined> {
  const { api, pod: self, signal } = ctx;
  const node = await api.get<KubeObject>(`/api/v1/nodes/${ctx.nodeName}`).catch(() => undefined);
  const dbKey = node?.metadata.uid ?? `${api.url}|${ctx.nodeName}`;
  let db = tailDbs.get(dbKey);
  if (!db) tailDbs.set(dbKey, (db = new Map()));
  const service = await fluentdService(api, self);
  const outbox: Pending[] = [];
  // Per file: where the last delivered flush ended (the database gets it one flush later).
  const delivered = new Map<string, Position>();
  const tailing = new Set<string>();

  // What each file's reader got to in this process; a restarted fluent-bit starts from the database.
  const readAt = new Map<string, Position>();

  const tailContainer = async (pod: KubeObject, container: string): Promise<void> => {
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const path = `/api/v1/namespaces/${ns}/pods/${name}`;
    let attempt = restartCount(pod, container);
    let previous = false;
    while (!signal.aborted) {
      const file = `${pod.metadata.uid}/${container}/${attempt}`;
      const meta = metadata((await api.get<KubeObject>(path).catch(() => undefined)) ?? pod, container);
      const tag = `kubernetes.var.log.containers.${name}_${ns}_${container}-${meta.docker_id ?? ''}.log`;
      const onLine = (text: string, time: number, at: Position): void => {
        readAt.set(file, at);
        outbox.push({ file, at, event: { tag, time, record: { stream: 'stdout', logtag: 'F', message: text, kubernetes: meta } } });
      };
      await tailLog({ simUrl: api.url, namespace: ns, pod: name, container, previous }, readAt.get(file) ?? db.get(file), onLine, signal);
      if (signal.aborted) return;
      const now = await api.get<KubeObject>(path).catch(() => undefined);
      // The pod is gone, and its log files with it.
      if (!now || now.metadata.uid !== pod.metadata.uid) return;
      const count = restartCount(now, container);
      if (!previous && count === attempt + 1) {
        // The attempt ended and the next one started: read what is left of it first.
        previous = true;
        continue;
      }
      if (previous || count > attempt) {
        previous = false;
        attempt = count;
        continue;
      }
      if (['Succeeded', 'Failed'].includes(String(now.status?.phase))) return;
      // Not started yet, ended without a restart so far, or the stream broke: look again shortly.
      await ctx.sleep(simMs(REFRESH_MS));
    }
  };

  const discover = async (): Promise<void> => {
    const pods = (await api.list('/api/v1/pods', { fieldSelector: `spec.nodeName=${ctx.nodeName}` }).catch(() => ({ items: [] as KubeObject[] }))).items;
    for (const p of pods) {
      for (const c of (p.spec?.containers ?? []) as { name: string }[]) {
        const key = `${p.metadata.uid}/${c.name}`;
        if (tailing.has(key)) continue;
        tailing.add(key);
        void tailContainer(p, c.name).finally(() => tailing.delete(key));
      }
    }
  };

  const flush = (): void => {
    if (outbox.length === 0 || !service) return;
    const fluentd = fluentdReceiver(api.url, self.metadata.namespace!, service);
    if (!fluentd) return;
    const batch = outbox.splice(0, outbox.length);
    fluentd.accept(batch.map((p) => p.event));
    const ends = new Map<string, Position>();
    for (const p of batch) ends.set(p.file, p.at);
    for (const [file, at] of ends) {
      const before = delivered.get(file);
      if (before) db.set(file, before);
      delivered.set(file, at);
    }
  };

  await ctx.log(`[${new Date().toISOString()}] [ info] [fluent bit] version=3.2.10`, `[${new Date().toISOString()}] [ info] [input:tail:tail.0] initializing`);
  let lastScan = 0;
  while (!signal.aborted) {
    if (Date.now() - lastScan >= simMs(REFRESH_MS)) {
      lastScan = Date.now();
      await discover();
    }
    flush();
    await ctx.sleep(simMs(FLUSH_MS));
  }
  return undefined;
}

export const fluentbitBehaviour: ImageBehaviour = {
  name: 'logging-fluent-bit',
  matches: (_image, pod, container, init) => !init && container.name === 'fluent-bit' && pod.metadata.labels?.['app.kubernetes.io/name'] === 'fluentbit',
  run,
};
