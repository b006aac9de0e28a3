// `sandbox down`: deletes only what the sandbox made. Idempotent: a second run is a no-op.
import { SandboxError } from '../lib/errors.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

export async function down(opts: GlobalOptions): Promise<void> {
  const cfg = await configFrom(opts);
  const services = createServices(cfg);
  // Ctrl-C stops the child process too (they run in their own process group).
  const signal = interruptSignal();
  if (cfg.cluster.provider === 'kind') {
    const tools = await services.tools();
    const { stdout } = await tools.run('kind', ['get', 'clusters'], { signal });
    const exists = stdout.split('\n').map((l) => l.trim()).includes(cfg.cluster.name);
    if (exists) await tools.run('kind', ['delete', 'cluster', '--name', cfg.cluster.name], { signal });
    emit(opts, { ok: true, deleted: exists ? [`kind cluster ${cfg.cluster.name}`] : [] }, () =>
      exists ? `✔ deleted kind cluster ${cfg.cluster.name}` : `✔ nothing to delete: no kind cluster named ${cfg.cluster.name}`,
    );
    return;
  }
  if (cfg.cluster.provider === 'existing') {
    const { uninstallFromExisting, KEPT_NOTE } = await import('../steps/uninstall.ts');
    const removed = await uninstallFromExisting(cfg, services);
    emit(opts, { ok: true, deleted: removed, note: KEPT_NOTE }, () =>
      `${removed.length ? `✔ removed from ${cfg.cluster.context}:\n  ${removed.join('\n  ')}` : `✔ nothing of the sandbox's left in ${cfg.cluster.context}`}\nnote: ${KEPT_NOTE}`,
    );
    return;
  }
  throw new SandboxError('a K3s sandbox is removed when the `sandbox up --cluster k3s` that started it stops', {
    hint: 'stop that process (Ctrl-C); testcontainers removes the container',
  });
}
