// Loading the kubeconfig, choosing the context, and checking that the API server answers, so
// that a missing context or a stopped cluster ends in one clear sentence instead of a stack.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { SandboxError } from '../errors.ts';
import type { RetryPolicy } from './client.ts';
import type { Kube } from './kube.ts';

export interface ConnectOptions {
  context?: string;
  /** A kubeconfig file; default: $KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** How long the first request may take; default 10 s. */
  probeTimeoutMs?: number;
  /** Retries of transient failures (5xx, 429, dropped connections). */
  retry?: RetryPolicy;
  /** Applies take over fields other managers changed (`sandbox up --force`); default: report them. */
  forceConflicts?: boolean;
}

function kubeconfigFiles(opts: ConnectOptions, env: NodeJS.ProcessEnv): string[] {
  if (opts.kubeconfig) return [opts.kubeconfig];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  return [join(homedir(), '.kube', 'config')];
}

// client-node is imported only once there is a kubeconfig: `sandbox status` on a machine
// without a sandbox answers without loading it.
async function loadConfig(opts: ConnectOptions): Promise<KubeConfig> {
  const files = kubeconfigFiles(opts, process.env);
  const inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined;
  if (!inCluster && !files.some((f) => existsSync(f))) {
    throw new SandboxError(`no kubeconfig found (looked at ${files.join(', ')})`, {
      hint: '`sandbox up` creates a kind cluster and its kubeconfig; or set KUBECONFIG / pass --context',
    });
  }
  const { readKubeconfig } = await import('./kubeconfig.ts');
  let kc: KubeConfig;
  try {
    kc = readKubeconfig(opts.kubeconfig);
  } catch (err) {
    throw new SandboxError(`cannot read kubeconfig ${files.join(', ')}: ${(err as Error).message}`, {
      cause: err,
      hint: 'fix or remove the file; `kubectl config view` shows what is wrong',
    });
  }
  // kubectl talks to a plain-http server (`kubectl proxy`, test servers) as it is; client-node
  // refuses unless the cluster says insecure-skip-tls-verify, which means nothing without TLS.
  kc.clusters = kc.clusters.map((c) => (c.server.startsWith('http:') && !c.skipTLSVerify ? { ...c, skipTLSVerify: true } : c));
  return kc;
}

export async function connectKube(opts: ConnectOptions = {}): Promise<Kube> {
  const kc = await loadConfig(opts);
  const names = kc.getContexts().map((c) => c.name);
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new SandboxError(`kube context "${opts.context}" not found`, {
        hint: names.length ? `known contexts: ${names.join(', ')}` : 'the kubeconfig has no contexts; `sandbox up` creates one',
      });
    }
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    throw new SandboxError('the kubeconfig has no current context', {
      hint: names.length ? `pass --context (known: ${names.join(', ')})` : '`sandbox up` creates a kind cluster and its context',
    });
  }
  const namespace = kc.getContextObject(context)?.namespace ?? 'default';
  const [{ createTransport }, { createKube }] = await Promise.all([import('./client.ts'), import('./api.ts')]);
  const transport = createTransport(kc, context, opts.retry);
  // One cheap request now (discovery root, served by every API server): a stopped cluster
  // should fail here, clearly, not deep inside a step.
  try {
    await transport.json('GET', '/api', { what: `connect to context ${context}`, timeoutMs: opts.probeTimeoutMs ?? 10_000, retry: 'transient' });
  } catch (err) {
    if (err instanceof SandboxError) throw err;
    // client-node refuses some kubeconfigs only when a request is made (e.g. plain http
    // without insecure-skip-tls-verify): that is a configuration problem, not a bug.
    throw new SandboxError(`cannot use kube context ${context}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the cluster entry of this context in the kubeconfig',
    });
  }
  return createKube(transport, { context, namespace, forceConflicts: opts.forceConflicts });
}
