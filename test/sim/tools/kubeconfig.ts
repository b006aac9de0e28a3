// Kubeconfig files as kind writes them (merge one cluster/user/context `kind-<name>` into
// the file, set current-context) and as helm reads them (clientcmd's loading rules: the
// --kubeconfig flag, else every file of $KUBECONFIG, else ~/.kube/config; first one wins).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REAL_KUBECONFIG_ENV } from '../real-underlay.ts';

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

export interface KubeconfigFile {
  apiVersion: string;
  kind: string;
  preferences?: Record<string, unknown>;
  'current-context'?: string;
  clusters?: (Named<never> & { cluster: { server: string; [k: string]: unknown } })[];
  users?: (Named<never> & { user: Record<string, unknown> })[];
  contexts?: (Named<never> & { context: { cluster: string; user: string; namespace?: string } })[];
}

function kubeconfigList(env: NodeJS.ProcessEnv): string[] {
  return (env.KUBECONFIG ?? '').split(':').filter(Boolean);
}

/** The file kind writes to: --kubeconfig, else the first $KUBECONFIG entry, else ~/.kube/config. */
export function kindTarget(flagPath: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flagPath ?? kubeconfigList(env)[0] ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

export function readKubeconfig(path: string): KubeconfigFile {
  if (!existsSync(path)) return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [], 'current-context': '' };
  const doc = (parse(readFileSync(path, 'utf8')) ?? {}) as Partial<KubeconfigFile>;
  return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [], ...doc };
}

export function writeKubeconfig(path: string, cfg: KubeconfigFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(cfg), { mode: 0o600 });
}

/** The kubeconfig kind prints for a cluster (`kind get kubeconfig`). */
export function kindKubeconfig(cluster: string, server: string): KubeconfigFile {
  const name = `kind-${cluster}`;
  const real = process.env[REAL_KUBECONFIG_ENV];
  if (real) {
    // On a real API server (real-underlay.ts) the cluster is that server, with its CA and the
    // admin's client certificate, as kind's own kubeconfig holds its cluster's.
    const src = readKubeconfig(real);
    const current = src.contexts?.find((c) => c.name === src['current-context'])?.context;
    const cl = src.clusters?.find((c) => c.name === current?.cluster)?.cluster;
    const user = src.users?.find((u) => u.name === current?.user)?.user;
    if (!cl || !user) throw new Error(`${REAL_KUBECONFIG_ENV}=${real} has no current cluster and user`);
    return {
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name, cluster: { ...cl } }],
      users: [{ name, user: { ...user } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name, cluster: { server } }],
    // kind writes client certificates; the simulated server is plain HTTP and does not
    // authenticate, and a bogus certificate would make TLS-aware clients fail to load it.
    users: [{ name, user: { token: `kind-${cluster}-simulated` } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
}

function upsert<T extends { name: string }>(list: T[] | undefined, item: T): T[] {
  return [...(list ?? []).filter((x) => x.name !== item.name), item];
}

export function mergeKindContext(path: string, cluster: string, server: string): void {
  const cfg = readKubeconfig(path);
  const add = kindKubeconfig(cluster, server);
  cfg.clusters = upsert(cfg.clusters, add.clusters![0]!);
  cfg.users = upsert(cfg.users, add.users![0]!);
  cfg.contexts = upsert(cfg.contexts, add.contexts![0]!);
  cfg['current-context'] = `kind-${cluster}`;
  writeKubeconfig(path, cfg);
}

export function removeKindContext(path: string, cluster: string): void {
  if (!existsSync(path)) return;
  const name = `kind-${cluster}`;
  const cfg = readKubeconfig(path);
  cfg.clusters = (cfg.clusters ?? []).filter((c) => c.name !== name);
  cfg.users = (cfg.users ?? []).filter((c) => c.name !== name);
  cfg.contexts = (cfg.contexts ?? []).filter((c) => c.name !== name);
  if (cfg['current-context'] === name) cfg['current-context'] = '';
  writeKubeconfig(path, cfg);
}

/** What helm/kubectl would connect to: the server and namespace of the chosen context. */
export function resolveContext(opts: { kubeconfig?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): { server: string; namespace?: string; context: string } | undefined {
  const files = opts.kubeconfig ? [opts.kubeconfig] : kubeconfigList(env).length ? kubeconfigList(env) : [join(env.HOME ?? homedir(), '.kube', 'config')];
  const configs = files.filter(existsSync).map(readKubeconfig);
  const current = opts.context ?? configs.map((c) => c['current-context']).find(Boolean);
  if (!current) return undefined;
  const ctx = configs.flatMap((c) => c.contexts ?? []).find((c) => c.name === current);
  if (!ctx) return undefined;
  const cluster = configs.flatMap((c) => c.clusters ?? []).find((c) => c.name === ctx.context.cluster);
  if (!cluster) return undefined;
  return { server: cluster.cluster.server, namespace: ctx.context.namespace, context: current };
}
