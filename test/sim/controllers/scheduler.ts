// default-scheduler: binds pending pods to a Ready node that matches their nodeSelector and
// required node affinity, tolerates the node's NoSchedule/NoExecute taints (kind's
// control-plane taint included), has room for their requests, and holds their local volumes.
// Pods that fit nowhere get PodScheduled=False/Unschedulable and a FailedScheduling event
// worded like the real one, and are retried whenever nodes, pods or claims change.
import { ApiError, type KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { WorkQueue, keyOf } from './informer.ts';
import { isActive, now } from './names.ts';
import { parseQuantity } from './quantity.ts';

const SOURCE = { component: 'default-scheduler' };
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const vals = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && vals.includes(value);
    case 'NotIn':
      return value === undefined || !vals.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(vals[0]);
    default:
      return false;
  }
}

/** nodeSelector AND required node affinity (terms ORed, requirements ANDed). */
export function nodeMatches(pod: KubeObject, node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as
    | { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }[]
    | undefined;
  if (!terms || terms.length === 0) return true;
  return terms.some(
    (t) =>
      (t.matchExpressions ?? []).every((r) => requirementMatches(r, labels[r.key])) &&
      (t.matchFields ?? []).every((r) => requirementMatches(r, r.key === 'metadata.name' ? node.metadata.name : undefined)),
  );
}

export function isNodeReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

interface Requests {
  cpu: number;
  memory: number;
}

