// job-controller: runs pods `<job>-<5 chars>` until `completions` succeeded (then
// SuccessCriteriaMet + Complete, completionTime, event Completed) or more than backoffLimit
// failed (FailureTarget + Failed/BackoffLimitExceeded). Status counts active/ready/
// succeeded/failed as the real controller does.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import type { WorkQueue } from './informer.ts';
import { isActive, isPodReady, now, randomSuffix } from './names.ts';
import { createPod, omitZero, ownedBy, podFromTemplate, wireController, writeStatus } from './workload-util.ts';

const SOURCE = { component: 'job-controller' };

function hasCondition(job: KubeObject, type: string): boolean {
  return (job.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
}

export function startJobs(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('job-controller');
  const { jobs, pods } = ctx.informers;

  async function reconcile(ns: string, name: string): Promise<void> {
    const job = jobs.get(ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    if (hasCondition(job, 'Complete') || hasCondition(job, 'Failed')) return;
    const path = `/apis/batch/v1/namespaces/${ns}/jobs/${name}`;
    const owned = ownedBy(pods, job);
    const succeeded = owned.filter((p) => p.status?.phase === 'Succeeded').length;
    const failed = owned.filter((p) => p.status?.phase === 'Failed').length;
    const active = owned.filter(isActive);
    const completions = (job.spec?.completions as number | undefined) ?? 1;
    const parallelism = (job.spec?.parallelism as number | undefined) ?? 1;
    const backoffLimit = (job.spec?.backoffLimit as number | undefined) ?? 6;
    const at = now();
    const startTime = (job.status?.startTime as string | undefined) ?? at;
    const conditions = [...((job.status?.conditions ?? []) as Record<string, unknown>[])];

    if (succeeded >= completions) {
      conditions.push(
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: at, lastTransitionTime: at },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: at, lastTransitionTime: at },
      );
      await writeStatus(api, jobs, path, job, { startTime, completionTime: at, ...omitZero({ active: 0, ready: 0, succeeded, failed }), terminating: 0, uncountedTerminatedPods: {}, conditions });
      await ctx.events.record(job, SOURCE, { type: 'Normal', reason: 'Completed', message: 'Job completed' });
      return;
    }
    if (failed > backoffLimit) {
      for (const p of active) await api.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`);
      const message = 'Job has reached the specified backoff limit';
      conditions.push(
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message, lastProbeTime: at, lastTransitionTime: at },
        { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message, lastProbeTime: at, lastTransitionTime: at },
      );
      await writeStatus(api, jobs, path, job, { startTime, ...omitZero({ active: 0, ready: 0, succeeded, failed }), terminating: 0, uncountedTerminatedPods: {}, conditions });
      await ctx.events.record(job, SOURCE, { type: 'Warning', reason: 'BackoffLimitExceeded', message });
      return;
    }
    if (!job.spec?.suspend) {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      for (let i = 0; i < want; i++) {
        let podName = `${name}-${randomSuffix()}`;
        while (pods.get(ns, podName)) podName = `${name}-${randomSuffix()}`;
        const uid = job.metadata.uid ?? '';
        const pod = podFromTemplate(job.spec?.template, job, podName, {
          generateName: `${name}-`,
          labels: { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name },
          annotations: { 'batch.kubernetes.io/job-tracking': '' },
        });
        const created = await createPod(ctx, api, job, pod, SOURCE.component, (m) => `Error creating: ${m}`);
        active.push(created);
        await ctx.events.record(job, SOURCE, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${created.metadata.name}` });
      }
    }
    await writeStatus(api, jobs, path, job, {
      startTime,
      ...omitZero({ active: active.length, succeeded, failed }),
      ready: active.filter(isPodReady).length,
      terminating: owned.filter((p) => p.metadata.deletionTimestamp).length,
      uncountedTerminatedPods: {},
    });
  }

  return wireController(ctx, 'job-controller', jobs, [{ informer: pods, ownerKind: 'Job' }], reconcile, 1000);
}
