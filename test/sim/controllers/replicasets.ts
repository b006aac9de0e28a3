// replicaset-controller: keeps `spec.replicas` live pods named `<rs>-<5 chars>` (a deleted
// pod is replaced, which is why killing a Deployment's pod yields a new one) and reports
// replicas / fullyLabeledReplicas / readyReplicas / availableReplicas / observedGeneration.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import type { WorkQueue } from './informer.ts';
import { isActive, isPodReady, randomSuffix, selectorMatches } from './names.ts';
import { createPod, omitZero, ownedBy, podFromTemplate, wireController, writeStatus } from './workload-util.ts';

const SOURCE = { component: 'replicaset-controller' };

/** Which pods to remove first when scaling down: unscheduled, then not ready, then newest. */
function deletionRank(p: KubeObject): [number, number, number] {
  return [p.spec?.nodeName ? 1 : 0, isPodReady(p) ? 1 : 0, -Date.parse(p.metadata.creationTimestamp ?? '') || 0];
}

export function startReplicaSets(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('replicaset-controller');
  const { replicasets, pods } = ctx.informers;

  async function reconcile(ns: string, name: string): Promise<void> {
    const rs = replicasets.get(ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const base = `/apis/apps/v1/namespaces/${ns}/replicasets/${name}`;
    const active = ownedBy(pods, rs).filter(isActive);
    const want = (rs.spec?.replicas as number | undefined) ?? 1;

    for (let i = active.length; i < want; i++) {
      let podName = `${name}-${randomSuffix()}`;
      while (pods.get(ns, podName)) podName = `${name}-${randomSuffix()}`;
      const pod = podFromTemplate(rs.spec?.template, rs, podName, { generateName: `${name}-` });
      const created = await createPod(ctx, api, rs, pod, SOURCE.component, (m) => `Error creating: ${m}`);
      active.push(created);
      await ctx.events.record(rs, SOURCE, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${created.metadata.name}` });
    }
    if (active.length > want) {
      const doomed = [...active].sort((a, b) => {
        const ra = deletionRank(a);
        const rb = deletionRank(b);
        return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
      }).slice(0, active.length - want);
      for (const p of doomed) {
        await api.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`);
        active.splice(active.indexOf(p), 1);
        await ctx.events.record(rs, SOURCE, { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${p.metadata.name}` });
      }
    }

    const ready = active.filter(isPodReady).length;
    await writeStatus(api, replicasets, base, rs, {
      replicas: active.length,
      ...omitZero({
        fullyLabeledReplicas: active.filter((p) => selectorMatches({ matchLabels: rs.spec?.template?.metadata?.labels }, p.metadata.labels)).length,
        readyReplicas: ready,
        availableReplicas: ready,
      }),
      observedGeneration: rs.metadata.generation ?? 1,
    });
  }

  return wireController(ctx, 'replicaset-controller', replicasets, [{ informer: pods, ownerKind: 'ReplicaSet' }], reconcile, 2000);
}
