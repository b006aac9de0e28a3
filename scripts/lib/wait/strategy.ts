// Waits as values. A step's readiness gate is a list of strategies, each of which says what it
// awaits: that sentence is the line `up --dry-run` prints, the progress line while it runs and
// the subject of its timeout. runGate() runs a gate's strategies in order under ONE deadline,
// so a step's gate takes at most the step's timeout, however many waits it holds.
import { describeRef, type Kube, type KubeObject, type ObjectRef } from '../kube/kube.ts';
import { conditionCheck, jsonPathCheck, rolloutCheck, type CheckResult } from './checks.ts';
import { systemClock, type WaitOptions } from './loop.ts';

/** Connects on first use: a plan builds strategies without a cluster, only run() needs one. */
export type KubeSource = () => Promise<Kube>;

export interface WaitStrategy {
  /** What is awaited, as a sentence: "rollout of Deployment minio/minio". */
  readonly what: string;
  /** Waits until it holds; `opts.deadline` is the gate's, shared with the other strategies. */
  run(kube: KubeSource, opts: WaitOptions): Promise<void>;
}

/** The loops live in wait.ts, which loads the Kubernetes client: only a running gate needs them. */
const loops = async (): Promise<typeof import('./wait.ts').Wait> => (await import('./wait.ts')).Wait;

function objectWait(ref: ObjectRef, what: string, check: (obj: KubeObject | undefined) => CheckResult, hint?: string): WaitStrategy {
  return {
    what,
    async run(kube, opts) {
      await (await loops()).forObject(await kube(), ref, check, what, hint ? { ...opts, hint } : opts);
    },
  };
}

/** The strategies a gate is made of. */
export const Ready = {
  /** Deployment, StatefulSet or DaemonSet: observedGeneration current, every replica updated and available. */
  rollout(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, namespace: string): WaitStrategy {
    const ref = { apiVersion: 'apps/v1', kind, name, namespace };
    return objectWait(ref, `rollout of ${describeRef(ref)}`, rolloutCheck);
  },

  /** The object's condition `type` has `status` (for its current generation). */
  condition(ref: ObjectRef, type: string, status = 'True'): WaitStrategy {
    return objectWait(ref, `${describeRef(ref)} condition ${type}=${status}`, (obj) => conditionCheck(obj, type, status));
  },

  /** The first value at a kubectl-style JSONPath equals `expected`. */
  jsonPath(ref: ObjectRef, path: string, expected: string): WaitStrategy {
    return objectWait(ref, `${describeRef(ref)} ${path} to be ${expected}`, (obj) => jsonPathCheck(obj, path, expected));
  },

  /** Any test of one object (or its absence), described by `what`; `hint` says what to do when it times out. */
  object(ref: ObjectRef, what: string, check: (obj: KubeObject | undefined) => CheckResult, hint?: string): WaitStrategy {
    return objectWait(ref, what, check, hint);
  },

  /** At least `min` pods match the selector, and every live one is Ready. */
  podsReady(namespace: string, labelSelector: string, min = 1): WaitStrategy {
    return {
      what: `${min > 1 ? `${min} ready pods` : 'ready pods'} ${labelSelector} in ${namespace}`,
      async run(kube, opts) {
        await (await loops()).forPodsReady(await kube(), namespace, labelSelector, { ...opts, min });
      },
    };
  },

  /** A server-side dry-run create of the objects is accepted by admission (the webhooks answer). */
  dryRunAccepted(what: string, objects: () => Promise<KubeObject[]>): WaitStrategy {
    return {
      what,
      async run(kube, opts) {
        await (await loops()).forDryRunAccepted(await kube(), await objects(), what, opts);
      },
    };
  },

  /** For what no watch can show: one probe every `intervalMs` until it says ok. */
  polled(what: string, probe: (kube: Kube) => Promise<CheckResult>, intervalMs = 1000): WaitStrategy {
    return {
      what,
      async run(kube, opts) {
        const k = await kube();
        await (await loops()).poll(() => probe(k), what, { ...opts, intervalMs });
      },
    };
  },

  /** One strategy per item found when the gate runs (every node, every DaemonSet), all at once. */
  each<T>(what: string, list: (kube: Kube) => Promise<T[]>, wait: (item: T) => WaitStrategy): WaitStrategy {
    return {
      what,
      async run(kube, opts) {
        const items = await list(await kube());
        await Promise.all(items.map((item) => wait(item).run(kube, opts)));
      },
    };
  },
};

/**
 * Runs a gate: its strategies in order, all under the one deadline `opts.timeoutMs` from now (a
 * timeout names the strategy that was still waiting and the whole budget it shared).
 */
export async function runGate(gate: readonly WaitStrategy[], kube: KubeSource, opts: WaitOptions): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const deadline = opts.deadline ?? clock.now() + opts.timeoutMs;
  for (const wait of gate) {
    opts.onProgress?.(`waiting for ${wait.what}`);
    await wait.run(kube, { ...opts, deadline });
  }
}
