// The ECK operator (StatefulSet `elastic-operator` in `elastic-system`), simulated: for each
// Elasticsearch it renders the node-set StatefulSets, Services and the elastic user's Secret,
// and reports status as ECK does (no phase -> ApplyingChanges/unknown -> Ready/yellow -> green
// shortly after); for each Kibana a Deployment and Service, health red until its pods are Ready
// (which the Kibana container only becomes once its Elasticsearch is usable).
// Knob (`/_sim/faults` `elasticsearch`): hold health (e.g. red) or phase, see SimFaults.
import type { KubeObject, SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { isActive, isPodReady } from '../controllers/names.ts';
import { matchesAny } from '../faults.ts';
import { ES_CLUSTER, ES_TYPE, KB_NAME, elasticUserSecret, esServices, esStatefulSet, kibanaObjects, type NodeSet } from './objects.ts';
import { CustomResourceCache, ensureObject, keyOf, nowTime, operatorLoop, splitKey, writeStatus, type WorkloadRef } from '../controllers/operator-kit.ts';

export const ECK_WORKLOAD: WorkloadRef = { kind: 'StatefulSet', name: 'elastic-operator', namespace: 'elastic-system' };

/** How long a freshly Ready cluster stays yellow before its replicas are allocated (green). */
const GREEN_AFTER_MS = 300;
const RESYNC_MS = 150;

interface Condition {
  type: string;
  status: string;
  message?: string;
  lastTransitionTime?: string;
}

function conditions(prev: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>[]): Condition[] {
  const at = nowTime();
  return next.map((c) => {
    const old = prev?.find((p) => p.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? at) : at };
  });
}

