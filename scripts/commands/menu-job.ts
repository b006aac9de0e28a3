// The menu's hold on the job it acts on (hello-ha in the job namespace): the cluster, the job's
// state in words, an offer to deploy it when it is not there, and the scenarios' job operations
// (scenarios/job-ops.ts) used outside a scenario run, where no recorder keeps a history.
import { confirm } from '@inquirer/prompts';
import { deploymentRef, runningCheck, waitForRunning } from '../../scenarios/job.ts';
import type { JobKind, ScenarioContext } from '../../scenarios/scenario.ts';
import { kubeContext, type SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import type { Kube, KubeObject, ObjectRef } from '../lib/kube/kube.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { configFrom, type GlobalOptions } from './options.ts';

/** The job the menu suspends, resumes, snapshots and follows: the blog's Listing 1. */
export const MENU_JOB: JobKind = 'hello-ha';

/** How long the menu waits for the operator (a suspend, a resume, a savepoint); Ctrl-C ends it sooner. */
const WAIT_MS = 300_000;

export interface JobHandle {
  cfg: SandboxConfig;
  kube: Kube;
  ref: ObjectRef;
  signal: AbortSignal;
}

/** The cluster and the job's reference; the same refusal as `status` when there is no cluster. */
export async function jobHandle(opts: GlobalOptions): Promise<JobHandle> {
  const cfg = await configFrom(opts);
  const kube = await createServices(cfg)
    .kube()
    .catch((err: unknown) => {
      throw new SandboxError(`no sandbox cluster reachable (context ${kubeContext(cfg)})`, {
        cause: err,
        hint: 'run `sandbox up` first, or pass --context <kube-context>',
      });
    });
  return { cfg, kube, ref: deploymentRef(MENU_JOB, cfg.namespaces.job), signal: interruptSignal() };
}

/** What the operator reports, in the words of its status fields. */
export function stateText(fd: KubeObject): string {
  const s = fd.status ?? {};
  return `lifecycle ${s.lifecycleState ?? '-'}, job ${s.jobStatus?.state ?? '-'}, JobManager ${s.jobManagerDeploymentStatus ?? '-'}`;
}

export function isSuspended(fd: KubeObject): boolean {
  return fd.spec?.job?.state === 'suspended';
}

/**
 * The job as the API has it now; without one, offers to deploy it (the `deploy` scenario, which
 * also proves it runs) and returns undefined, so the action ends and the menu comes back.
 */
export async function jobOrOffer(h: JobHandle, opts: GlobalOptions): Promise<KubeObject | undefined> {
  const fd = await h.kube.get(h.ref);
  if (fd) return fd;
  const yes = await confirm({ message: `There is no ${h.ref.name} job in namespace ${h.ref.namespace}. Deploy it now (the deploy scenario)?`, default: true });
  if (yes) await (await import('./scenario.ts')).scenario(['deploy'], opts);
  return undefined;
}

/** Refuses, with what to do instead, when the job is not running (a savepoint needs a running job). */
export function requireRunning(fd: KubeObject, what: string): void {
  if (runningCheck(fd).ok) return;
  const suspended = isSuspended(fd);
  throw new SandboxError(`${fd.metadata.name} is not running (${stateText(fd)}): ${what} needs a running job`, {
    hint: suspended ? 'resume it first ("Suspend or resume the job")' : 'wait until it runs ("Show status"), or deploy it afresh ("Run scenarios": deploy)',
  });
}

/**
 * A scenario context for the job operations outside a scenario: the menu runs no recorder, so
 * there is no history to note in and no sequence to wait on (asking for one is a bug).
 */
export function jobContext(h: JobHandle): ScenarioContext {
  const noRecorder = (): Promise<never> => Promise.reject(new Error('the menu follows no sequence while it acts on the job'));
  return {
    kube: h.kube,
    config: h.cfg,
    signal: h.signal,
    job: { name: h.ref.name, namespace: h.ref.namespace! },
    note: () => undefined,
    fact: () => undefined,
    say: () => undefined,
    highWater: () => 0,
    checkpoints: () => [],
    restartMark: () => '',
    waitForSequence: noRecorder,
    waitForRecovery: noRecorder,
    waitForCheckpoint: noRecorder,
    waitForRunning: (timeoutMs = WAIT_MS) => waitForRunning(h.kube, h.ref, timeoutMs, h.signal),
    deployment: () => h.kube.get(h.ref),
  };
}

/** Suspend or resume, whichever applies, after saying what state the job is in. */
export async function suspendOrResume(opts: GlobalOptions): Promise<void> {
  const h = await jobHandle(opts);
  const fd = await jobOrOffer(h, opts);
  if (!fd) return;
  const { resume, suspend } = await import('../../scenarios/job-ops.ts');
  process.stdout.write(`${fd.metadata.name}: ${stateText(fd)}\n`);
  const ctx = jobContext(h);
  if (isSuspended(fd)) {
    const from = fd.status?.jobStatus?.upgradeSavepointPath;
    if (!(await confirm({ message: `It is suspended. Resume it${from ? ` from ${from}` : ''}?`, default: true }))) return;
    process.stdout.write(`resuming ${fd.metadata.name}: waiting for the job to run again (Ctrl-C: back to the menu)\n`);
    await resume(ctx);
    process.stdout.write(`${fd.metadata.name} resumed: ${stateText((await h.kube.get(h.ref))!)}\n`);
    return;
  }
  requireRunning(fd, 'a suspend (stop with a savepoint)');
  if (!(await confirm({ message: 'It is running. Suspend it (stop with a savepoint)?', default: true }))) return;
  process.stdout.write(`suspending ${fd.metadata.name}: waiting for the savepoint and lifecycle SUSPENDED (Ctrl-C: back to the menu)\n`);
  const path = await suspend(ctx);
  process.stdout.write(`${fd.metadata.name} suspended: ${stateText((await h.kube.get(h.ref))!)}; savepoint ${path || '(none recorded)'}\n`);
}
