// What a scenario is: the blog's story as code. setup -> act -> assess -> teardown, where every
// assessment is a claim a reader can check ("sequence continues after the TaskManager is
// killed: 0 lost, 0 resets"). Scenarios act only through the Kubernetes API (the job's
// FlinkDeployment, its pods, FlinkStateSnapshots) and say what they did in the history, so the
// checker can tell a fault's replay from a loss.
import type { SandboxConfig } from '../scripts/lib/config.ts';
import type { Kube, KubeObject } from '../scripts/lib/kube/kube.ts';
import type { TimelineEvent } from './checker/history.ts';
import type { Verdict } from './checker/verdict.ts';

/** Distributes Omit over a union (TypeScript's own Omit collapses it). */
export type WithoutTime<T> = T extends unknown ? Omit<T, 't'> : never;

/** The job a scenario runs: the HA job of the blog's Listing 1, or the no-HA negative control. */
export type JobKind = 'hello-ha' | 'hello-no-ha';

export interface ScenarioContext {
  readonly kube: Kube;
  readonly config: SandboxConfig;
  readonly signal: AbortSignal;
  /** The job under test (name and namespace of its FlinkDeployment). */
  readonly job: { name: string; namespace: string };
  /** Adds a timeline event to the history, stamped now. */
  note(event: WithoutTime<TimelineEvent>): void;
  /** Keeps a fact for the claims (a path the operator wrote, a mark before and after). */
  fact(key: string, value: string): void;
  /** Tells the user what is happening (shown under the scenario's progress line). */
  say(text: string): void;
  /** The highest sequence number seen so far (0 before the first). */
  highWater(): number;
  /** Completed checkpoints seen so far (ids, in order). */
  checkpoints(): readonly number[];
  /** Changes whenever the job restarts (new pod, container or task attempt; a logged restore). */
  restartMark(): string;
  /** Resolves once the recorder has seen a number above `n`; rejects after the timeout naming the last seen. */
  waitForSequence(above: number, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the job has restarted since `mark` (restartMark()) and its sequence passed `above`. */
  waitForRecovery(mark: string, above: number, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once a checkpoint completes after this call. */
  waitForCheckpoint(timeoutMs?: number): Promise<number>;
  /** Resolves once the FlinkDeployment reports the job RUNNING with its JobManager READY. */
  waitForRunning(timeoutMs?: number): Promise<KubeObject>;
  /** The FlinkDeployment as the API has it now. */
  deployment(): Promise<KubeObject | undefined>;
}

export interface ClaimResult {
  ok: boolean;
  /** One line: the numbers behind the verdict, or what went wrong. */
  detail: string;
}

/** What a claim is judged on: the checker's verdict over the history, and what the scenario noted. */
export interface ClaimInput {
  verdict: Verdict;
  facts: Readonly<Record<string, string>>;
  /** Checkpoints completed while the scenario ran. */
  checkpoints: number;
}

export interface Claim {
  /** A claim as a reader would state it, e.g. "sequence continues after the TaskManager is killed". */
  title: string;
  check(input: ClaimInput): ClaimResult;
}

export interface Scenario {
  name: string;
  /** One line for `sandbox scenario` and the menu. */
  summary: string;
  job: JobKind;
  /** Set when the scenario needs more than the minimal profile installs (the logging pipeline). */
  needsProfile?: 'full';
  /** After the job is deployed and running; before the act (e.g. wait for a first checkpoint). */
  setup?(ctx: ScenarioContext): Promise<void>;
  act(ctx: ScenarioContext): Promise<void>;
  claims: Claim[];
  /** Always runs, also after a failure: removes what the scenario made beyond the job. */
  teardown?(ctx: ScenarioContext): Promise<void>;
}
