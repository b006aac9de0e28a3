// `sandbox down`: deletes only what the sandbox made. Idempotent: a second run is a no-op.
// It holds the same per-context lock as `up`: a `down` never deletes a cluster an `up` is
// installing into, and an `up` never starts on a cluster a `down` is deleting.
import { kubeContext, type SandboxConfig } from '../lib/config.ts';
import { SandboxError } from '../lib/errors.ts';
import { takeLock } from '../lib/lock.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import type { Toolbox } from '../lib/exec/tools.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

/** The label kind puts on every node container, valued with the cluster's name. */
const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';

export async function down(opts: GlobalOptions): Promise<void> {
  const cfg = await configFrom(opts);
  if (cfg.cluster.provider === 'k3s') {
    throw new SandboxError('a K3s sandbox is removed when the `sandbox up --cluster k3s` that started it stops', {
      hint: 'stop that process (Ctrl-C); testcontainers removes the container',
    });
  }
  const lock = await takeLock(kubeContext(cfg), 'down');
  try {
    await downLocked(cfg, opts);
  } finally {
    lock.release();
  }
}

async function downLocked(cfg: SandboxConfig, opts: GlobalOptions): Promise<void> {
  const services = createServices(cfg);
  // Ctrl-C stops the child process too (they run in their own process group).
  const signal = interruptSignal();
  if (cfg.cluster.provider === 'kind') {
    const tools = await services.tools();
    const found = await kindCluster(tools, cfg.cluster.name, signal);
    if (found.exists) await tools.run('kind', ['delete', 'cluster', '--name', cfg.cluster.name], { signal });
    emit(opts, { ok: true, deleted: found.exists ? [`kind cluster ${cfg.cluster.name}`] : [], note: found.note }, () =>
      found.exists
        ? `✔ deleted kind cluster ${cfg.cluster.name}`
        : `✔ nothing to delete: no kind cluster named ${cfg.cluster.name}${found.note ? ` (${found.note})` : ''}`,
    );
    return;
  }
  if (cfg.cluster.provider === 'existing') {
    const { uninstallFromExisting, KEPT_NOTE } = await import('../steps/uninstall.ts');
    const { removed, kept } = await uninstallFromExisting(cfg, services);
    emit(opts, { ok: true, deleted: removed, kept, note: KEPT_NOTE }, () =>
      [
        removed.length ? `✔ removed from ${cfg.cluster.context}:\n  ${removed.join('\n  ')}` : `✔ nothing of the sandbox's left in ${cfg.cluster.context}`,
        ...(kept.length ? [`kept, because others keep things in them (delete them yourself once those can go):\n  ${kept.join('\n  ')}`] : []),
        `note: ${KEPT_NOTE}`,
      ].join('\n'),
    );
  }
}

/**
 * Whether the sandbox's kind cluster exists, without downloading kind for nothing: kind from
 * PATH or the cache is asked; without it, Docker is asked for kind's node containers (kind
 * labels them with the cluster's name), and kind is only fetched when there is one to delete.
 */
async function kindCluster(tools: Toolbox, name: string, signal: AbortSignal): Promise<{ exists: boolean; note?: string }> {
  const kind = await tools.resolve('kind', { download: false, signal }).catch(() => undefined);
  if (kind) {
    const { stdout } = await tools.run('kind', ['get', 'clusters'], { signal });
    return { exists: stdout.split('\n').map((l) => l.trim()).includes(name) };
  }
  const docker = await tools.resolve('docker', { signal }).catch(() => undefined);
  if (!docker) return { exists: false, note: 'neither kind nor Docker is installed, so there is none' };
  const nodes = await tools.probe('docker', ['ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}=${name}`, '--format', '{{.Names}}'], { signal, timeoutMs: 10_000 });
  if (!nodes.ok) {
    // kind clusters live in Docker: with no daemon answering, none is running.
    return { exists: false, note: `kind is not installed and Docker is not reachable; if Docker holds a stopped cluster, start Docker and run \`sandbox down\` again` };
  }
  return { exists: nodes.stdout.trim() !== '' };
}
