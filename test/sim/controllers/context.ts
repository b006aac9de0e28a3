// What every simulated controller gets: shared caches, an event recorder, a client per
// actor (so the audit log says which controller wrote what), the fault knobs, and timings.
import { SimClient } from '../api-client.ts';
import { readFaults, type SimFaults } from '../faults.ts';
import type { EventRecorder } from './events.ts';
import type { Informer } from './informer.ts';

/** How long simulated work takes, in ms. Small by default so tests stay fast. */
export interface SimTiming {
  /** Pod sandbox setup before the first container is handled. */
  sandboxMs: number;
  /** An image pull that is not already on the node. */
  pullMs: number;
  /** Pulls that take longer than pullMs: the first entry whose regex matches the image (as written in the pod) wins. */
  pullMsByImage?: Array<{ image: string; ms: number }>;
  /** Container create + start. */
  startMs: number;
  /** First retry of a failed pull or a crashed container; doubles up to backoffMaxMs. */
  backoffMs: number;
  backoffMaxMs: number;
  /** CRD names accepted and Established after creation. */
  crdEstablishMs: number;
  /** Volume provisioning by the local-path provisioner. */
  provisionMs: number;
}

export const defaultTiming: SimTiming = {
  sandboxMs: 20,
  pullMs: 30,
  startMs: 10,
  backoffMs: 300,
  backoffMaxMs: 2000,
  crdEstablishMs: 50,
  provisionMs: 30,
};

export interface Informers {
  namespaces: Informer;
  nodes: Informer;
  pods: Informer;
  deployments: Informer;
  replicasets: Informer;
  statefulsets: Informer;
  daemonsets: Informer;
  jobs: Informer;
  crds: Informer;
  pvcs: Informer;
  storageclasses: Informer;
}

export interface ControllerContext {
  readonly url: string;
  readonly signal: AbortSignal;
  readonly informers: Informers;
  readonly events: EventRecorder;
  readonly timing: SimTiming;
  client(actor: string): SimClient;
  faults(): Promise<SimFaults>;
}

/**
 * Fault reads are frequent (readiness ticks), so one GET serves everyone for a few ms. A value
 * counts from when its request STARTED: a knob set before an action is then always seen by
 * decisions made more than `ttlMs` later.
 */
export function cachedFaults(url: string, ttlMs = 10): () => Promise<SimFaults> {
  let at = 0;
  let pending: Promise<SimFaults> | undefined;
  let value: SimFaults = {};
  return async () => {
    if (Date.now() - at < ttlMs) return value;
    if (!pending) {
      const started = Date.now();
      pending = readFaults(url, 'sim-controllers')
        .then((f) => {
          value = f;
          at = started;
          return f;
        })
        // the server is down or faulted: keep acting on the last knobs seen
        .catch(() => value)
        .finally(() => {
          pending = undefined;
        });
    }
    return pending;
  };
}

export function makeClientFactory(url: string): (actor: string) => SimClient {
  const clients = new Map<string, SimClient>();
  return (actor) => {
    let c = clients.get(actor);
    if (!c) clients.set(actor, (c = new SimClient(url, actor)));
    return c;
  };
}
