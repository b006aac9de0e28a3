// A fake `kind` that acts on the simulated cluster: clusters are registered at
// /_sim/clusters, nodes and add-ons are written through the API, kubeconfigs point at
// SIM_URL. Output and exit codes follow kind v0.32 (status lines on stderr, data on stdout).
import { existsSync, readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { KubeObject } from '../api-client.ts';
import { normalizeImage } from '../image-ref.ts';
import { DOCKER_DOWN, ToolExit, bool, flag, flags, parseArgs, runTool, type ToolContext } from './common.ts';
import { formatDuration, parseDuration } from './go-format.ts';
import { DEFAULT_NODE_IMAGE, KIND_VERSION, bootstrap, type KindNode } from './kind-cluster.ts';
import { kindKubeconfig, kindTarget, mergeKindContext, removeKindContext } from './kubeconfig.ts';

const USAGE = `kind creates and manages local Kubernetes clusters using Docker container 'nodes'

Usage:
  kind [command]

Available Commands:
  build       Build one of [node-image]
  completion  Output shell completion code for the specified shell (bash, zsh or fish)
  create      Creates one of [cluster]
  delete      Deletes one of [cluster]
  export      Exports one of [kubeconfig, logs]
  get         Gets one of [clusters, nodes, kubeconfig]
  help        Help about any command
  load        Loads images into nodes
  version     Prints the kind CLI version

Flags:
  -h, --help              help for kind
  -q, --quiet             silence all stderr output
  -v, --verbosity int32   info log verbosity, higher value produces more output
      --version           version for kind

Use "kind [command] --help" for more information about a command.
`;

/** kind's default cluster name ($KIND_CLUSTER_NAME, else "kind"). */
function defaultName(): string {
  return process.env.KIND_CLUSTER_NAME || 'kind';
}

interface ClusterEntry {
  name: string;
}

async function clusters(ctx: ToolContext): Promise<string[]> {
  const list = await ctx.api.request<ClusterEntry[] | { items?: ClusterEntry[] }>('GET', '/_sim/clusters');
  const items = Array.isArray(list) ? list : (list.items ?? []);
  return items.map((c) => c.name).sort();
}

/** kind needs docker for everything but `version`; a stopped daemon fails like this. */
async function needDocker(ctx: ToolContext, what: string, command: string): Promise<void> {
  if ((await ctx.faults()).docker?.down) {
    throw new ToolExit(`ERROR: ${what}: command "${command}" failed with error: exit status 1\nCommand Output: ${DOCKER_DOWN}`);
  }
}

function readConfig(path: string | undefined): { name?: string; nodes: KindNode[] } {
  if (!path) return { nodes: [{ role: 'control-plane' }] };
  if (!existsSync(path)) throw new ToolExit(`ERROR: failed to create cluster: error reading file: open ${path}: no such file or directory`);
  let doc: { kind?: string; apiVersion?: string; name?: string; nodes?: KindNode[] };
  try {
    doc = (parse(readFileSync(path, 'utf8')) ?? {}) as typeof doc;
  } catch (err) {
    throw new ToolExit(`ERROR: failed to create cluster: decoding failure: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc.kind !== 'Cluster' || doc.apiVersion !== 'kind.x-k8s.io/v1alpha4') {
    throw new ToolExit(`ERROR: failed to create cluster: unknown apiVersion/kind: ${doc.apiVersion ?? ''}, Kind=${doc.kind ?? ''}`);
  }
  const nodes = doc.nodes?.length ? doc.nodes : [{ role: 'control-plane' as const }];
  for (const n of nodes) {
    if (n.role !== 'control-plane' && n.role !== 'worker') throw new ToolExit(`ERROR: failed to create cluster: invalid configuration: 1 error occurred:\n\t* invalid role: ${String(n.role)}`);
  }
  if (!nodes.some((n) => n.role === 'control-plane')) throw new ToolExit('ERROR: failed to create cluster: invalid configuration: 1 error occurred:\n\t* must have at least one control-plane node');
  return { name: doc.name, nodes };
}

/** Wall-clock ms that `kind create cluster` takes before the nodes exist (set by bench/cold-up.ts). */
const KIND_CREATE_MS_ENV = 'SIM_KIND_CREATE_MS';

async function createCluster(ctx: ToolContext, argv: string[]): Promise<void> {
  const p = parseArgs(argv, { boolean: ['retain', 'help'], aliases: { n: 'name' } });
  const config = readConfig(flag(p, 'config'));
  const name = flag(p, 'name') ?? (process.env.KIND_CLUSTER_NAME || undefined) ?? config.name ?? 'kind';
  if (!/^[a-z0-9.-]+$/.test(name)) throw new ToolExit(`ERROR: failed to create cluster: '${name}' is not a valid cluster name, cluster names must match \`^[a-z0-9.-]+$\``);
  await needDocker(ctx, 'failed to create cluster', `docker ps -a --filter label=io.x-k8s.kind.cluster=${name} --format '{{.Names}}'`);
  if ((await clusters(ctx)).includes(name)) throw new ToolExit(`ERROR: failed to create cluster: node(s) already exist for a cluster with the name "${name}"`);
  const image = flag(p, 'image') ?? DEFAULT_NODE_IMAGE;
  const waitFlag = flag(p, 'wait');
  const waitMs = waitFlag === undefined ? 0 : parseDuration(waitFlag);
  if (waitMs === undefined) throw new ToolExit(`ERROR: invalid argument "${waitFlag}" for "--wait" flag: time: invalid duration "${waitFlag}"`);

  const faults = await ctx.faults();
  ctx.err(`Creating cluster "${name}" ...\n`);
  ctx.err(` ✓ Ensuring node image (${image.split('@')[0]}) 🖼\n`);
  ctx.err(` ✓ Preparing nodes ${config.nodes.map(() => '📦').join(' ')}  \n`);
  // How long the node containers take to start (real kind: 12-17 s), in wall ms; default none.
  const createMs = Number(process.env[KIND_CREATE_MS_ENV] ?? 0);
  if (createMs > 0) await new Promise((r) => setTimeout(r, createMs));
  await ctx.api.request('POST', '/_sim/clusters', { name });
  ctx.err(' ✓ Writing configuration 📜\n');
  await bootstrap(ctx.api, name, config.nodes, image, { cpus: faults.docker?.cpus ?? 8, memBytes: faults.docker?.memBytes ?? 16 * 2 ** 30 });
  ctx.err(' ✓ Starting control-plane 🕹️\n ✓ Installing CNI 🔌\n ✓ Installing StorageClass 💾\n');
  if (config.nodes.some((n) => n.role === 'worker')) ctx.err(' ✓ Joining worker nodes 🚜\n');
  if (waitMs > 0) ctx.err(` ✓ Waiting ≤ ${formatDuration(waitMs)} for control-plane = Ready ⏳\n • Ready after 0s 💚\n`);
  mergeKindContext(kindTarget(flag(p, 'kubeconfig')), name, ctx.url);
  ctx.err(`Set kubectl context to "kind-${name}"\nYou can now use your cluster with:\n\nkubectl cluster-info --context kind-${name}\n\nThanks for using kind! 😊\n`);
}

async function deleteCluster(ctx: ToolContext, argv: string[]): Promise<void> {
  const p = parseArgs(argv, { aliases: { n: 'name' } });
  const name = flag(p, 'name') ?? defaultName();
  await needDocker(ctx, 'failed to delete cluster "' + name + '"', `docker ps -a --filter label=io.x-k8s.kind.cluster=${name} --format '{{.Names}}'`);
  ctx.err(`Deleting cluster "${name}" ...\n`);
  if ((await clusters(ctx)).includes(name)) {
    const nodes = await ctx.api.list('/api/v1/nodes').catch(() => ({ items: [] as KubeObject[] }));
    await ctx.api.request('DELETE', `/_sim/clusters/${encodeURIComponent(name)}`);
    const names = nodes.items.map((n) => n.metadata.name).filter((n) => n?.startsWith(`${name}-`));
    ctx.err(`Deleted nodes: [${names.map((n) => `"${n}"`).join(' ')}]\n`);
  }
  removeKindContext(kindTarget(flag(p, 'kubeconfig')), name);
}

async function loadImages(ctx: ToolContext, argv: string[]): Promise<void> {
  const p = parseArgs(argv, { aliases: { n: 'name' } });
  const name = flag(p, 'name') ?? defaultName();
  const images = p.positional;
  if (images.length === 0) throw new ToolExit('ERROR: a list of image names is required');
  await needDocker(ctx, 'failed to load image', `docker image inspect -f '{{ .Id }}' ${images[0]}`);
  const store = (await ctx.faults()).dockerImages ?? {};
  const ids = images.map((img) => {
    const found = store[normalizeImage(img)];
    if (!found) throw new ToolExit(`ERROR: image: "${img}" not present locally`);
    return found;
  });
  if (!(await clusters(ctx)).includes(name)) throw new ToolExit(`ERROR: no nodes found for cluster "${name}"`);
  const only = flags(p, 'nodes').flatMap((s) => s.split(','));
  const nodes = (await ctx.api.list('/api/v1/nodes')).items.filter((n) => n.metadata.name?.startsWith(`${name}-`) && (only.length === 0 || only.includes(n.metadata.name)));
  if (nodes.length === 0) throw new ToolExit(`ERROR: no nodes found for cluster "${name}"`);
  for (const [i, img] of images.entries()) {
    const ref = normalizeImage(img);
    const missing = nodes.filter((n) => !((n.status?.images ?? []) as { names?: string[] }[]).some((x) => x.names?.includes(ref)));
    if (missing.length === 0) {
      ctx.err(`Image: "${img}" with ID "${ids[i]!.id}" found to be already present on all nodes.\n`);
      continue;
    }
    for (const node of missing) {
      ctx.err(`Image: "${img}" with ID "${ids[i]!.id}" not yet present on node "${node.metadata.name}", loading...\n`);
      const fresh = (await ctx.api.get(`/api/v1/nodes/${node.metadata.name}`)) ?? node;
      const list = [...((fresh.status?.images ?? []) as { names: string[]; sizeBytes: number }[]).filter((x) => !x.names.includes(ref)), { names: [ref], sizeBytes: ids[i]!.sizeBytes }];
      await ctx.api.mergePatch(`/api/v1/nodes/${node.metadata.name}/status`, { status: { images: list } });
    }
  }
}

async function main(ctx: ToolContext): Promise<number> {
  const [cmd, sub, ...rest] = ctx.argv;
  const p = (argv: string[]) => parseArgs(argv, { aliases: { n: 'name' } });
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    ctx.out(USAGE);
    return 0;
  }
  if (cmd === 'version' || cmd === '--version') {
    const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    ctx.out(cmd === 'version' ? `kind ${KIND_VERSION} go1.24.6 linux/${arch}\n` : `kind version ${KIND_VERSION.slice(1)}\n`);
    return 0;
  }
  if (cmd === 'create' && sub === 'cluster') return createCluster(ctx, rest).then(() => 0);
  if (cmd === 'delete' && sub === 'cluster') return deleteCluster(ctx, rest).then(() => 0);
  if (cmd === 'delete' && sub === 'clusters') {
    const all = bool(p(rest), 'all');
    const names = all ? await clusters(ctx) : p(rest).positional;
    for (const n of names) await deleteCluster(ctx, ['--name', n]);
    ctx.err(`Deleted clusters: [${names.map((n) => `"${n}"`).join(' ')}]\n`);
    return 0;
  }
  if (cmd === 'get' && sub === 'clusters') {
    await needDocker(ctx, 'failed to list clusters', `docker ps -a --filter label=io.x-k8s.kind.cluster --format '{{.Label "io.x-k8s.kind.cluster"}}'`);
    const names = await clusters(ctx);
    if (names.length === 0) ctx.err('No kind clusters found.\n');
    for (const n of names) ctx.out(`${n}\n`);
    return 0;
  }
  if (cmd === 'get' && sub === 'nodes') {
    const name = flag(p(rest), 'name') ?? defaultName();
    await needDocker(ctx, 'failed to list nodes', `docker ps -a --filter label=io.x-k8s.kind.cluster=${name} --format '{{.Names}}'`);
    if (!(await clusters(ctx)).includes(name)) {
      ctx.err(`No kind nodes found for cluster "${name}".\n`);
      return 0;
    }
    const nodes = (await ctx.api.list('/api/v1/nodes')).items.map((n) => n.metadata.name!).filter((n) => n.startsWith(`${name}-`));
    for (const n of nodes.sort()) ctx.out(`${n}\n`);
    return 0;
  }
  if (cmd === 'get' && sub === 'kubeconfig') {
    const name = flag(p(rest), 'name') ?? defaultName();
    await needDocker(ctx, 'failed to get kubeconfig', `docker ps -a --filter label=io.x-k8s.kind.cluster=${name} --format '{{.Names}}'`);
    if (!(await clusters(ctx)).includes(name)) {
      throw new ToolExit(`ERROR: could not locate any control plane nodes for cluster named '${name}'. Use the --name option to select a different cluster`);
    }
    ctx.out(stringify(kindKubeconfig(name, ctx.url)));
    return 0;
  }
  if (cmd === 'export' && sub === 'kubeconfig') {
    const parsed = p(rest);
    const name = flag(parsed, 'name') ?? defaultName();
    if (!(await clusters(ctx)).includes(name)) {
      throw new ToolExit(`ERROR: could not locate any control plane nodes for cluster named '${name}'. Use the --name option to select a different cluster`);
    }
    mergeKindContext(kindTarget(flag(parsed, 'kubeconfig')), name, ctx.url);
    ctx.err(`Set kubectl context to "kind-${name}"\n`);
    return 0;
  }
  if (cmd === 'load' && sub === 'docker-image') return loadImages(ctx, rest).then(() => 0);
  // cobra's wording: the unknown word, and the command it was given to.
  const group = ['create', 'delete', 'get', 'load', 'export'].includes(cmd);
  const word = group ? (sub ?? '') : cmd;
  throw new ToolExit(`ERROR: unknown command "${word}" for "kind${group ? ` ${cmd}` : ''}"\nRun 'kind --help' for usage.`);
}

await runTool('kind', main);
