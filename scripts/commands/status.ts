// `sandbox status`: every component's health, version and endpoint, and the job state; its outcome is
// `failed` (exit 1) when a component is not healthy.
import { kubeContext } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import { hasCondition } from '../lib/kube/kube.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { pipeline } from '../steps/index.ts';
import { newRunState, type ComponentStatus, type StepContext } from '../pipeline/step.ts';
import { configFrom, emit, type CommandOutcome, type GlobalOptions } from './options.ts';
import { INSTALL_CONFIGMAP } from '../steps/kit.ts';

export interface JobStatus {
  name: string;
  lifecycleState?: string;
  jobState?: string;
  jobManager?: string;
  error?: string;
}

/** Rows as columns padded to their widest cell (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

// Long on purpose: gathers, then renders, one table; the parts are each a few lines in sequence.
export async function status(opts: GlobalOptions): Promise<CommandOutcome> {
  const cfg = await configFrom(opts);
  const services = createServices(cfg);
  const kube = await services.kube().catch((err: unknown) => {
    throw new SandboxError(`no sandbox cluster reachable (context ${kubeContext(cfg)})`, {
      cause: err,
      hint: 'run `sandbox up` first, or pass --context <kube-context>',
    });
  });
  const ctx: StepContext = {
    config: cfg,
    runId: 'status',
    signal: interruptSignal(),
    output: () => undefined,
    state: newRunState(),
    services,
  };
  // Expect the components of the profile that `up` installed, unless --profile says otherwise.
  const installed = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job });
  if (installed?.data && !opts.profile) {
    cfg.profile = installed.data.profile === 'minimal' ? 'minimal' : 'full';
    cfg.with = String(installed.data.with ?? '').split(',').filter(Boolean);
  }
  const nodes = await kube.list('v1', 'Node');
  const ready = nodes.filter((n) => hasCondition(n, 'Ready'));
  const cluster: ComponentStatus = {
    component: 'cluster',
    health: nodes.length && ready.length === nodes.length ? 'healthy' : 'degraded',
    version: nodes[0]?.status?.nodeInfo?.kubeletVersion as string | undefined,
    endpoint: kube.server,
    detail: `context ${kube.context}, ${ready.length}/${nodes.length} nodes Ready`,
  };
  const components = [
    cluster,
    ...(await Promise.all(
      pipeline(cfg)
        .filter((s) => s.status)
        .map((s) =>
          s.status!(ctx).catch((err: unknown): ComponentStatus => ({
            component: s.id,
            health: 'unknown',
            detail: err instanceof Error ? err.message : String(err),
          })),
        ),
    )),
  ];
  const fds = await kube.list('flink.apache.org/v1beta1', 'FlinkDeployment', { namespace: cfg.namespaces.job }).catch(() => []);
  const jobs: JobStatus[] = fds.map((fd) => ({
    name: fd.metadata.name,
    lifecycleState: fd.status?.lifecycleState,
    jobState: fd.status?.jobStatus?.state,
    jobManager: fd.status?.jobManagerDeploymentStatus,
    error: fd.status?.error,
  }));
  const healthy = components.every((c) => c.health === 'healthy');
  emit(opts, { ok: healthy, context: kube.context, components, jobs }, () => {
    const rows = [['COMPONENT', 'HEALTH', 'VERSION', 'ENDPOINT / DETAIL'], ...components.map((c) => [c.component, c.health, c.version ?? '', [c.endpoint, c.detail].filter(Boolean).join(' · ')])];
    const jobText = jobs.length
      ? table([['JOB', 'LIFECYCLE', 'JOB STATE', 'JOBMANAGER'], ...jobs.map((j) => [j.name, j.lifecycleState ?? '', j.jobState ?? '', j.jobManager ?? ''])])
      : 'No Flink job deployed yet (scenarios deploy one).';
    return `${table(rows)}\n\n${jobText}`;
  });
  return healthy ? 'ok' : 'failed';
}
