// `sandbox up`: runs the pipeline (or prints it with --dry-run).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeContext, type SandboxConfig } from '../lib/config.ts';
import { runFailure, runPipeline, type RunResult } from '../pipeline/engine.ts';
import { planWaves, selectSteps } from '../pipeline/shape.ts';
import { InterruptedError, SandboxError, UsageError } from '../lib/errors.ts';
import { takeLock } from '../lib/lock.ts';
import { newRunId, stateDir } from '../lib/paths.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { pipeline } from '../steps/index.ts';
import { renderKindConfig } from '../steps/cluster.ts';
import { INSTALL_CONFIGMAP, PART_OF_LABELS } from '../steps/kit.ts';
import { newRunState, planOf, type PlanAction, type RunState, type Step, type StepContext } from '../pipeline/step.ts';
import type { Kube } from '../lib/kube/kube.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

/** Quotes an argument for a POSIX shell unless it is plainly safe (globs like `a[0]` are not, in zsh). */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

function renderAction(a: PlanAction): string {
  switch (a.kind) {
    case 'command':
      return `$ ${a.argv.map(shellQuote).join(' ')}`;
    case 'manifest':
      return `apply ${a.source}: ${a.objects.join(', ')}`;
    case 'check':
      return `check: ${a.what}`;
  }
}

export function planText(cfg: SandboxConfig, steps: Step[]): string {
  const waves = planWaves(steps);
  const where = cfg.cluster.provider === 'existing' ? `existing context ${kubeContext(cfg)}` : `${cfg.cluster.provider} cluster "${cfg.cluster.name}"`;
  const lines = [`Plan for \`sandbox up\`: profile ${cfg.profile}${cfg.with.length ? ` with ${cfg.with.join(', ')}` : ''}, ${where}`, ''];
  waves.forEach((wave, i) => {
    lines.push(`${i + 1}. ${wave.length > 1 ? `in parallel: ${wave.map((s) => s.id).join(', ')}` : wave[0]!.id}`);
    for (const step of wave) {
      lines.push(`   [${step.id}] ${step.title}${step.needs?.length ? `  (after ${step.needs.join(', ')})` : ''}`);
      for (const a of planOf(step, cfg)) lines.push(`      ${renderAction(a)}`);
    }
  });
  lines.push('', 'Nothing was changed (dry run).');
  return lines.join('\n');
}

function planJson(cfg: SandboxConfig, steps: Step[]): unknown {
  return {
    profile: cfg.profile,
    with: cfg.with,
    cluster: { provider: cfg.cluster.provider, name: cfg.cluster.name, context: kubeContext(cfg) },
    waves: planWaves(steps).map((w) => w.map((s) => s.id)),
    steps: steps.map((s) => ({ id: s.id, title: s.title, needs: s.needs ?? [], actions: planOf(s, cfg) })),
  };
}

async function recordInstall(cfg: SandboxConfig, kube: Kube, state: RunState): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job };
  const live = await kube.get(ref);
  const before = live?.data as Record<string, string> | undefined;
  const merge = (old: string | undefined, now: string[]): string =>
    [...new Set([...(old ?? '').split(',').filter(Boolean), ...now])].sort().join(',');
  const data = {
    profile: cfg.profile,
    with: merge(before?.with, cfg.with),
    // Helm releases this sandbox installed (not ones it found in place): `down --context` removes only these.
    releases: merge(before?.releases, state.installedReleases),
  };
  // A re-run that changed nothing has nothing to record: no apply.
  const labelled = Object.entries(PART_OF_LABELS).every(([k, v]) => live?.metadata.labels?.[k] === v);
  if (labelled && before && Object.entries(data).every(([k, v]) => before[k] === v)) return;
  await kube.apply([
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job, labels: { ...PART_OF_LABELS } },
      data,
    },
  ]);
}