export function startEck(ctx: ControllerContext): { stop(): Promise<void> } {
  const api: SimClient = ctx.client('elastic-operator');
  const es = new CustomResourceCache(ctx, api, 'elasticsearches.elasticsearch.k8s.elastic.co', '/apis/elasticsearch.k8s.elastic.co/v1/elasticsearches');
  const kb = new CustomResourceCache(ctx, api, 'kibanas.kibana.k8s.elastic.co', '/apis/kibana.k8s.elastic.co/v1/kibanas');
  // When each cluster first had all its nodes Ready (health turns green GREEN_AFTER_MS later).
  const readySince = new Map<string, number>();

  async function reconcileEs(namespace: string, name: string): Promise<void> {
    const obj = es.get(namespace, name);
    if (!obj || obj.metadata.deletionTimestamp) return;
    await api.createIfAbsent(`/api/v1/namespaces/${namespace}/secrets`, elasticUserSecret(obj));
    for (const svc of esServices(obj)) await ensureObject(api, svc);
    const nodeSets = (obj.spec?.nodeSets ?? []) as NodeSet[];
    for (const nodeSet of nodeSets) await ensureObject(api, esStatefulSet(obj, nodeSet));

    const want = nodeSets.reduce((n, s) => n + (s.count ?? 1), 0);
    const pods = ctx.informers.pods.list(namespace).filter((p) => p.metadata.labels?.[ES_CLUSTER] === name && p.metadata.labels?.[ES_TYPE] === 'elasticsearch' && isActive(p));
    const ready = pods.filter(isPodReady).length;
    const allReady = want > 0 && ready >= want && pods.length === want;
    const uid = obj.metadata.uid ?? '';
    if (allReady && !readySince.has(uid)) readySince.set(uid, Date.now());
    if (!allReady) readySince.delete(uid);

    const knob = (await ctx.faults()).elasticsearch;
    const knobApplies = knob && (!knob.name || matchesAny(name, [knob.name]));
    let health = 'unknown';
    if (allReady) health = Date.now() - readySince.get(uid)! >= GREEN_AFTER_MS ? 'green' : 'yellow';
    else if (ready > 0) health = 'red';
    if (knobApplies && knob.health && ready > 0) health = knob.health;
    const phase = knobApplies && knob.phase ? knob.phase : allReady ? 'Ready' : 'ApplyingChanges';
    const version = String(obj.spec?.version ?? '');
    const running = pods.filter((p) => p.status?.phase === 'Running').length;
    await writeStatus(api, es, `/apis/elasticsearch.k8s.elastic.co/v1/namespaces/${namespace}/elasticsearches/${name}`, obj, {
      ...(ready > 0 ? { availableNodes: ready } : {}),
      health,
      phase,
      ...(running > 0 ? { version } : {}),
      observedGeneration: obj.metadata.generation ?? 1,
      conditions: conditions(obj.status?.conditions, [
        { type: 'ReconciliationComplete', status: allReady ? 'True' : 'False', ...(allReady ? {} : { message: 'Reconciliation is in progress: waiting for all nodes to be ready' }) },
        { type: 'RunningDesiredVersion', status: running > 0 ? 'True' : 'Unknown', message: running > 0 ? `All nodes are running version ${version}` : 'No running pods' },
        { type: 'ElasticsearchIsReachable', status: ready > 0 ? 'True' : 'False', message: ready > 0 ? `Service ${namespace}/${name}-es-internal-http has endpoints` : `Service ${namespace}/${name}-es-internal-http has no endpoints` },
        { type: 'ResourcesAwareManagement', status: 'True' },
      ]),
    });
  }

  async function reconcileKibana(namespace: string, name: string): Promise<void> {
    const obj = kb.get(namespace, name);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const ref = obj.spec?.elasticsearchRef as { name?: string; namespace?: string } | undefined;
    const esNs = ref?.namespace ?? namespace;
    const target = ref?.name ? es.get(esNs, ref.name) : undefined;
    const association = ref?.name ? (target ? 'Established' : 'Pending') : undefined;
    const url = target ? `https://${target.metadata.name}-es-http.${esNs}.svc:9200` : undefined;
    for (const o of kibanaObjects(obj, url)) await ensureObject(api, o, o.kind === 'Secret' ? ['data'] : ['spec']);

    const want = (obj.spec?.count as number | undefined) ?? 1;
    const pods = ctx.informers.pods.list(namespace).filter((p) => p.metadata.labels?.[KB_NAME] === name && p.metadata.labels?.[ES_TYPE] === 'kibana' && isActive(p));
    const ready = pods.filter(isPodReady).length;
    const green = want > 0 && ready >= want;
    await writeStatus(api, kb, `/apis/kibana.k8s.elastic.co/v1/namespaces/${namespace}/kibanas/${name}`, obj, {
      ...(association ? { associationStatus: association, elasticsearchAssociationStatus: association } : {}),
      ...(ready > 0 ? { availableNodes: ready } : {}),
      ...(pods.length > 0 ? { count: pods.length } : {}),
      health: green ? 'green' : 'red',
      observedGeneration: obj.metadata.generation ?? 1,
      selector: `${ES_TYPE}=kibana,${KB_NAME}=${name}`,
      ...(pods.some((p) => p.status?.phase === 'Running') ? { version: String(obj.spec?.version ?? '') } : {}),
    });
  }

  const keys = (): string[] => [...es.list().map((o) => `es:${keyOf(o)}`), ...kb.list().map((o) => `kb:${keyOf(o)}`)];
  const loop = operatorLoop(ctx, 'elastic-operator', ECK_WORKLOAD, keys, async (key) => {
    const [ns, name] = splitKey(key.slice(3));
    if (key.startsWith('es:')) await reconcileEs(ns, name);
    else await reconcileKibana(ns, name);
  }, RESYNC_MS);
  es.on((o) => {
    loop.queue.add(`es:${keyOf(o)}`);
    // Kibanas referencing it follow its readiness.
    for (const k of kb.list()) loop.queue.add(`kb:${keyOf(k)}`);
  });
  kb.on((o) => loop.queue.add(`kb:${keyOf(o)}`));
  ctx.informers.pods.on((_t, p: KubeObject) => {
    const cluster = p.metadata.labels?.[ES_CLUSTER];
    if (cluster) loop.queue.add(`es:${p.metadata.namespace}/${cluster}`);
    const kibana = p.metadata.labels?.[KB_NAME];
    if (kibana) loop.queue.add(`kb:${p.metadata.namespace}/${kibana}`);
  });
  return loop;
}
