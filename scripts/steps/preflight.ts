// Fails fast, before anything is created, when the machine cannot hold the chosen
// profile: Docker must answer, and have the memory the profile's workloads request. Docker is
// asked with `docker info`, unless the sandbox's kind cluster already answers: its nodes are
// containers Docker runs (so Docker is up), and a node's memory capacity is the memory of the
// machine Docker runs them on, the MemTotal `docker info` reports. A warm `up` then starts no
// process for the check.
import type { SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import type { KubeObject } from '../lib/kube/kube.ts';
import type { Step, StepContext } from '../pipeline/step.ts';
import { kindControlPlane } from './cluster.ts';

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

const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };

/** A Kubernetes quantity of bytes (`16318480Ki`, `8G`, `1024`); NaN when it is not one. */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(quantity.trim());
  const unit = m ? UNITS[m[2] ?? ''] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
}

interface Machine {
  cpus: number;
  memBytes: number;
  /** Where the numbers come from, for the step's line. */
  source: string;
}

/** What the running kind cluster's control-plane node reports, or undefined when it does not answer. */
export function machineOfNode(node: KubeObject | undefined, cluster: string): Machine | undefined {
  const capacity = (node?.status?.capacity ?? {}) as { cpu?: string; memory?: string };
  const memBytes = quantityBytes(capacity.memory ?? '');
  if (!Number.isFinite(memBytes) || memBytes <= 0) return undefined;
  return { cpus: Number.parseInt(capacity.cpu ?? '0', 10), memBytes, source: `kind cluster ${cluster} is up: its nodes see Docker's` };
}

async function machine(ctx: StepContext): Promise<Machine> {
  if (ctx.config.cluster.provider === 'kind') {
    const known = machineOfNode(await kindControlPlane(ctx), ctx.config.cluster.name);
    if (known) return known;
  }
  const tools = await ctx.services.tools();
  const info = await tools.dockerInfo();
  return { cpus: info.cpus, memBytes: info.memBytes, source: `Docker ${info.serverVersion}:` };
}

export function preflightStep(allSteps: () => readonly Step[]): Step {
  return {
    id: 'preflight',
    title: 'Preflight: Docker and resources',
    plan: (cfg) => [
      ...(needsDocker(cfg) && cfg.cluster.provider === 'kind'
        ? [{ kind: 'check' as const, what: "Docker's CPUs and memory from the kind cluster's nodes when it answers already; else from:" }]
        : []),
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
      const info = await machine(ctx);
      const needMiB = requiredMemoryMiB(allSteps(), cfg);
      const haveMiB = Math.floor(info.memBytes / 1024 ** 2);
      ctx.output(`${info.source} ${info.cpus} CPUs, ${(info.memBytes / GiB).toFixed(1)} GiB; profile ${cfg.profile} needs ${(needMiB / 1024).toFixed(1)} GiB`);
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