async function recordRun(result: RunResult): Promise<string> {
  const dir = join(stateDir(), 'runs');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${result.runId}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export async function up(opts: GlobalOptions): Promise<void> {
  const cfg = await configFrom(opts);
  if (cfg.cluster.provider === 'existing' && !cfg.jobImage) {
    // Refused before anything is installed: only a pushed image reaches a cluster the sandbox did not make.
    throw new UsageError('with --context the sandbox cannot load the job image into the cluster', {
      hint: 'build job/, push it to a registry the cluster pulls from, and pass --job-image <ref>',
    });
  }
  const steps = selectSteps(pipeline(cfg), opts.only, opts.skip);
  // A broken kind-config.yaml is refused now (exit 64, also by --dry-run), not as a failed step.
  if (cfg.cluster.provider === 'kind' && steps.some((s) => s.id === 'cluster')) await renderKindConfig(cfg);
  if (opts.dryRun) {
    emit(opts, planJson(cfg, steps), () => planText(cfg, steps));
    return;
  }
  const runId = newRunId();
  // The lock of the cluster's context; refused (with a bundle holding the error) while another run holds it.
  const lock = await takeLock(kubeContext(cfg), 'up', runId);
  try {
    await runLocked(cfg, opts, steps, runId);
  } finally {
    lock.release();
  }
}

async function runLocked(cfg: SandboxConfig, opts: GlobalOptions, steps: Step[], runId: string): Promise<void> {
  const signal = interruptSignal();
  const services = createServices(cfg, { forceConflicts: opts.force });
  const state = newRunState();
  const result = await runPipeline(steps, {
    state,
    config: cfg,
    runId,
    services,
    signal,
    force: opts.force,
    guard: (step, ctx, stop, since) => podGuard(step, ctx, stop, since),
    render: opts.json ? 'silent' : opts.verbose ? 'verbose' : 'auto',
  });
  await recordRun(result);
  const clusterUp = result.steps.some((s) => s.id === 'cluster' && (s.outcome === 'done' || s.outcome === 'already'));
  if (clusterUp) await recordInstall(cfg, await services.kube(), state).catch(() => undefined);
  if (result.ok) {
    // A K3s sandbox keeps running in the foreground: its document cannot wait for the end.
    emit(opts, { ...result }, () => `\n✔ sandbox is up (${(result.ms / 1000).toFixed(1)} s). Next: \`sandbox status\`, \`sandbox open kibana\`.`, {
      now: cfg.cluster.provider === 'k3s',
    });
    if (cfg.cluster.provider === 'k3s') {
      const { holdK3s } = await import('../steps/k3s.ts');
      await holdK3s(state, signal, (line) => process.stderr.write(`${line}\n`));
    }
    return;
  }
  const err = runFailure(result);
  // A bug (not a SandboxError) goes to cli.ts as it is: its stack is the evidence that matters.
  if (!(err instanceof SandboxError)) throw err;
  if (!(err instanceof InterruptedError)) {
    const { writeDiagnostics } = await import('../lib/diagnostics/bundle.ts');
    err.artifacts = await writeDiagnostics(clusterUp ? await services.kube().catch(() => undefined) : undefined, {
      runId,
      namespaces: [...new Set([...namespacesOf(cfg), ...steps.flatMap((s) => s.namespaces?.(cfg) ?? [])])],
      error: err,
      steps: result.steps,
    });
  }
  err.data = { ...result };
  throw err;
}

/** While a step runs, a pod of its namespaces that can never start ends it with the cause. */
function podGuard(step: Step, ctx: StepContext, stop: AbortSignal, since: number): Promise<never> | undefined {
  const namespaces = step.namespaces?.(ctx.config);
  if (!namespaces?.length) return undefined;
  // Only pods created while the step runs are its own; older ones in a shared namespace are not.
  // Creation times have whole seconds: a pod created in the step's first second may show the one before.
  const started = since - 2000;
  return (async (): Promise<never> => {
    // The cluster may not exist yet when the step starts (kind creates it).
    const kube = await waitForKube(ctx, stop);
    const { watchPodProblems } = await import('../lib/wait/pod-problems.ts');
    return watchPodProblems(kube, namespaces, {
      signal: AbortSignal.any([stop, ctx.signal]),
      graceMs: ctx.config.timeouts.imagePullSeconds * 1000,
      createdAfter: started,
    });
  })();
}

async function waitForKube(ctx: StepContext, stop: AbortSignal): Promise<Kube> {
  for (;;) {
    try {
      return await ctx.services.kube();
    } catch {
      if (stop.aborted || ctx.signal.aborted) return new Promise<never>(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function namespacesOf(cfg: SandboxConfig): string[] {
  return [...new Set(['kube-system', ...Object.values(cfg.namespaces)])];
}
