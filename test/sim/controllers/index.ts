// Starts the simulated control plane and kubelets against a fake API server URL. Everything
// here acts only through the server's HTTP API (list/watch, create, patch, status
// subresource, /_sim/logs), like the real components do. Garbage collection and namespace
// termination are done by the API server itself (test/sim/api/lifecycle.ts).
import { SimClient } from '../api-client.ts';
import { startCrds } from './crds.ts';
import { startDaemonSets } from './daemonsets.ts';
import { startDeployments } from './deployments.ts';
import { EventRecorder } from './events.ts';
import { Informer, type WorkQueue } from './informer.ts';
import { startJobs } from './jobs.ts';
import { startKubelet } from './kubelet.ts';
import { startNamespaces } from './namespaces.ts';
import { startReplicaSets } from './replicasets.ts';
import { startScheduler } from './scheduler.ts';
import { startStatefulSets } from './statefulsets.ts';
import { startVolumes } from './volumes.ts';
import { cachedFaults, defaultTiming, makeClientFactory, type ControllerContext, type Informers, type SimTiming } from './context.ts';
import { registerOperatorBehaviours } from './behaviours.ts';
import { operatorControllers } from '../systems.ts';

export type { ControllerContext, SimTiming } from './context.ts';
export { Informer, WorkQueue } from './informer.ts';

export interface ControllerOptions {
  /** Override how long simulated work takes (ms). */
  timing?: Partial<SimTiming>;
  /**
   * More controllers (e.g. simulated operators), started after the built-in ones with the
   * same context (caches, events, clients per actor, faults); stopped before them.
   */
  extra?: ((ctx: ControllerContext) => { stop(): Promise<void> } | void)[];
  /**
   * The simulated operators (test/sim/systems.ts: ECK, logging, Flink), started before `extra`;
   * each acts only once its own workload has a Ready pod. Default true.
   */
  operators?: boolean;
}

export interface Controllers {
  stop(): Promise<void>;
}

const PATHS: Record<keyof Informers, string> = {
  namespaces: '/api/v1/namespaces',
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  deployments: '/apis/apps/v1/deployments',
  replicasets: '/apis/apps/v1/replicasets',
  statefulsets: '/apis/apps/v1/statefulsets',
  daemonsets: '/apis/apps/v1/daemonsets',
  jobs: '/apis/batch/v1/jobs',
  crds: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  pvcs: '/api/v1/persistentvolumeclaims',
  storageclasses: '/apis/storage.k8s.io/v1/storageclasses',
};

export async function startControllers(url: string, opts: ControllerOptions = {}): Promise<Controllers> {
  const abort = new AbortController();
  const base = url.replace(/\/$/, '');
  const client = makeClientFactory(base);
  const reader = new SimClient(base, 'sim-informers');
  const informers = Object.fromEntries(Object.entries(PATHS).map(([k, path]) => [k, new Informer(reader, path, abort.signal)])) as unknown as Informers;
  const ctx: ControllerContext = {
    url: base,
    signal: abort.signal,
    informers,
    events: new EventRecorder(client),
    timing: { ...defaultTiming, ...(opts.timing ?? {}) },
    client,
    faults: cachedFaults(base),
  };
  // Caches first, so that controllers start from a full view (client-go's WaitForCacheSync).
  await Promise.all(Object.values(informers).map((i: Informer) => i.start()));
  const queues: WorkQueue[] = [
    startNamespaces(ctx),
    startCrds(ctx),
    startScheduler(ctx),
    startVolumes(ctx),
    startDeployments(ctx),
    startReplicaSets(ctx),
    startStatefulSets(ctx),
    startDaemonSets(ctx),
    startJobs(ctx),
  ];
  if (opts.operators !== false) registerOperatorBehaviours();
  const kubelet = startKubelet(ctx);
  const extras = [...(opts.operators !== false ? operatorControllers : []), ...(opts.extra ?? [])].map((start) => start(ctx));
  return {
    async stop() {
      // Watches first, so that nothing new starts while the rest winds down.
      abort.abort();
      for (const e of extras) await e?.stop();
      await Promise.all(queues.map((q) => q.stop()));
      await kubelet.stop();
    },
  };
}
