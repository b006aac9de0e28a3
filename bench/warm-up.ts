// Warm convergence: `sandbox up --profile minimal` on a sandbox that is already installed,
// against the blog's command sequence replayed through the same fake tools and API server
// (apply every manifest, `helm upgrade --install` every chart, build and load the job image,
// then wait for each with a 1-second poll, as `kubectl wait` scripts do). The replay repeats the
// exact tool arguments our cold run used, so both sides install the same things. The two take
// turns for several rounds and the medians are compared: one run of each on a shared machine says
// little (the replay's 1 s polls make it vary most).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, runCli } from '../test/helpers/cli.ts';
import { percentile } from './readiness.ts';
import { SimClient, type KubeObject } from '../test/sim/api-client.ts';
import type { Sim, ToolCall } from '../test/sim/harness.ts';

export interface WarmUpResult {
  coldMs: number;
  rounds: number;
  /** Medians over the rounds; the samples follow. */
  oursMs: number;
  oursSamplesMs: number[];
  oursRequests: number;
  /** kind/helm/docker processes started: in the simulation each is a Node process that costs far more than the Go binaries. */
  oursToolCalls: number;
  blogMs: number;
  blogSamplesMs: number[];
  blogRequests: number;
  blogToolCalls: number;
}

interface Counts {
  byActor: Record<string, Record<string, number>>;
}

const BASELINE_ACTOR = 'blog-replay';

async function simPost(sim: Sim, path: string): Promise<void> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'x-sim-actor': 'bench' } });
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status}`);
}

/** Requests the CLI side made: the given actors' (the CLI is 'client', fake helm is 'helm'). */
async function requests(sim: Sim, actors: string[]): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/audit/counts`, { headers: { 'x-sim-actor': 'bench' } });
  const counts = (await res.json()) as Counts;
  let n = 0;
  for (const a of actors) for (const v of Object.values(counts.byActor[a] ?? {})) n += v;
  return n;
}

/** The manifests the minimal profile's steps apply, as the blog applies them: file by file. */
function minimalManifests(): KubeObject[] {
  const dir = join(REPO_ROOT, 'manifests', 'minio');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject))
    .filter((o) => o && typeof o === 'object' && 'kind' in o);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SETTLE_MS = 500;

/** `kubectl wait` as the blog's scripts use it: one GET a second until the check holds. */
async function pollUntil(client: SimClient, path: string, ok: (o: KubeObject) => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const o = await client.get(path);
    if (o && ok(o)) return;
    await sleep(1000);
  }
  throw new Error(`baseline: ${path} never became ready`);
}

const available = (o: KubeObject): boolean => {
  const s = (o.status ?? {}) as { readyReplicas?: number; succeeded?: number };
  const spec = (o.spec ?? {}) as { replicas?: number };
  return o.kind === 'Job' ? (s.succeeded ?? 0) >= 1 : (s.readyReplicas ?? 0) >= (spec.replicas ?? 1);
};

async function replayBlog(sim: Sim, tools: ToolCall[]): Promise<void> {
  const client = new SimClient(sim.url, BASELINE_ACTOR);
  for (const obj of minimalManifests()) {
    const ns = obj.metadata.namespace ?? 'default';
    const path = await client.objectPath(obj, ns);
    await client.apply(path, obj, 'kubectl');
    if (obj.kind === 'Deployment' || obj.kind === 'Job') await pollUntil(client, path, available);
  }
  for (const call of tools) {
    const res = await sim.tool(call.tool as 'helm' | 'docker' | 'kind', call.argv);
    if (res.code !== 0) throw new Error(`baseline: ${call.tool} ${call.argv.join(' ')} failed: ${res.stderr}`);
    const ns = call.tool === 'helm' ? call.argv[call.argv.indexOf('--namespace') + 1] : undefined;
    if (!ns) continue;
    const deployments = (await client.list(`/apis/apps/v1/namespaces/${ns}/deployments`)).items;
    for (const d of deployments) await pollUntil(client, `/apis/apps/v1/namespaces/${ns}/deployments/${d.metadata.name}`, available);
  }
}

/** The calls that install something: helm upgrade --install, docker build, kind load. */
function installCalls(calls: ToolCall[]): ToolCall[] {
  return calls.filter((c) => (c.tool === 'helm' && c.argv[0] === 'upgrade') || (c.tool === 'docker' && c.argv[0] === 'build') || (c.tool === 'kind' && c.argv[0] === 'load'));
}

export async function warmUp(sim: Sim, rounds = 5): Promise<WarmUpResult> {
  const args = ['up', '--profile', 'minimal', '--config', sim.configFile];
  const cold = await runCli(args, { env: sim.env, timeoutMs: 240_000 });
  if (cold.code !== 0) throw new Error(`cold up failed (${cold.code}):\n${cold.stderr}`);
  const tools = installCalls(await sim.calls());

  const oursSamplesMs: number[] = [];
  const blogSamplesMs: number[] = [];
  let oursRequests = 0;
  let oursToolCalls = 0;
  let blogRequests = 0;
  for (let i = 0; i < rounds; i++) {
    // Each side starts on a settled simulation: the replay's helm upgrades leave the simulated
    // controllers some work, which would otherwise fall into our next run.
    await sleep(SETTLE_MS);
    await simPost(sim, '/_sim/audit/reset');
    const before = (await sim.calls()).length;
    const ours = await runCli(args, { env: sim.env, timeoutMs: 120_000 });
    if (ours.code !== 0) throw new Error(`warm up failed (${ours.code}):\n${ours.stderr}`);
    oursSamplesMs.push(ours.ms);
    // The most any round needed: a replay before it must not have left work for the next up.
    oursRequests = Math.max(oursRequests, await requests(sim, ['client', 'helm']));
    oursToolCalls = Math.max(oursToolCalls, (await sim.calls()).length - before);

    await sleep(SETTLE_MS);
    await simPost(sim, '/_sim/audit/reset');
    const started = performance.now();
    await replayBlog(sim, tools);
    blogSamplesMs.push(performance.now() - started);
    blogRequests = Math.max(blogRequests, await requests(sim, [BASELINE_ACTOR, 'helm']));
  }
  return {
    coldMs: cold.ms,
    rounds,
    oursMs: percentile(oursSamplesMs, 50),
    oursSamplesMs,
    oursRequests,
    oursToolCalls,
    blogMs: percentile(blogSamplesMs, 50),
    blogSamplesMs,
    blogRequests,
    blogToolCalls: tools.length,
  };
}
