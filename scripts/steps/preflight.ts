// Fails fast, before anything is created, when the machine cannot hold the chosen
// profile: Docker must answer, and have the memory the profile's workloads request.
import type { SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import type { Step } from '../pipeline/step.ts';

const GiB = 1024 ** 3;
/** kind's own node containers (control plane, kubelet, CoreDNS) need this on top of the workloads. */
export const CLUSTER_OVERHEAD_MIB = 1536;

/** Docker is needed for a kind or k3s cluster, and to build the job image. */
export function needsDocker(cfg: SandboxConfig): boolean {
  return cfg.cluster.provider !== 'existing' || cfg.jobImage === undefined;
}

export function requiredMemoryMiB(steps: readonly Step[], cfg: SandboxConfig): number {
  const workloads = steps.reduce((sum, s) => sum + (s.memoryMiB ?? 0), 0);
  return cfg.cluster.provider === 'existing' ? workloads : workloads + CLUSTER_OVERHEAD_MIB;
}

export function preflightStep(allSteps: () => readonly Step[]): Step {
  return {
    id: 'preflight',
    title: 'Preflight: Docker and resources',
    plan: (cfg) => [
      ...(needsDocker(cfg) ? [{ kind: 'command' as const, argv: ['docker', 'info', '--format', '{{json .}}'] }] : []),
      { kind: 'check', what: `Docker memory >= ${(requiredMemoryMiB(allSteps(), cfg) / 1024).toFixed(1)} GiB (sum of the profile's memory requests)` },
    ],
    async apply(ctx) {
      const cfg = ctx.config;
      for (const step of allSteps()) step.prefetch?.(ctx);
      if (!needsDocker(cfg)) {
        ctx.output('existing cluster and prebuilt job image: Docker not needed');
        return;
      }
      const tools = await ctx.services.tools();
      const info = await tools.dockerInfo();
      const needMiB = requiredMemoryMiB(allSteps(), cfg);
      const haveMiB = Math.floor(info.memBytes / 1024 ** 2);
      ctx.output(`Docker ${info.serverVersion}: ${info.cpus} CPUs, ${(info.memBytes / GiB).toFixed(1)} GiB; profile ${cfg.profile} needs ${(needMiB / 1024).toFixed(1)} GiB`);
      if (cfg.cluster.provider !== 'existing' && haveMiB < needMiB) {
        throw new SandboxError(
          `Docker has ${(info.memBytes / GiB).toFixed(1)} GiB of memory, but profile "${cfg.profile}" requests ${(needMiB / 1024).toFixed(1)} GiB (${needMiB} MiB: workloads + ${CLUSTER_OVERHEAD_MIB} MiB for the cluster itself)`,
          {
            hint:
              cfg.profile === 'full'
                ? 'use `sandbox up --profile minimal` (no Elasticsearch/Kibana/logging), or give Docker more memory (Docker Desktop: Settings > Resources)'
                : 'give Docker more memory (Docker Desktop: Settings > Resources), or use --context with a bigger cluster',
          },
        );
      }
    },
  };
}
