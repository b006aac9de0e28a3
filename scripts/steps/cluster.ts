// The cluster: a kind cluster from kind-config.yaml, or (with --context) an existing
// cluster that is only checked. Ready = every node Ready, cluster DNS answering
// (CoreDNS pods Ready) and a default StorageClass for MinIO's volume.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubeContext, type SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import { packagePath, stateDir } from '../lib/paths.ts';
import type { Kube, KubeObject } from '../lib/kube/kube.ts';
import type { CheckResult } from '../lib/wait/checks.ts';
import { Ready, type WaitStrategy } from '../lib/wait/strategy.ts';
import type { Step, StepContext } from '../pipeline/step.ts';
import { parseKindConfig } from './kind-config.ts';
import { askOnce, prefetch } from './probes.ts';

/** kind-config.yaml with the configured host ports for the ingress controller. */
export async function renderKindConfig(cfg: SandboxConfig): Promise<string> {
  const doc = parseKindConfig(await readFile(packagePath('kind-config.yaml'), 'utf8'), packagePath('kind-config.yaml'));
  for (const node of doc.nodes) {
    for (const m of node.extraPortMappings ?? []) {
      if (m.containerPort === 80) m.hostPort = cfg.cluster.ingressHttpPort;
      if (m.containerPort === 443) m.hostPort = cfg.cluster.ingressHttpsPort;
    }
  }
  return stringify(doc);
}

export function kindConfigPath(): string {
  return join(stateDir(), 'kind-config.yaml');
}

export function kindCreateArgs(cfg: SandboxConfig, configPath: string): string[] {
  return ['create', 'cluster', '--name', cfg.cluster.name, '--config', configPath, '--image', cfg.cluster.nodeImage, '--wait', '0s'];
}

async function kindClusters(ctx: StepContext): Promise<string[]> {
  const tools = await ctx.services.tools();
  const res = await tools.probe('kind', ['get', 'clusters'], { signal: ctx.signal });
  if (!res.ok) throw new SandboxError(`cannot list kind clusters: ${res.stderr.trim() || `exit ${res.code}`}`, { hint: 'run `sandbox doctor`' });
  return res.stdout.split('\n').map((l) => l.trim());
}

const KIND_NODE = 'kind control-plane node';
const KIND_CLUSTER = 'kind cluster exists';

/**
 * kind's control-plane node of the cluster, as the cluster's API lists it through the sandbox's
 * kube context (`kind-<name>`, which kind writes into the kubeconfig when it creates the cluster;
 * kind names the node `<name>-control-plane`). Undefined when nothing answers (no kubeconfig, no
 * such context, a stopped or deleted cluster): a "don't know" that `kind get clusters` settles.
 * Asked once per run; the preflight reads Docker's memory from it (its capacity is the memory of
 * the machine Docker runs the node containers on).
 */
export function kindControlPlane(ctx: StepContext): Promise<KubeObject | undefined> {
  return askOnce(ctx, KIND_NODE, async () => {
    try {
      const kube = await ctx.services.kube();
      const name = `${ctx.config.cluster.name}-control-plane`;
      return (await kube.list('v1', 'Node')).find((n) => n.metadata.name === name);
    } catch {
      return undefined;
    }
  });
}

/**
 * Whether the kind cluster exists: a cluster that answers through its context is known without
 * starting `kind get clusters` (a process costing 0.1-0.2 s of CPU); kind is asked only when it
 * does not (before the first run, a stopped or deleted cluster). Once per run, possibly started by
 * the preflight (steps/probes.ts).
 */
export async function kindClusterExists(ctx: StepContext): Promise<boolean> {
  return askOnce(ctx, KIND_CLUSTER, () => clusterExists(ctx));
}

async function clusterExists(ctx: StepContext): Promise<boolean> {
  return (await kindControlPlane(ctx)) !== undefined || (await kindClusters(ctx)).includes(ctx.config.cluster.name);
}

const DEFAULT_SC = 'storageclass.kubernetes.io/is-default-class';

