// Lazily connected services handed to steps and commands: the Kubernetes API and the
// tools. Nothing heavy is imported until a command needs it.
import { join } from 'node:path';
import { inProgress } from './activity.ts';
import { kubeContext, type SandboxConfig } from './config.ts';
import { InterruptedError } from './errors.ts';
import type { Kube } from './kube/kube.ts';
import { stateDir } from './paths.ts';
import type { Toolbox } from './exec/tools.ts';

/** The kubeconfig of a K3s cluster started by the sandbox (its context is `default`). */
export function k3sKubeconfigPath(): string {
  return join(stateDir(), 'k3s-kubeconfig.yaml');
}

/** Flags that point kubectl-style tools (helm) at the sandbox's cluster, never the current context. */
export function kubeTargetArgs(cfg: SandboxConfig): string[] {
  if (cfg.cluster.provider === 'k3s') return ['--kubeconfig', k3sKubeconfigPath(), '--kube-context', 'default'];
  return ['--kube-context', kubeContext(cfg)];
}

/** The Kubernetes API and the tools, connected on first use; steps receive them as StepServices. */
export interface Services {
  kube(): Promise<Kube>;
  tools(): Promise<Toolbox>;
}

export interface ServiceOptions {
  /** Applies take over fields other managers changed, instead of reporting them (`up --force`). */
  forceConflicts?: boolean;
}

export function createServices(cfg: SandboxConfig, opts: ServiceOptions = {}): Services {
  let kube: Promise<Kube> | undefined;
  let tools: Promise<Toolbox> | undefined;
  return {
    kube() {
      kube ??= import('./kube/connect.ts').then(({ connectKube }) =>
        cfg.cluster.provider === 'k3s'
          ? connectKube({ kubeconfig: k3sKubeconfigPath(), context: 'default', forceConflicts: opts.forceConflicts })
          : connectKube({ context: kubeContext(cfg), forceConflicts: opts.forceConflicts }),
      );
      // A failed connection may succeed later (the cluster was still starting): do not cache it.
      kube.catch(() => (kube = undefined));
      return kube;
    },
    tools() {
      tools ??= import('./exec/tools.ts').then(({ createToolbox }) => createToolbox(cfg));
      return tools;
    },
  };
}

let controller: AbortController | undefined;
let listener: ((sig: NodeJS.Signals) => void) | undefined;

/** Forgets an earlier interrupt (the menu goes on after a Ctrl-C ended one action). */
export function resetInterrupt(): void {
  if (listener) {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  }
  controller = undefined;
  listener = undefined;
}

/**
 * Aborted on the first Ctrl-C (or SIGTERM): steps stop their waits and child processes and
 * the run ends cleanly, keeping the cluster. A second Ctrl-C exits at once.
 */
export function interruptSignal(): AbortSignal {
  if (controller) return controller.signal;
  const ctl = new AbortController();
  controller = ctl;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ctl.signal.aborted) {
      // The one exit outside cli.ts: a second Ctrl-C must not wait for the command to unwind.
      process.stderr.write(`${quitNote(sig)}\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping cleanly (press Ctrl-C again to quit at once)\n`);
    // An InterruptedError, so whatever command it stops ends with exit 130, not as a bug.
    ctl.abort(new InterruptedError(`interrupted by ${sig}`, { hint: 're-run the same command to continue' }));
  };
  listener = onSignal;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ctl.signal;
}

/** What a second Ctrl-C leaves behind, said before it exits (sh.ts kills the commands on exit). */
function quitNote(sig: NodeJS.Signals): string {
  const { commands, tasks } = inProgress();
  const lines = [`${sig === 'SIGINT' ? 'Ctrl-C' : sig} again: quitting at once, without cleaning up`];
  if (tasks.length) lines.push(`  left mid-way: ${tasks.join('; ')}`);
  if (commands.length) lines.push(`  killed: ${commands.join('; ')}`);
  if (commands.some((c) => /^helm (upgrade|install|uninstall|rollback)\b/.test(c))) {
    lines.push('  a Helm release it was changing may be left pending: the next `sandbox up` finds and repairs it');
  }
  if (!tasks.length && !commands.length) lines.push('  nothing was in progress');
  lines.push('  hint: re-run the same command: it checks what is in place and finishes the rest');
  return lines.join('\n');
}
