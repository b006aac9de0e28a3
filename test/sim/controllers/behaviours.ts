// What a simulated container does once the kubelet has started it, chosen by image (or by
// anything about the pod). A behaviour writes log lines, may gate its own readiness, may act
// on the cluster through the API like the real program would (an operator, a webhook), and
// either runs until stopped or exits with a code (the kubelet then applies restartPolicy).
//
// Extending: add an entry to `imageBehaviours` ABOVE the defaults; the first match wins.
import type { KubeObject, SimClient } from '../api-client.ts';
import { operatorBehaviours, platformBehaviours } from '../systems.ts';
import type { SimFaults } from '../faults.ts';

export interface ContainerSpec {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  readinessProbe?: unknown;
  [key: string]: unknown;
}

export interface ContainerContext {
  /** The pod as the kubelet last saw it. */
  readonly pod: KubeObject;
  readonly container: ContainerSpec;
  readonly init: boolean;
  readonly nodeName: string;
  /** The container's restartCount: 0 for the first run, 1 after one restart, ... */
  readonly attempt: number;
  /** Aborted when the container is stopped (pod deleted); behaviours must then return. */
  readonly signal: AbortSignal;
  /** Client for acting on the cluster; its actor is `kubelet`. */
  readonly api: SimClient;
  /** Appends lines to this container attempt's log (what `kubectl logs` shows). */
  log(...lines: string[]): Promise<void>;
  /** Sleeps, resolving early when the container is stopped. */
  sleep(ms: number): Promise<void>;
  /** The current fault knobs. */
  faults(): Promise<SimFaults>;
  /** Plain env values of the container (valueFrom is not resolved). */
  env(name: string): string | undefined;
  /**
   * Installs this container's own readiness check (e.g. "MinIO answers"); the kubelet ANDs
   * it with the fault knobs. Without one a started container is ready at once.
   */
  setReadiness(check: () => boolean): void;
}

export interface ImageBehaviour {
  name: string;
  /** Does this behaviour apply to this container? */
  matches(image: string, pod: KubeObject, container: ContainerSpec, init: boolean): boolean;
  /** Resolves with an exit code when the process ends by itself; never resolves otherwise (until signal). */
  run(ctx: ContainerContext): Promise<number | undefined>;
}

/** Image matcher helper: a regex on the reference as written in the pod spec. */
export function imageLike(re: RegExp): ImageBehaviour['matches'] {
  return (image) => re.test(image);
}

function ownerKind(pod: KubeObject): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.kind;
}

/** Until the signal aborts. */
function idle(ctx: ContainerContext): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve(undefined);
    ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/** Init containers: do their one thing and exit 0. */
export const initContainerBehaviour: ImageBehaviour = {
  name: 'init-container',
  matches: (_image, _pod, _c, init) => init,
  async run(ctx) {
    await ctx.log(`init ${ctx.container.name}: preparing`);
    await ctx.sleep(50);
    await ctx.log(`init ${ctx.container.name}: done`);
    return 0;
  },
};

/** Pods of a Job: a short batch run that exits 0 (the Job then completes). */
export const jobBehaviour: ImageBehaviour = {
  name: 'job',
  matches: (_image, pod) => ownerKind(pod) === 'Job',
  async run(ctx) {
    await ctx.log(`${ctx.container.name}: starting batch work`);
    await ctx.sleep(300);
    await ctx.log(`${ctx.container.name}: done`);
    return 0;
  },
};

/** Anything else: a couple of startup lines, then idle until stopped. */
export const defaultBehaviour: ImageBehaviour = {
  name: 'default',
  matches: () => true,
  async run(ctx) {
    await ctx.log(`starting ${ctx.container.image}`, `${ctx.container.name} ready to serve`);
    return idle(ctx);
  },
};

/**
 * The registry, first match wins. Specific images (MinIO, Elasticsearch, Flink JobManager /
 * TaskManager printing sequence lines, webhooks refusing for a while) go before the defaults.
 */
export const imageBehaviours: ImageBehaviour[] = [
  // cert-manager, the Flink operator, the logging operator, ECK, ingress-nginx (systems.ts)
  ...platformBehaviours,
  initContainerBehaviour,
  jobBehaviour,
  defaultBehaviour,
];

export function behaviourFor(image: string, pod: KubeObject, container: ContainerSpec, init: boolean): ImageBehaviour {
  return imageBehaviours.find((b) => b.matches(image, pod, container, init)) ?? defaultBehaviour;
}

/**
 * Puts the operators' behaviours (systems.ts) first in the registry: they match only non-init
 * containers of pods these operators (or Flink) create, by their labels, so no image-based
 * behaviour can take those pods over. Idempotent.
 */
export function registerOperatorBehaviours(): void {
  const missing = operatorBehaviours.filter((b) => !imageBehaviours.includes(b));
  if (missing.length) imageBehaviours.unshift(...missing);
}
