// The step contract (kind's create actions, one small object per step). The pipeline
// in steps/index.ts is data: the engine runs independent steps concurrently, a step only
// after everything it `needs`, and renders progress; steps never print.
import type { SandboxConfig } from '../lib/config.ts';
import type { Services } from '../lib/services.ts';

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
  /** Values one step hands to another (endpoints, credentials, image refs). */
  readonly shared: Map<string, unknown>;
  /** Lazily connected services; their types live in scripts/lib. */
  readonly services: StepServices;
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
  /** True when the desired state is already in place (then apply and ready are skipped). */
  isDone?(ctx: StepContext): Promise<boolean>;
  apply(ctx: StepContext): Promise<void>;
  /** A functional readiness gate with a timeout whose message names what was last seen. */
  ready?(ctx: StepContext): Promise<void>;
  /** What `sandbox status` shows for this component (read-only, quick). */
  status?(ctx: StepContext): Promise<ComponentStatus>;
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
