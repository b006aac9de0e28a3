// The hello-world job image: built from job/ with docker, tagged by a hash of its
// content (never :latest), and loaded into kind only when the node lacks that image
// (`kind load` re-sends the whole image every time). `--job-image` uses a prebuilt one.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { SandboxConfig } from '../lib/config.ts';
import { packagePath } from '../lib/paths.ts';
import type { Step, StepContext } from '../pipeline/step.ts';
import { PART_OF_LABELS } from './kit.ts';

export const JOB_IMAGE_REPO = 'flink-sandbox/hello-job';
/** Where `up` records the job image for scenarios and `status`. */
export const SANDBOX_CONFIGMAP = 'flink-sandbox';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'target' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out.sort();
}

/** A tag that changes exactly when the job's sources or the pinned Flink version change. */
export async function jobImageTag(cfg: SandboxConfig): Promise<string> {
  const root = packagePath('job');
  const hash = createHash('sha256').update(`flink=${cfg.components.flink.version}\n`);
  for (const f of await filesUnder(root)) {
    hash.update(`${relative(root, f)}\n`);
    hash.update(await readFile(f));
  }
  return `${JOB_IMAGE_REPO}:${hash.digest('hex').slice(0, 12)}`;
}

export function dockerBuildArgs(cfg: SandboxConfig, tag: string): string[] {
  return ['build', '--tag', tag, '--build-arg', `FLINK_VERSION=${cfg.components.flink.version}`, packagePath('job')];
}

/** kind records images as docker.io/<repo>:<tag>; a node lists them in status.images. */
async function nodesMissing(ctx: StepContext, ref: string): Promise<string[]> {
  const kube = await ctx.services.kube();
  const nodes = await kube.list('v1', 'Node');
  const wanted = [ref, `docker.io/${ref}`, `docker.io/library/${ref}`];
  return nodes
    .filter((n) => !((n.status?.images ?? []) as Array<{ names?: string[] }>).some((img) => img.names?.some((x) => wanted.includes(x))))
    .map((n) => n.metadata.name);
}

async function recordImage(ctx: StepContext, ref: string): Promise<void> {
  const kube = await ctx.services.kube();
  await kube.apply([
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: SANDBOX_CONFIGMAP, namespace: ctx.config.namespaces.job, labels: { ...PART_OF_LABELS } },
      data: { jobImage: ref, flinkVersion: ctx.config.components.flink.version },
    },
  ]);
}

async function imageRef(ctx: StepContext): Promise<string> {
  return ctx.config.jobImage ?? (await jobImageTag(ctx.config));
}

export const jobImageStep: Step = {
  id: 'job-image',
  title: 'Hello-world job image',
  needs: ['cluster'],
  // The job's JobManager and TaskManager (1 GiB each in manifests/flink/) once a scenario deploys it.
  memoryMiB: 2048,
  plan(cfg) {
    if (cfg.jobImage) return [{ kind: 'check', what: `use prebuilt image ${cfg.jobImage}` }];
    const tag = `${JOB_IMAGE_REPO}:<content hash of job/>`;
    return [
      { kind: 'command', argv: ['docker', 'image', 'inspect', tag] },
      { kind: 'command', argv: ['docker', ...dockerBuildArgs(cfg, tag)] },
      ...(cfg.cluster.provider === 'kind'
        ? [{ kind: 'command' as const, argv: ['kind', 'load', 'docker-image', tag, '--name', cfg.cluster.name] }]
        : []),
      { kind: 'check', what: 'load only into nodes whose status.images lack the tag' },
    ];
  },
  async isDone(ctx) {
    const ref = await imageRef(ctx);
    const kube = await ctx.services.kube();
    const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: SANDBOX_CONFIGMAP, namespace: ctx.config.namespaces.job });
    if (cm?.data?.jobImage !== ref) return false;
    if (ctx.config.cluster.provider === 'kind' && !ctx.config.jobImage && (await nodesMissing(ctx, ref)).length) return false;
    return true;
  },
  async apply(ctx) {
    const cfg = ctx.config;
    const ref = await imageRef(ctx);
    const tools = await ctx.services.tools();
    // `up` refuses --context without --job-image before the pipeline starts.
    if (!cfg.jobImage) {
      const local = await tools.probe('docker', ['image', 'inspect', ref], { signal: ctx.signal });
      if (local.ok) ctx.output(`${ref} already built`);
      else {
        ctx.output(`docker build ${ref}`);
        await tools.run('docker', dockerBuildArgs(cfg, ref), { signal: ctx.signal, onLine: ctx.output });
      }
    }
    if (cfg.cluster.provider === 'k3s' && !cfg.jobImage) {
      const { loadImageIntoK3s } = await import('./k3s.ts');
      ctx.output(`importing ${ref} into K3s`);
      await loadImageIntoK3s(ctx, ref);
    }
    if (cfg.cluster.provider === 'kind') {
      const local = cfg.jobImage ? await tools.probe('docker', ['image', 'inspect', ref], { signal: ctx.signal }) : { ok: true };
      const missing = await nodesMissing(ctx, ref);
      if (local.ok && missing.length) {
        ctx.output(`kind load docker-image ${ref} (nodes without it: ${missing.join(', ')})`);
        await tools.run('kind', ['load', 'docker-image', ref, '--name', cfg.cluster.name, '--nodes', missing.join(',')], {
          signal: ctx.signal,
          onLine: ctx.output,
        });
      }
    }
    await recordImage(ctx, ref);
  },
};
