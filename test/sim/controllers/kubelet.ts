// The kubelets of all simulated nodes: one PodWorker per pod bound to a known node. A pod
// that is deleted outright ends its workers' log streams; a pod marked for graceful deletion
// (deletionTimestamp) has its containers stopped, its last status written, and is then
// removed with gracePeriodSeconds=0, which is how the real kubelet finishes a delete.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { simLog } from './informer.ts';
import { isTerminal } from './names.ts';
import { PodWorker, type KubeletShared } from './pod-worker.ts';

export interface Kubelet {
  stop(): Promise<void>;
}

export function startKubelet(ctx: ControllerContext): Kubelet {
  const api = ctx.client('kubelet');
  const { pods, nodes } = ctx.informers;
  const workers = new Map<string, PodWorker>();
  const nextIp = new Map<string, number>();

  const shared: KubeletShared = {
    ctx,
    api,
    allocateIp(nodeName) {
      const node = nodes.get(undefined, nodeName);
      const cidr = (node?.spec?.podCIDR as string | undefined) ?? '10.244.0.0/24';
      const prefix = cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
      const n = (nextIp.get(nodeName) ?? 1) + 1;
      nextIp.set(nodeName, n > 254 ? 2 : n);
      return `${prefix}.${n}`;
    },
  };

  let stopped = false;

  function consider(pod: KubeObject): void {
    if (stopped) return;
    const uid = pod.metadata.uid ?? '';
    const existing = workers.get(uid);
    if (existing) {
      existing.update(pod);
      if (pod.metadata.deletionTimestamp) void existing.stop(true);
      return;
    }
    const nodeName = pod.spec?.nodeName as string | undefined;
    if (!nodeName || !nodes.get(undefined, nodeName)) return;
    if (pod.metadata.deletionTimestamp) {
      // Never started here: nothing to stop, just finish the graceful delete.
      void api.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }).catch((err: unknown) => simLog(String(err)));
      return;
    }
    if (isTerminal(pod)) return;
    const worker = new PodWorker(shared, pod);
    workers.set(uid, worker);
    worker.run().catch((err: unknown) => simLog(`pod ${pod.metadata.name}: ${String(err)}`));
  }

  pods.on((type, pod) => {
    if (type === 'DELETED') {
      const w = workers.get(pod.metadata.uid ?? '');
      workers.delete(pod.metadata.uid ?? '');
      if (w) void w.stop(false);
      return;
    }
    consider(pod);
  });
  nodes.on((type) => {
    if (type !== 'DELETED') for (const p of pods.list()) if (!workers.has(p.metadata.uid ?? '')) consider(p);
  });
  for (const p of pods.list()) consider(p);

  return {
    async stop() {
      stopped = true;
      await Promise.all([...workers.values()].map((w) => w.stop(false)));
      workers.clear();
    },
  };
}
