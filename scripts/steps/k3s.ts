// `--cluster k3s`: an ephemeral K3s container started through testcontainers, for CI
// users who want a throwaway cluster. It lives while the `sandbox` process that started
// it runs; testcontainers' reaper removes it when that process ends, even on a crash.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { RunState, StepContext } from '../pipeline/step.ts';
import { SandboxError } from '../lib/errors.ts';
import { k3sKubeconfigPath } from '../lib/services.ts';

export async function startK3s(ctx: StepContext): Promise<void> {
  const { K3sContainer } = await import('@testcontainers/k3s');
  ctx.output(`starting ${ctx.config.cluster.k3sImage}`);
  let started;
  try {
    started = await new K3sContainer(ctx.config.cluster.k3sImage).start();
  } catch (err) {
    throw new SandboxError(`cannot start K3s (${ctx.config.cluster.k3sImage})`, {
      cause: err,
      hint: 'K3s runs as a privileged container: check `docker run --privileged` works, or use the default kind cluster',
    });
  }
  const path = k3sKubeconfigPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, started.getKubeConfig(), { mode: 0o600 });
  ctx.state.k3s = started;
}

/** Loads a locally built image into the K3s container's containerd (no registry needed). */
export async function loadImageIntoK3s(ctx: StepContext, ref: string): Promise<void> {
  const k3s = ctx.state.k3s;
  if (!k3s) throw new SandboxError('the K3s cluster of this run is not running', { hint: 're-run `sandbox up --cluster k3s`' });
  const tools = await ctx.services.tools();
  const tar = join(tmpdir(), `sandbox-job-image-${process.pid}.tar`);
  try {
    await tools.run('docker', ['save', '--output', tar, ref], { signal: ctx.signal });
    await k3s.copyFilesToContainer([{ source: tar, target: '/tmp/job-image.tar' }]);
  } finally {
    await rm(tar, { force: true });
  }
  const res = await k3s.exec(['ctr', '--namespace', 'k8s.io', 'images', 'import', '/tmp/job-image.tar']);
  if (res.exitCode !== 0) throw new SandboxError(`K3s could not import ${ref}: ${res.output.trim()}`);
}

/** Holds the K3s cluster until the signal (Ctrl-C) fires, then removes it. */
export async function holdK3s(state: RunState, signal: AbortSignal, say: (line: string) => void): Promise<void> {
  const k3s = state.k3s;
  if (!k3s) return;
  say(`K3s is up; KUBECONFIG=${k3sKubeconfigPath()}. It lives while this command runs: press Ctrl-C to stop and remove it.`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await k3s.stop();
}
