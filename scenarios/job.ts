// The job under test, through the Kubernetes API only: which image `up` installed, the
// FlinkDeployment rendered for this sandbox, a fresh deploy, and the waits the scenarios share.
import { readFile } from 'node:fs/promises';
import type { SandboxConfig } from '../scripts/lib/config.ts';
import { SandboxError } from '../scripts/lib/errors.ts';
import { renderFlinkDeployment } from '../scripts/lib/flink/deployment.ts';
import { parseManifests, type Kube, type KubeObject, type ObjectRef } from '../scripts/lib/kube/kube.ts';
import { packagePath } from '../scripts/lib/paths.ts';
import { Wait, type CheckResult } from '../scripts/lib/wait/wait.ts';
import type { JobKind } from './scenario.ts';

/** The ConfigMap in which `up` records the job image it built or was given (steps/job-image.ts). */
const SANDBOX_CONFIGMAP = 'flink-sandbox';
export const FLINK_API = 'flink.apache.org/v1beta1';

export function deploymentRef(name: string, namespace: string): ObjectRef {
  return { apiVersion: FLINK_API, kind: 'FlinkDeployment', name, namespace };
}

/** The job image `up` recorded; a clear error when the sandbox is not up. */
export async function installedJobImage(kube: Kube, cfg: SandboxConfig): Promise<string> {
  if (cfg.jobImage) return cfg.jobImage;
  const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: SANDBOX_CONFIGMAP, namespace: cfg.namespaces.job });
  const image = (cm?.data as Record<string, string> | undefined)?.jobImage;
  if (!image) {
    throw new SandboxError(`the sandbox has no job image recorded (ConfigMap ${cfg.namespaces.job}/${SANDBOX_CONFIGMAP})`, {
      hint: 'run `sandbox up` first (at least the job-image and flink-operator steps), or pass --job-image <ref>',
    });
  }
  return image;
}

/** The FlinkDeployment of manifests/flink/<kind>.yaml for this sandbox. */
export async function renderJob(kind: JobKind, cfg: SandboxConfig, image: string): Promise<KubeObject> {
  const [template] = parseManifests(await readFile(packagePath('manifests', 'flink', `${kind}.yaml`), 'utf8'));
  if (!template) throw new Error(`manifests/flink/${kind}.yaml holds no object`);
  return renderFlinkDeployment(template, cfg, image);
}

/**
 * Deletes the job's FlinkDeployment if there is one and waits until it is gone: with operator
 * 1.15 that also removes its HA metadata, so the job that follows starts from scratch.
 */
export async function removeJob(kube: Kube, ref: ObjectRef, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await kube.delete(ref, { wait: true, timeoutMs, signal });
  // The old job's pods outlive the resource while they terminate; the recorder must not take
  // their logs (numbers of the old run) for the new job's.
  await Wait.poll(
    async () => {
      const left = await kube.list('v1', 'Pod', { namespace: ref.namespace, labelSelector: `app=${ref.name}` });
      return { ok: left.length === 0, seen: left.length ? `pods still there: ${left.map((p) => p.metadata.name).join(', ')}` : 'none', value: true };
    },
    `the pods of the previous ${ref.name} to be gone`,
    { timeoutMs, signal, intervalMs: 200 },
  );
}

/** The job RUNNING, its JobManager READY and the operator done reconciling. */
export function runningCheck(fd: KubeObject | undefined): CheckResult {
  const s = fd?.status;
  if (!s) return { ok: false, seen: fd ? 'no status yet' : 'no FlinkDeployment' };
  const seen = `lifecycle ${s.lifecycleState ?? '-'}, job ${s.jobStatus?.state ?? '-'}, JobManager ${s.jobManagerDeploymentStatus ?? '-'}`;
  const ok = s.jobStatus?.state === 'RUNNING' && s.jobManagerDeploymentStatus === 'READY' && ['STABLE', 'DEPLOYED'].includes(s.lifecycleState);
  // The operator gave up (e.g. a failed upgrade): waiting longer cannot help.
  if (s.lifecycleState === 'FAILED') return { ok: false, seen, fail: `the operator reports the deployment FAILED${s.error ? `: ${s.error}` : ''}` };
  return { ok, seen };
}

export function waitForRunning(kube: Kube, ref: ObjectRef, timeoutMs: number, signal: AbortSignal): Promise<KubeObject> {
  return Wait.forObject(kube, ref, runningCheck, `FlinkDeployment ${ref.namespace}/${ref.name} job RUNNING with its JobManager READY`, { timeoutMs, signal });
}

/** Flink's error as the operator records it (a JSON document with a message), on one line. */
function jobError(error: unknown): string | undefined {
  if (typeof error !== 'string' || !error) return undefined;
  try {
    const message = (JSON.parse(error) as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  } catch {
    // not JSON: the text as it is
  }
  return error;
}

/**
 * Rejects as soon as the job is FAILED (Flink gave up on it, or the operator did), with Flink's
 * error: waiting for its sequence to move on cannot help then. Never resolves; `signal` ends it.
 */
function rejectWhenFailed(kube: Kube, ref: ObjectRef, signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    let failure: string | undefined;
    const check = (fd: KubeObject | undefined): CheckResult => {
      const s = fd?.status;
      if (s?.jobStatus?.state === 'FAILED' || s?.lifecycleState === 'FAILED') {
        const why = jobError(s?.error);
        failure = `the job ${ref.name} FAILED${why ? `: ${why}` : ''}`;
      }
      return { ok: false, seen: `job ${s?.jobStatus?.state ?? '-'}`, fail: failure };
    };
    Wait.forObject(kube, ref, check, `FlinkDeployment ${ref.namespace}/${ref.name} not FAILED`, { timeoutMs: 24 * 3600_000, signal }).catch((err: unknown) => {
      if (signal.aborted) return;
      if (!failure) return reject(err);
      reject(
        new SandboxError(failure, {
          hint: `the JobManager's log in the diagnostics bundle (${ref.namespace}/logs/) has Flink's whole error; the next scenario run deploys the job afresh`,
        }),
      );
    });
  });
}

/** `wait`, unless the job goes FAILED first: then that, with Flink's error, at once. */
export async function unlessJobFails<T>(kube: Kube, ref: ObjectRef, signal: AbortSignal, wait: Promise<T>): Promise<T> {
  const stop = new AbortController();
  try {
    return await Promise.race([wait, rejectWhenFailed(kube, ref, AbortSignal.any([signal, stop.signal]))]);
  } finally {
    stop.abort();
  }
}

/** Pods of the job with this component (jobmanager | taskmanager), oldest first. */
export async function jobPods(kube: Kube, ref: ObjectRef, component: 'jobmanager' | 'taskmanager'): Promise<KubeObject[]> {
  const pods = await kube.list('v1', 'Pod', { namespace: ref.namespace, labelSelector: `app=${ref.name},component=${component}` });
  return pods
    .filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name.localeCompare(b.metadata.name));
}
