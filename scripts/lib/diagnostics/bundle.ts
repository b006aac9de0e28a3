// Evidence for a failure, written where the user can find it: `.sandbox/artifacts/<run-id>/`.
// Per namespace: objects of the common kinds and of every custom kind as YAML, secrets by name
// only (never their data), a describe page per pod, events sorted by time, current and
// previous logs of every container; cluster-wide: nodes and CRD names; plus error.txt and
// summary.json. It never throws: a dead cluster still yields error.txt and a note why the
// rest is missing, because this runs exactly when things have gone wrong.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { causeChain, isSandboxError } from '../errors.ts';
import { networkCode } from '../kube/api-error.ts';
import type { Kube, KubeObject } from '../kube/kube.ts';
import { describePod, eventsText } from './describe.ts';
import { stateDir } from '../paths.ts';

export interface DiagnosticsOptions {
  runId: string;
  namespaces: string[];
  /** Where bundles go; the bundle is `<dir>/<runId>`. Default `<stateDir>/artifacts`. */
  dir?: string;
  error?: unknown;
  /** The steps' outcomes, copied into summary.json. */
  steps?: unknown;
  /** Stop asking the cluster after this long (default 60 s); what is collected by then is kept. */
  budgetMs?: number;
}

/** Kinds dumped per namespace: [apiVersion, kind, file]. */
const NAMESPACED_KINDS: Array<[string, string, string]> = [
  ['v1', 'Pod', 'pods'],
  ['apps/v1', 'Deployment', 'deployments'],
  ['apps/v1', 'StatefulSet', 'statefulsets'],
  ['apps/v1', 'DaemonSet', 'daemonsets'],
  ['apps/v1', 'ReplicaSet', 'replicasets'],
  ['batch/v1', 'Job', 'jobs'],
  ['v1', 'Service', 'services'],
  ['v1', 'ConfigMap', 'configmaps'],
  ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'],
];

const LOG_TAIL_LINES = 5000;

function clean(obj: KubeObject): KubeObject {
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  if (metadata.annotations) {
    metadata.annotations = { ...metadata.annotations };
    delete metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  return { ...obj, metadata };
}

function yamlDocs(objs: KubeObject[]): string {
  return objs.map((o) => stringify(clean(o))).join('---\n');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorText(err: unknown): string {
  if (err === undefined) return 'no error was recorded\n';
  const [first, ...causes] = causeChain(err);
  const lines = [first ?? String(err), ...causes.map((c) => `  caused by: ${c}`)];
  if (isSandboxError(err) && err.hint) lines.push(`hint: ${err.hint}`);
  // A bug (anything but our own errors) deserves its stack.
  let cur: unknown = err;
  for (let i = 0; cur instanceof Error && i < 10; i++, cur = cur.cause) {
    if (!isSandboxError(cur) && cur.stack) {
      lines.push('', cur.stack);
      break;
    }
  }
  return `${lines.join('\n')}\n`;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  });
  await Promise.all(workers);
}

function safeJson(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch {
    return String(value);
  }
}

