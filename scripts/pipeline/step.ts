// The step contract (kind's create actions, one small object per step). The pipeline
// in steps/index.ts is data: the engine runs independent steps concurrently, a step only
// after everything it `needs`, and renders progress; steps never print.
import type { SandboxConfig } from '../lib/config.ts';
import type { Services } from '../lib/services.ts';
import type { WaitStrategy } from '../lib/wait/strategy.ts';

/** What a step would do, shown by `up --dry-run`. Built from the same helpers apply() uses. */
export type PlanAction =
  | { kind: 'command'; argv: string[] }
  | { kind: 'manifest'; source: string; objects: string[] }
  | { kind: 'check'; what: string };

export interface StepContext {
  readonly config: SandboxConfig;
  readonly runId: string;
  /** Aborted on Ctrl-C: long waits and child processes must stop. */
  readonly signal: AbortSignal;
  /** One line of step output; the renderer decides where it goes. */
  output(line: string): void;
  /** What steps hand to each other in this run, and what the command reads after it. */
  readonly state: RunState;
  /** Lazily connected services; their types live in scripts/lib. */
  readonly services: StepServices;
}

/** One field per value that crosses steps: nothing is cast on the way out. */
export interface RunState {
  /** Helm releases (namespace/release) this run installed or upgraded: `down --context` removes only these. */
  installedReleases: string[];
  /** The K3s container of `--cluster k3s`: the job image is loaded into it, and `up` holds it until Ctrl-C. */
  k3s?: K3sHandle;
}

/** The part of testcontainers' started K3s container the steps use. */
export interface K3sHandle {
  stop(): Promise<unknown>;
  copyFilesToContainer(files: Array<{ source: string; target: string }>): Promise<void>;
  exec(cmd: string[]): Promise<{ exitCode: number; output: string }>;
}

export function newRunState(): RunState {
  return { installedReleases: [] };
}

// The library declares the services (type-only import: nothing heavy is loaded here).
export type StepServices = Services;

export interface Step {
  readonly id: string;
  readonly title: string;
  /** Ids of the steps that must have succeeded first. */
  readonly needs?: readonly string[];
  /** Memory the step's workloads request, summed by the preflight against Docker's memory. */
  readonly memoryMiB?: number;
  /** Namespaces whose pods the step creates: watched for stuck pods while it runs. */
  namespaces?(config: SandboxConfig): string[];
  plan(config: SandboxConfig): PlanAction[];
  /**
   * Starts the read-only probes isDone will ask (`kind get clusters`, `helm list`) through
   * steps/probes.ts, so that the preflight runs them all at once beside `docker info` instead of
   * each step asking in its turn. Never throws; isDone still decides, asking again after a failure.
   */
  prefetch?(ctx: StepContext): void;
  /** True when the desired state is already in place (then apply and ready are skipped). */
  isDone?(ctx: StepContext): Promise<boolean>;
  apply(ctx: StepContext): Promise<void>;
  /**
   * The readiness gate: waits that describe themselves, run in order under one deadline (the
   * step's timeout) after apply, and on re-runs too. `up --dry-run` prints what they await.
   */
  gate?(config: SandboxConfig): WaitStrategy[];
  /** The gate's time budget; default `timeouts.stepSeconds`. */
  gateSeconds?(config: SandboxConfig): number;
  /** What `sandbox status` shows for this component (read-only, quick). */
  status?(ctx: StepContext): Promise<ComponentStatus>;
}

/** What `up --dry-run` shows for a step: its actions, then one check per wait of its gate. */
export function planOf(step: Step, config: SandboxConfig): PlanAction[] {
  const checks = (step.gate?.(config) ?? []).map((w): PlanAction => ({ kind: 'check', what: w.what }));
  return [...step.plan(config), ...checks];
}

export type Health = 'healthy' | 'degraded' | 'missing' | 'unknown';

export interface ComponentStatus {
  component: string;
  health: Health;
  version?: string;
  /** Where to reach it: an in-cluster URL, or the `sandbox open` command for a UI. */
  endpoint?: string;
  detail?: string;
}
