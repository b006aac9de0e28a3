// `helm --wait`: list, then watch, the collections a release created until every one of its
// workloads is ready by helm's rules, or the deadline passes.
import type { KubeObject, SimClient } from '../api-client.ts';

/** helm's readiness rules (pkg/kube/ready.go), reduced to what the status fields say. */
export function workloadReady(obj: KubeObject): boolean {
  const st = obj.status ?? {};
  const generation = obj.metadata.generation ?? 0;
  if (generation && (st.observedGeneration ?? 0) < generation) return false;
  switch (obj.kind) {
    case 'Deployment': {
      const replicas = (obj.spec?.replicas as number | undefined) ?? 1;
      const mu = obj.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%';
      const maxUnavailable = obj.spec?.strategy?.type === 'Recreate' ? 0 : typeof mu === 'number' ? mu : Math.floor((Number(String(mu).replace('%', '')) * replicas) / 100);
      return (st.updatedReplicas ?? 0) >= replicas && (st.readyReplicas ?? 0) >= replicas - maxUnavailable;
    }
    case 'StatefulSet': {
      const replicas = (obj.spec?.replicas as number | undefined) ?? 1;
      return (st.readyReplicas ?? 0) >= replicas && (st.updatedReplicas ?? 0) >= replicas;
    }
    case 'DaemonSet':
      return (st.desiredNumberScheduled ?? 0) > 0 ? (st.numberReady ?? 0) >= st.desiredNumberScheduled && (st.updatedNumberScheduled ?? 0) >= st.desiredNumberScheduled : true;
    default:
      return true;
  }
}

const KINDS: Record<string, string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };

/** Resolves true when all `names` in the collection are ready, false at the deadline. */
export async function waitForWorkloads(api: SimClient, collection: string, names: string[], deadline: number): Promise<boolean> {
  if (names.length === 0) return true;
  const latest = new Map<string, KubeObject>();
  // Items of a list carry no kind (as from kube-apiserver): the collection says it.
  const kind = KINDS[collection.split('/').pop() ?? ''];
  const done = (): boolean => names.every((n) => {
    const o = latest.get(n);
    return o !== undefined && workloadReady(o);
  });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
  try {
    while (!abort.signal.aborted) {
      const list = await api.list(collection);
      for (const o of list.items) latest.set(o.metadata.name!, { ...o, kind: o.kind ?? kind });
      if (done()) return true;
      let rv = list.metadata.resourceVersion;
      let ready = false;
      try {
        await api.watch(collection, { resourceVersion: rv, signal: abort.signal }, (ev) => {
          if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') return;
          rv = ev.object.metadata.resourceVersion;
          if (ev.type === 'DELETED') latest.delete(ev.object.metadata.name!);
          else latest.set(ev.object.metadata.name!, { ...ev.object, kind: ev.object.kind ?? kind });
          if (!ready && done()) {
            ready = true;
            abort.abort();
          }
        });
      } catch {
        // dropped stream or refused request: re-list and watch again
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 100));
      }
      if (ready) return true;
    }
    return done();
  } finally {
    clearTimeout(timer);
  }
}