export async function writeDiagnostics(kube: Kube | undefined, opts: DiagnosticsOptions): Promise<string> {
  const bundle = join(opts.dir ?? join(stateDir(), 'artifacts'), opts.runId);
  const notes: string[] = [];
  const files: string[] = [];
  const started = performance.now();
  const budget = opts.budgetMs ?? 60_000;
  const overBudget = (): boolean => performance.now() - started > budget;

  const write = async (rel: string, content: string): Promise<void> => {
    try {
      await mkdir(dirname(join(bundle, rel)), { recursive: true });
      await writeFile(join(bundle, rel), content);
      files.push(rel);
    } catch (err) {
      notes.push(`could not write ${rel}: ${message(err)}`);
    }
  };
  /** Runs one cluster query; a failure becomes a note, not an exception. */
  const ask = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (overBudget()) return undefined;
    try {
      return await fn();
    } catch (err) {
      notes.push(`${what}: ${message(err)}`);
      return undefined;
    }
  };

  try {
    await write('error.txt', errorText(opts.error));
    if (!kube) notes.push('no connection to a cluster: only the error is recorded');
    else if (await collectCluster(kube, write, notes)) {
      const crds = (await ask('list CRDs', () => kube.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition'))) ?? [];
      for (const ns of opts.namespaces) await collectNamespace(kube, ns, crds, write, ask);
      if (overBudget()) notes.push(`stopped asking the cluster after ${Math.round(budget / 1000)} s; the bundle is partial`);
    }
  } catch (err) {
    notes.push(`diagnostics failed: ${message(err)}`);
  }
  const chain = opts.error === undefined ? [] : causeChain(opts.error);
  const summary = {
    runId: opts.runId,
    createdAt: new Date().toISOString(),
    context: kube?.context,
    server: kube?.server,
    namespaces: opts.namespaces,
    error: opts.error === undefined ? undefined : { message: chain[0], causes: chain.slice(1), hint: isSandboxError(opts.error) ? opts.error.hint : undefined },
    steps: safeJson(opts.steps),
    notes,
    files: [...files, 'summary.json'].sort(),
  };
  await write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  return bundle;
}

type Write = (rel: string, content: string) => Promise<void>;
type Ask = <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>;

/** Nodes and CRDs; false when the cluster cannot be reached at all (then nothing else is tried). */
async function collectCluster(kube: Kube, write: Write, notes: string[]): Promise<boolean> {
  let nodes: KubeObject[];
  try {
    nodes = await kube.list('v1', 'Node');
  } catch (err) {
    const unreachable = networkCode(err) !== undefined || /no answer|cannot reach/.test(message(err));
    notes.push(`${unreachable ? 'cluster unreachable, nothing collected from it' : 'list nodes'}: ${message(err)}`);
    if (unreachable) return false;
    nodes = [];
  }
  if (nodes.length) await write('cluster/nodes.yaml', yamlDocs(nodes));
  try {
    const crds = await kube.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    const lines = crds.map((c) => {
      const established = (c.status?.conditions ?? []).some((x: any) => x.type === 'Established' && x.status === 'True');
      return `${c.metadata.name}${established ? '' : '  (not established)'}`;
    });
    await write('cluster/crds.txt', `${lines.sort().join('\n')}\n`);
  } catch (err) {
    notes.push(`list CRDs: ${message(err)}`);
  }
  return true;
}

async function collectNamespace(kube: Kube, ns: string, crds: KubeObject[], write: Write, ask: Ask): Promise<void> {
  const exists = await ask(`get namespace ${ns}`, () => kube.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }));
  if (exists === undefined) {
    await write(`${ns}/MISSING.txt`, `namespace ${ns} does not exist (or could not be read)\n`);
    return;
  }
  const [events, secrets] = await Promise.all([
    ask(`list events in ${ns}`, () => kube.list('v1', 'Event', { namespace: ns })),
    ask(`list secrets in ${ns}`, () => kube.list('v1', 'Secret', { namespace: ns })),
  ]);
  await write(`${ns}/events.txt`, eventsText(events ?? []));
  // Names and types only: secret data never leaves the cluster.
  if (secrets?.length) await write(`${ns}/secrets.txt`, `${secrets.map((s) => `${s.metadata.name}  ${s.type ?? ''}`.trim()).join('\n')}\n`);

  let pods: KubeObject[] = [];
  await mapLimit(NAMESPACED_KINDS, 4, async ([apiVersion, kind, file]) => {
    const objs = await ask(`list ${kind} in ${ns}`, () => kube.list(apiVersion, kind, { namespace: ns }));
    if (kind === 'Pod') pods = objs ?? [];
    if (objs?.length) await write(`${ns}/${file}.yaml`, yamlDocs(objs));
  });

  const custom = crds.filter((c) => c.spec?.scope === 'Namespaced');
  await mapLimit(custom, 6, async (crd) => {
    const version = (crd.spec?.versions ?? []).find((v: any) => v.storage)?.name ?? crd.spec?.versions?.[0]?.name;
    if (!version) return;
    const objs = await ask(`list ${crd.metadata.name} in ${ns}`, () => kube.list(`${crd.spec.group}/${version}`, crd.spec.names.kind, { namespace: ns }));
    if (objs?.length) await write(`${ns}/custom/${crd.metadata.name}.yaml`, yamlDocs(objs));
  });

  await mapLimit(pods, 4, async (pod) => {
    const name = pod.metadata.name;
    await write(`${ns}/describe/${name}.txt`, describePod(pod, events ?? []));
    const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const names: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: any) => c.name);
    for (const container of names) {
      const cs = statuses.find((s) => s.name === container);
      const log = await ask(`logs of ${ns}/${name} ${container}`, () => kube.logs(ns, name, container, { tailLines: LOG_TAIL_LINES }));
      if (log !== undefined) await write(`${ns}/logs/${name}/${container}.log`, log);
      if ((cs?.restartCount ?? 0) > 0 || cs?.lastState?.terminated) {
        const prev = await ask(`previous logs of ${ns}/${name} ${container}`, () =>
          kube.logs(ns, name, container, { previous: true, tailLines: LOG_TAIL_LINES }),
        );
        if (prev !== undefined) await write(`${ns}/logs/${name}/${container}.previous.log`, prev);
      }
    }
  });
}