async function nodes(kube: Kube): Promise<KubeObject[]> {
  const found = await kube.list('v1', 'Node');
  if (found.length === 0) throw new SandboxError(`cluster ${kube.context} has no nodes`, { hint: 'recreate it: `sandbox down && sandbox up`' });
  return found;
}

async function defaultStorageClass(kube: Kube): Promise<CheckResult> {
  const classes = await kube.list('storage.k8s.io/v1', 'StorageClass');
  const def = classes.find((c) => c.metadata.annotations?.[DEFAULT_SC] === 'true');
  const seen = def
    ? `default StorageClass ${def.metadata.name}`
    : classes.length
      ? `StorageClasses ${classes.map((c) => c.metadata.name).join(', ')}, none default`
      : 'no StorageClass';
  return { ok: def !== undefined, seen };
}

/** Every node Ready, cluster DNS answering (CoreDNS pods Ready), a default StorageClass. */
function clusterGate(): WaitStrategy[] {
  return [
    Ready.each('every node to be Ready', nodes, (n) => Ready.condition({ apiVersion: 'v1', kind: 'Node', name: n.metadata.name }, 'Ready')),
    Ready.podsReady('kube-system', 'k8s-app=kube-dns'),
    Ready.polled('a default StorageClass', defaultStorageClass),
  ];
}

export const clusterStep: Step = {
  id: 'cluster',
  title: 'Kubernetes cluster',
  needs: ['preflight'],
  namespaces: () => ['kube-system'],
  plan(cfg) {
    if (cfg.cluster.provider === 'existing') {
      return [{ kind: 'check', what: `use existing context ${kubeContext(cfg)}` }];
    }
    if (cfg.cluster.provider === 'k3s') {
      return [{ kind: 'check', what: `start K3s (${cfg.cluster.k3sImage}) through testcontainers` }];
    }
    return [
      { kind: 'check', what: `context ${kubeContext(cfg)} answers with node ${cfg.cluster.name}-control-plane (else kind is asked)` },
      { kind: 'command', argv: ['kind', 'get', 'clusters'] },
      { kind: 'command', argv: ['kind', ...kindCreateArgs(cfg, kindConfigPath())] },
    ];
  },
  prefetch(ctx) {
    if (ctx.config.cluster.provider === 'kind') prefetch(ctx, KIND_CLUSTER, () => clusterExists(ctx));
  },
  async isDone(ctx) {
    if (ctx.config.cluster.provider === 'existing') return true;
    if (ctx.config.cluster.provider === 'k3s') return false;
    return kindClusterExists(ctx);
  },
  async apply(ctx) {
    const cfg = ctx.config;
    // Reached with --force too: an existing cluster is checked by the gate, never recreated.
    if (cfg.cluster.provider === 'existing') return;
    if (cfg.cluster.provider === 'kind' && (await kindClusterExists(ctx))) return;
    if (cfg.cluster.provider === 'k3s') {
      const { startK3s } = await import('./k3s.ts');
      await startK3s(ctx);
      return;
    }
    const path = kindConfigPath();
    await mkdir(stateDir(), { recursive: true });
    await writeFile(path, await renderKindConfig(cfg));
    const tools = await ctx.services.tools();
    ctx.output(`kind create cluster --name ${cfg.cluster.name}`);
    try {
      await tools.run('kind', kindCreateArgs(cfg, path), { signal: ctx.signal, onLine: ctx.output });
    } catch (err) {
      if (ctx.signal.aborted || !(err instanceof SandboxError)) throw err;
      throw new SandboxError(`kind could not create cluster ${cfg.cluster.name}`, {
        cause: err,
        hint: "kind's own error is above; usually a host port in use (`sandbox doctor` names its holder; set cluster.ingressHttpPort/ingressHttpsPort), a leftover cluster or node container of that name (`sandbox down`), or Docker out of resources; then run `sandbox up` again",
      });
    }
  },
  gate: clusterGate,
};