/** Effective requests: sum over containers vs the largest init container (requests default to limits). */
export function podRequests(pod: KubeObject): Requests {
  const one = (c: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }): Requests => ({
    cpu: parseQuantity(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu),
    memory: parseQuantity(c.resources?.requests?.memory ?? c.resources?.limits?.memory),
  });
  const sum = { cpu: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) {
    const r = one(c);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = one(c);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

/** Why a node cannot take the pod, in the scheduler's words; undefined when it can. */
function unfit(pod: KubeObject, node: KubeObject, podsOnNode: KubeObject[]): string | undefined {
  if (node.spec?.unschedulable) return 'node(s) were unschedulable';
  const taints: Taint[] = [...(node.spec?.taints ?? [])];
  if (!isNodeReady(node) && !taints.some((t) => t.key === 'node.kubernetes.io/not-ready')) {
    taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
  }
  // Filter plugins run in the default profile's order: TaintToleration before NodeAffinity.
  for (const t of taints) {
    if (t.effect === 'PreferNoSchedule') continue;
    if (!tolerates(pod.spec?.tolerations, t)) return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
  }
  if (!nodeMatches(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
  const alloc = node.status?.allocatable ?? {};
  const maxPods = parseQuantity(alloc.pods ?? '110');
  if (podsOnNode.length + 1 > maxPods) return 'Too many pods';
  const used = podsOnNode.map(podRequests).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 });
  const want = podRequests(pod);
  if (alloc.cpu !== undefined && used.cpu + want.cpu > parseQuantity(alloc.cpu) + 1e-9) return 'Insufficient cpu';
  if (alloc.memory !== undefined && used.memory + want.memory > parseQuantity(alloc.memory)) return 'Insufficient memory';
  return undefined;
}

export function startScheduler(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('default-scheduler');
  const { pods, nodes, pvcs } = ctx.informers;
  const lastMessage = new Map<string, string>();

  const pending = (): KubeObject[] => pods.list().filter((p) => !p.spec?.nodeName && isActive(p));
  const requeueAll = (): void => {
    for (const p of pending()) queue.add(keyOf(p));
  };

  async function schedule(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const pod = pods.get(ns, name);
    if (!pod || pod.spec?.nodeName || !isActive(pod)) return;
    if (pod.spec?.schedulerName && pod.spec.schedulerName !== 'default-scheduler') return;
    const all = nodes.list();
    let message: string | undefined;

    // Claims: must exist; a claim already provisioned pins the pod to its node.
    let pinnedNode: string | undefined;
    const claims: KubeObject[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName as string | undefined;
      if (!claimName) continue;
      const pvc = pvcs.get(ns, claimName);
      if (!pvc) {
        message = `0/${all.length} nodes are available: persistentvolumeclaim "${claimName}" not found. preemption: 0/${all.length} nodes are available: ${all.length} Preemption is not helpful for scheduling.`;
        break;
      }
      claims.push(pvc);
      const sel = pvc.metadata.annotations?.[SELECTED_NODE];
      if (sel && pvc.status?.phase === 'Bound') pinnedNode = sel;
    }

    let chosen: KubeObject | undefined;
    if (!message) {
      const reasons = new Map<string, number>();
      const fit: { node: KubeObject; load: number }[] = [];
      for (const node of all) {
        const onNode = pods.list().filter((p) => p.spec?.nodeName === node.metadata.name && isActive(p));
        const why =
          pinnedNode && node.metadata.name !== pinnedNode ? "node(s) didn't match PersistentVolume's node affinity" : unfit(pod, node, onNode);
        if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
        else fit.push({ node, load: onNode.length });
      }
      fit.sort((a, b) => a.load - b.load || String(a.node.metadata.name).localeCompare(String(b.node.metadata.name)));
      chosen = fit[0]?.node;
      if (!chosen) {
        const parts = [...reasons].map(([why, n]) => `${n} ${why}`).sort();
        message =
          all.length === 0
            ? 'no nodes available to schedule pods'
            : `0/${all.length} nodes are available: ${parts.join(', ')}. preemption: 0/${all.length} nodes are available: ${all.length} Preemption is not helpful for scheduling.`;
      }
    }

    if (!chosen) {
      if (lastMessage.get(pod.metadata.uid ?? key) === message) return;
      lastMessage.set(pod.metadata.uid ?? key, message!);
      const updated = await api.mergePatch(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
        status: {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now() }],
        },
      });
      pods.upsert(updated);
      await ctx.events.record(pod, SOURCE, { type: 'Warning', reason: 'FailedScheduling', message: message! });
      return;
    }

    const nodeName = chosen.metadata.name!;
    // WaitForFirstConsumer: the scheduler picks the node, the provisioner then creates the volume there.
    for (const pvc of claims) {
      if (pvc.status?.phase !== 'Bound' && !pvc.metadata.annotations?.[SELECTED_NODE]) {
        pvcs.upsert(await api.mergePatch(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${pvc.metadata.name}`, { metadata: { annotations: { [SELECTED_NODE]: nodeName } } }));
      }
    }
    // The condition goes first: once the pod is bound the kubelet owns its status (the real
    // API server sets it together with nodeName when it handles the Binding).
    pods.upsert(
      await api.mergePatch(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
        status: { conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }] },
      }),
    );
    await bind(ns, name, nodeName);
    lastMessage.delete(pod.metadata.uid ?? key);
    await ctx.events.record(pod, SOURCE, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${ns}/${name} to ${nodeName}` });
  }

  async function bind(ns: string, name: string, nodeName: string): Promise<void> {
    try {
      await api.create(`/api/v1/namespaces/${ns}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      const fresh = await api.get(`/api/v1/namespaces/${ns}/pods/${name}`);
      if (fresh) pods.upsert(fresh);
    } catch (err) {
      if (!(err instanceof ApiError) || ![404, 405].includes(err.status)) throw err;
      if ((await api.get(`/api/v1/namespaces/${ns}/pods/${name}`)) === undefined) return; // the pod is gone
      // A server without the binding subresource: set the field directly.
      pods.upsert(await api.mergePatch(`/api/v1/namespaces/${ns}/pods/${name}`, { spec: { nodeName } }));
    }
  }

  const queue = new WorkQueue('scheduler', schedule);
  pods.on((type, pod) => {
    if (type === 'DELETED') {
      lastMessage.delete(pod.metadata.uid ?? '');
      if (pod.spec?.nodeName) requeueAll();
      return;
    }
    if (!pod.spec?.nodeName && isActive(pod)) queue.add(keyOf(pod));
  });
  nodes.on(requeueAll);
  pvcs.on(requeueAll);
  requeueAll();
  return queue;
}
