// The menu's savepoints: take one by hand (the blog's Listing 2 under a generated name), list the
// FlinkStateSnapshots with their state, path and age, and redeploy the job from a chosen one
// (`initialSavepointPath` and a new `savepointRedeployNonce`, as the savepoint-redeploy scenario does).
import { select } from '@inquirer/prompts';
import { FLINK_API, runningCheck } from '../../scenarios/job.ts';
import { patchJob, takeSavepoint } from '../../scenarios/job-ops.ts';
import { SandboxError } from '../lib/errors.ts';
import type { KubeObject } from '../lib/kube/kube.ts';
import { newRunId } from '../lib/paths.ts';
import { Wait } from '../lib/wait/wait.ts';
import { isSuspended, jobContext, jobHandle, jobOrOffer, requireRunning, stateText, type JobHandle } from './menu-job.ts';
import type { GlobalOptions } from './options.ts';
import { table } from './status.ts';

const REDEPLOY_WAIT_MS = 300_000;

/** kubectl's AGE column: the largest unit that fits. */
export function age(since: string | undefined, now = Date.now()): string {
  const ms = now - Date.parse(since ?? '');
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The savepoints in the job namespace (not checkpoints), oldest first. */
async function savepoints(h: JobHandle): Promise<KubeObject[]> {
  const all = await h.kube.list(FLINK_API, 'FlinkStateSnapshot', { namespace: h.ref.namespace });
  return all
    .filter((s) => s.spec?.savepoint)
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name.localeCompare(b.metadata.name));
}

export async function takeManualSavepoint(opts: GlobalOptions): Promise<void> {
  const h = await jobHandle(opts);
  const fd = await jobOrOffer(h, opts);
  if (!fd) return;
  requireRunning(fd, 'a savepoint');
  // A run id is unique and sortable; Kubernetes names must be lower case.
  const name = `${h.ref.name}-manual-${newRunId().toLowerCase()}`;
  process.stdout.write(`taking savepoint ${name} of ${h.ref.name}: waiting for COMPLETED (Ctrl-C: back to the menu)\n`);
  const { path } = await takeSavepoint(jobContext(h), name);
  process.stdout.write(`savepoint ${name} COMPLETED: ${path}\n`);
}

export async function listSavepoints(opts: GlobalOptions): Promise<void> {
  const h = await jobHandle(opts);
  const list = await savepoints(h);
  if (list.length === 0) {
    process.stdout.write(`No savepoints in namespace ${h.ref.namespace} yet ("Take a savepoint" makes one, and so does a suspend).\n`);
    return;
  }
  const now = Date.now();
  const rows = list.map((s) => [
    s.metadata.name,
    s.spec?.jobReference?.name ?? '',
    s.metadata.labels?.['snapshot.trigger-type'] ?? 'MANUAL',
    s.status?.state ?? '-',
    s.status?.path ?? '',
    age(s.metadata.creationTimestamp, now),
  ]);
  process.stdout.write(`${table([['NAME', 'JOB', 'TRIGGER', 'STATE', 'PATH', 'AGE'], ...rows])}\n`);
}

/** The spec the operator acted on last (a JSON string in the status): its redeploy nonce. */
function reconciledNonce(fd: KubeObject | undefined): number | undefined {
  try {
    const last = JSON.parse(String(fd?.status?.reconciliationStatus?.lastReconciledSpec ?? '{}')) as { spec?: { job?: { savepointRedeployNonce?: number } } };
    return last.spec?.job?.savepointRedeployNonce;
  } catch {
    return undefined;
  }
}

export async function redeployFromSavepoint(opts: GlobalOptions): Promise<void> {
  const h = await jobHandle(opts);
  const fd = await jobOrOffer(h, opts);
  if (!fd) return;
  const usable = (await savepoints(h)).filter((s) => s.status?.state === 'COMPLETED' && s.status?.path && s.spec?.jobReference?.name === h.ref.name);
  if (usable.length === 0) {
    throw new SandboxError(`no COMPLETED savepoint of ${h.ref.name} to redeploy from`, { hint: 'take one first ("Take a savepoint")' });
  }
  // The operator redeploys only a job whose spec says running; a suspended one would stay down.
  if (isSuspended(fd)) {
    throw new SandboxError(`${h.ref.name} is suspended (${stateText(fd)})`, { hint: 'resume it first ("Suspend or resume the job"), then redeploy' });
  }
  const now = Date.now();
  const path = await select<string>({
    message: `Redeploy ${h.ref.name} from which savepoint? (the job now: ${stateText(fd)})`,
    choices: usable.reverse().map((s) => ({ name: `${s.metadata.name} (${age(s.metadata.creationTimestamp, now)} old)`, value: String(s.status.path), description: s.status.path })),
  });
  const nonce = Number(fd.spec?.job?.savepointRedeployNonce ?? 0) + 1;
  process.stdout.write(`redeploying ${h.ref.name} from ${path} (savepointRedeployNonce ${nonce}): waiting for the job to run (Ctrl-C: back to the menu)\n`);
  await patchJob(jobContext(h), { initialSavepointPath: path, savepointRedeployNonce: nonce });
  // RUNNING alone could still be the old job: wait until the operator has acted on this nonce.
  const done = await Wait.forObject(
    h.kube,
    h.ref,
    (o) => {
      const running = runningCheck(o);
      const acted = reconciledNonce(o) === nonce;
      return { ...running, ok: acted && running.ok, seen: `${running.seen}, redeploy nonce reconciled: ${acted ? 'yes' : 'not yet'}` };
    },
    `${h.ref.name} redeployed from ${path} and RUNNING`,
    { timeoutMs: REDEPLOY_WAIT_MS, signal: h.signal },
  );
  process.stdout.write(`${h.ref.name} redeployed from ${done.status?.jobStatus?.upgradeSavepointPath ?? path}: ${stateText(done)}\n`);
}
