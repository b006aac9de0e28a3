// statefulset-controller: pods `<name>-<ordinal>` with stable names, created in order (each
// waits for the previous one to be Running and Ready) unless podManagementPolicy is
// Parallel; PVCs `<claim>-<name>-<ordinal>` from volumeClaimTemplates; scale-down from the
// highest ordinal; RollingUpdate replaces outdated pods from the highest ordinal, one at a
// time; status with current/update revisions.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import type { WorkQueue } from './informer.ts';
import { isActive, isPodReady, isTerminal, templateHash } from './names.ts';
import { createPod, omitZero, ownedBy, podFromTemplate, wireController, writeStatus } from './workload-util.ts';

const SOURCE = { component: 'statefulset-controller' };

function ordinalOf(setName: string, pod: KubeObject): number {
  const m = new RegExp(`^${setName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(pod.metadata.name ?? '');
  return m ? Number(m[1]) : -1;
}

export function startStatefulSets(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('statefulset-controller');
  const { statefulsets, pods, pvcs } = ctx.informers;

  async function ensureClaims(sts: KubeObject, ordinal: number): Promise<{ name: string; persistentVolumeClaim: { claimName: string } }[]> {
    const ns = sts.metadata.namespace!;
    const name = sts.metadata.name!;
    const volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] = [];
    for (const tpl of (sts.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const claimName = `${tpl.metadata.name}-${name}-${ordinal}`;
      volumes.push({ name: tpl.metadata.name!, persistentVolumeClaim: { claimName } });
      if (pvcs.get(ns, claimName)) continue;
      const created = await api.createIfAbsent(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claimName, namespace: ns, labels: { ...(sts.spec?.selector?.matchLabels ?? {}), ...(tpl.metadata.labels ?? {}) } },
        spec: { volumeMode: 'Filesystem', ...structuredClone(tpl.spec ?? {}) },
      });
      if (created) {
        pvcs.upsert(created);
        await ctx.events.record(sts, SOURCE, { type: 'Normal', reason: 'SuccessfulCreate', message: `create Claim ${claimName} Pod ${name}-${ordinal} in StatefulSet ${name} success` });
      }
    }
    return volumes;
  }

  async function createOrdinal(sts: KubeObject, ordinal: number, revision: string): Promise<KubeObject | undefined> {
    const ns = sts.metadata.namespace!;
    const name = sts.metadata.name!;
    const podName = `${name}-${ordinal}`;
    if (pods.get(ns, podName)) return undefined; // the previous incarnation is still terminating
    const claimVolumes = await ensureClaims(sts, ordinal);
    const pod = podFromTemplate(sts.spec?.template, sts, podName, {
      labels: { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(ordinal) },
      spec: { hostname: podName, ...(sts.spec?.serviceName ? { subdomain: sts.spec.serviceName } : {}) },
    });
    const volumes = ((pod.spec.volumes ?? []) as { name: string }[]).filter((v) => !claimVolumes.some((c) => c.name === v.name));
    pod.spec.volumes = [...volumes, ...claimVolumes];
    if (pod.spec.volumes.length === 0) delete pod.spec.volumes;
    const created = await createPod(ctx, api, sts, pod, SOURCE.component, (m) => `create Pod ${podName} in StatefulSet ${name} failed error: ${m}`);
    await ctx.events.record(sts, SOURCE, { type: 'Normal', reason: 'SuccessfulCreate', message: `create Pod ${podName} in StatefulSet ${name} successful` });
    return created;
  }

  async function deletePod(sts: KubeObject, pod: KubeObject): Promise<void> {
    await api.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`);
    await ctx.events.record(sts, SOURCE, { type: 'Normal', reason: 'SuccessfulDelete', message: `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful` });
  }

  async function reconcile(ns: string, name: string): Promise<void> {
    const sts = statefulsets.get(ns, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const replicas = (sts.spec?.replicas as number | undefined) ?? 1;
    const parallel = sts.spec?.podManagementPolicy === 'Parallel';
    const revision = `${name}-${templateHash(sts.spec?.template)}`;
    const owned = ownedBy(pods, sts);
    const byOrdinal = new Map<number, KubeObject>();
    for (const p of owned) byOrdinal.set(ordinalOf(name, p), p);
    const healthy = (p: KubeObject | undefined): boolean => !!p && isActive(p) && p.status?.phase === 'Running' && isPodReady(p);

    // Create or replace, in ordinal order.
    for (let i = 0; i < replicas; i++) {
      const p = byOrdinal.get(i);
      if (p && isTerminal(p)) {
        await deletePod(sts, p);
        byOrdinal.delete(i);
        if (!parallel) break;
        continue;
      }
      if (!p) {
        const created = await createOrdinal(sts, i, revision);
        if (created) byOrdinal.set(i, created);
        if (!parallel) break;
        continue;
      }
      if (!parallel && !healthy(p)) break;
    }

    // Scale down from the highest ordinal.
    const extra = [...byOrdinal.entries()].filter(([i, p]) => (i >= replicas || i < 0) && !p.metadata.deletionTimestamp).sort((a, b) => b[0] - a[0]);
    for (const [i, p] of extra) {
      await deletePod(sts, p);
      byOrdinal.delete(i);
      if (!parallel) break;
    }

    // Rolling update: once everything is healthy, replace the highest outdated pod.
    const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
    const partition = (sts.spec?.updateStrategy?.rollingUpdate?.partition as number | undefined) ?? 0;
    const inRange = [...byOrdinal.entries()].filter(([i]) => i >= 0 && i < replicas);
    if (strategy === 'RollingUpdate' && inRange.length === replicas && inRange.every(([, p]) => healthy(p))) {
      const outdated = inRange.filter(([i, p]) => i >= partition && p.metadata.labels?.['controller-revision-hash'] !== revision).sort((a, b) => b[0] - a[0]);
      if (outdated[0]) {
        await deletePod(sts, outdated[0][1]);
        byOrdinal.delete(outdated[0][0]);
      }
    }

    const live = [...byOrdinal.values()].filter(isActive);
    const updatedReplicas = live.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
    const currentRevision = updatedReplicas === replicas && live.length === replicas ? revision : ((sts.status?.currentRevision as string | undefined) ?? revision);
    const ready = live.filter(isPodReady).length;
    await writeStatus(api, statefulsets, `/apis/apps/v1/namespaces/${ns}/statefulsets/${name}`, sts, {
      observedGeneration: sts.metadata.generation ?? 1,
      replicas: live.length,
      ...omitZero({
        readyReplicas: ready,
        currentReplicas: live.filter((p) => p.metadata.labels?.['controller-revision-hash'] === currentRevision).length,
        updatedReplicas,
      }),
      availableReplicas: ready,
      currentRevision,
      updateRevision: revision,
      collisionCount: 0,
    });
  }

  // Claims are not owned by the set: they outlive it, as with the default retention policy.
  return wireController(ctx, 'statefulset-controller', statefulsets, [{ informer: pods, ownerKind: 'StatefulSet' }], reconcile, 1000);
}
