// deployment-controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`),
// rolling updates (new ReplicaSet scaled up, old ones down once it is available; Recreate
// scales old ones down first), status counts, and the Available / Progressing conditions
// with the real reasons (MinimumReplicasAvailable, NewReplicaSetCreated, ReplicaSetUpdated,
// NewReplicaSetAvailable, ProgressDeadlineExceeded).
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import type { WorkQueue } from './informer.ts';
import { now, ownerRef, templateHash } from './names.ts';
import { condition, intOrPercent, omitZero, ownedBy, wireController, writeStatus } from './workload-util.ts';

const SOURCE = { component: 'deployment-controller' };
const REVISION = 'deployment.kubernetes.io/revision';

function specReplicas(rs: KubeObject): number {
  return (rs.spec?.replicas as number | undefined) ?? 0;
}

export function startDeployments(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('deployment-controller');
  const { deployments, replicasets } = ctx.informers;
  // When each Deployment last made progress (for progressDeadlineSeconds).
  const lastProgress = new Map<string, { at: number; mark: string }>();

  async function scale(d: KubeObject, rs: KubeObject, to: number): Promise<void> {
    const from = specReplicas(rs);
    if (from === to) return;
    const ns = d.metadata.namespace!;
    const updated = await api.mergePatch(`/apis/apps/v1/namespaces/${ns}/replicasets/${rs.metadata.name}`, {
      metadata: { annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec?.replicas ?? 1) } },
      spec: { replicas: to },
    });
    replicasets.upsert(updated);
    const verb = to > from ? 'up' : 'down';
    await ctx.events.record(d, SOURCE, { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${to}` });
  }

  async function reconcile(ns: string, name: string): Promise<void> {
    const d = deployments.get(ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const desired = (d.spec?.replicas as number | undefined) ?? 1;
    const collisionCount = (d.status?.collisionCount as number | undefined) ?? 0;
    const hash = templateHash(d.spec?.template, collisionCount);
    const all = ownedBy(replicasets, d);
    let newRs = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const olds = all.filter((rs) => rs !== newRs);
    const recreate = d.spec?.strategy?.type === 'Recreate';
    const paused = d.spec?.paused === true;
    let created = false;

    if (!newRs && !paused) {
      const revision = Math.max(0, ...all.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1;
      const template = structuredClone(d.spec?.template ?? {});
      template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
      const rsName = `${name}-${hash}`;
      const startAt = recreate && olds.some((rs) => specReplicas(rs) > 0 || (rs.status?.replicas ?? 0) > 0) ? 0 : desired;
      newRs = await api.create(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: ns,
          labels: { ...(d.spec?.template?.metadata?.labels ?? {}), 'pod-template-hash': hash },
          annotations: {
            [REVISION]: String(revision),
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + (recreate ? 0 : intOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, desired, '25%', true))),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas: startAt,
          minReadySeconds: d.spec?.minReadySeconds ?? 0,
          selector: {
            ...(d.spec?.selector ?? {}),
            matchLabels: { ...(d.spec?.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
          },
          template,
        },
      });
      replicasets.upsert(newRs);
      created = true;
      if (startAt > 0) await ctx.events.record(d, SOURCE, { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set ${rsName} from 0 to ${startAt}` });
    }

    if (newRs && !paused) {
      if (recreate) {
        for (const rs of olds) await scale(d, rs, 0);
        const oldPods = olds.reduce((n, rs) => n + ((rs.status?.replicas as number | undefined) ?? 0), 0);
        if (oldPods === 0) await scale(d, newRs, desired);
      } else {
        await scale(d, newRs, desired);
        const newAvailable = (newRs.status?.availableReplicas as number | undefined) ?? 0;
        if (newAvailable >= desired) for (const rs of olds) await scale(d, rs, 0);
      }
    }

    const current = ownedBy(replicasets, d);
    const sum = (f: (rs: KubeObject) => number): number => current.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRs ? ((newRs.status?.replicas as number | undefined) ?? 0) : 0;
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(specReplicas);
    const maxUnavailable = recreate || desired === 0 ? 0 : intOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable, desired, '25%', false);
    const at = now();
    const prev = d.status?.conditions as { type: string; status: string; lastTransitionTime?: string; lastUpdateTime?: string; reason?: string; message?: string }[] | undefined;
    const rsName = newRs?.metadata.name ?? `${name}-${hash}`;
    const generation = d.metadata.generation ?? 1;
    const complete = updated === desired && replicas === desired && available === desired && total === desired;

    const mark = `${rsName}/${updated}/${ready}/${available}`;
    const key = `${ns}/${name}`;
    const lp = lastProgress.get(key);
    if (!lp || lp.mark !== mark) lastProgress.set(key, { at: Date.now(), mark });
    const deadlineMs = ((d.spec?.progressDeadlineSeconds as number | undefined) ?? 600) * 1000;
    const stalled = !complete && Date.now() - (lastProgress.get(key)?.at ?? Date.now()) > deadlineMs;

    let progressing: Record<string, unknown>;
    const prevProgress = prev?.find((c) => c.type === 'Progressing');
    if (complete) progressing = condition('Progressing', true, 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, prev, at, true);
    else if (stalled) progressing = condition('Progressing', false, 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, prev, at, true);
    else if (created || !prevProgress || (prevProgress.message === `Created new replica set "${rsName}"` && updated === 0))
      progressing = condition('Progressing', true, 'NewReplicaSetCreated', `Created new replica set "${rsName}"`, prev, at, true);
    else progressing = condition('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, prev, at, true);

    const isAvailable = available >= desired - maxUnavailable;
    const availableCond = isAvailable
      ? condition('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.', prev, at, true)
      : condition('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', prev, at, true);

    await writeStatus(api, deployments, `/apis/apps/v1/namespaces/${ns}/deployments/${name}`, d, {
      observedGeneration: generation,
      ...omitZero({
        replicas,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, total - available),
      }),
      conditions: [availableCond, progressing],
    });
  }

  return wireController(ctx, 'deployment-controller', deployments, [{ informer: replicasets, ownerKind: 'Deployment' }], reconcile, 1000);
}
