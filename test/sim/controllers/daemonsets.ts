// daemonset-controller: one pod per node that the pod template may run on (nodeSelector,
// node affinity, taints - DaemonSet pods get the usual automatic tolerations, but not the
// control-plane one), pinned with node affinity on metadata.name like the real controller
// so that the scheduler places it; replaced when deleted; outdated pods replaced one at a
// time; status desired/current/ready/available/updated counts.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import type { WorkQueue } from './informer.ts';
import { isActive, isPodReady, isTerminal, randomSuffix, templateHash } from './names.ts';
import { nodeMatches, tolerates } from './scheduler.ts';
import { createPod, omitZero, ownedBy, podFromTemplate, wireController, writeStatus } from './workload-util.ts';

const SOURCE = { component: 'daemonset-controller' };

// What the DaemonSet controller adds to every daemon pod (pkg/controller/daemon/util).
const AUTO_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

function withAutoTolerations(tolerations: unknown[] | undefined, hostNetwork: boolean): unknown[] {
  const out = [...(tolerations ?? [])];
  const extra = hostNetwork ? [...AUTO_TOLERATIONS, { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' }] : AUTO_TOLERATIONS;
  for (const t of extra) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(t))) out.push(t);
  return out;
}

/** The node a daemon pod is meant for (its nodeName, or the affinity the controller set). */
function targetNode(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName as string;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name') return f.values?.[0];
  return undefined;
}

export function startDaemonSets(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('daemonset-controller');
  const { daemonsets, pods, nodes } = ctx.informers;

  function eligible(ds: KubeObject, node: KubeObject): boolean {
    const probe: KubeObject = { metadata: {}, spec: { ...(ds.spec?.template?.spec ?? {}), tolerations: withAutoTolerations(ds.spec?.template?.spec?.tolerations, !!ds.spec?.template?.spec?.hostNetwork) } };
    if (!nodeMatches(probe, node)) return false;
    return ((node.spec?.taints ?? []) as { key: string; value?: string; effect: string }[]).every((t) => t.effect === 'PreferNoSchedule' || tolerates(probe.spec.tolerations, t));
  }

  async function reconcile(ns: string, name: string): Promise<void> {
    const ds = daemonsets.get(ns, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const hash = templateHash(ds.spec?.template);
    const targets = nodes.list().filter((n) => eligible(ds, n));
    const targetNames = new Set(targets.map((n) => n.metadata.name!));
    const owned = ownedBy(pods, ds).filter((p) => !p.metadata.deletionTimestamp);
    const byNode = new Map<string, KubeObject[]>();
    for (const p of owned) {
      const n = targetNode(p) ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }

    const remove = async (p: KubeObject): Promise<void> => {
      await api.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`);
      await ctx.events.record(ds, SOURCE, { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${p.metadata.name}` });
    };

    for (const [nodeName, list] of byNode) {
      const keep = targetNames.has(nodeName) ? list.filter((p) => !isTerminal(p)).slice(0, 1) : [];
      for (const p of list) if (!keep.includes(p)) await remove(p);
      byNode.set(nodeName, keep);
    }
    for (const node of targets) {
      const nodeName = node.metadata.name!;
      if (byNode.get(nodeName)?.length) continue;
      let podName = `${name}-${randomSuffix()}`;
      while (pods.get(ns, podName)) podName = `${name}-${randomSuffix()}`;
      const template = ds.spec?.template;
      const pod = podFromTemplate(template, ds, podName, {
        generateName: `${name}-`,
        labels: { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
        spec: {
          tolerations: withAutoTolerations(template?.spec?.tolerations, !!template?.spec?.hostNetwork),
          affinity: {
            ...(template?.spec?.affinity ?? {}),
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
              },
            },
          },
        },
      });
      const created = await createPod(ctx, api, ds, pod, SOURCE.component, (m) => `Error creating: ${m}`);
      byNode.set(nodeName, [created]);
      await ctx.events.record(ds, SOURCE, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${created.metadata.name}` });
    }

    const live = targets.flatMap((n) => byNode.get(n.metadata.name!) ?? []).filter(isActive);
    // RollingUpdate with maxUnavailable 1: replace one outdated pod while all others are ready.
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && live.length === targets.length && live.every(isPodReady)) {
      const outdated = live.find((p) => p.metadata.labels?.['controller-revision-hash'] !== hash);
      if (outdated) await remove(outdated);
    }

    const ready = live.filter(isPodReady).length;
    await writeStatus(api, daemonsets, `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`, ds, {
      desiredNumberScheduled: targets.length,
      currentNumberScheduled: live.length,
      numberMisscheduled: 0,
      numberReady: ready,
      ...omitZero({
        numberAvailable: ready,
        numberUnavailable: Math.max(0, targets.length - ready),
        updatedNumberScheduled: live.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash).length,
      }),
      observedGeneration: ds.metadata.generation ?? 1,
    });
  }

  const queue = wireController(ctx, 'daemonset-controller', daemonsets, [{ informer: pods, ownerKind: 'DaemonSet' }], reconcile, 1000);
  nodes.on(() => {
    for (const ds of daemonsets.list()) queue.add(`${ds.metadata.namespace}/${ds.metadata.name}`);
  });
  return queue;
}
