// The logging operator (Deployment `logging-operator`), simulated from kube-logging's own code
// (pkg/resources/model/reconciler.go, operator-tools' secret loader):
// - per Logging: fluentd (StatefulSet `<logging>-fluentd`, Services, config Secret) in
//   spec.controlNamespace, and fluent-bit DaemonSets for each FluentbitAgent (and the deprecated
//   inline spec.fluentbit);
// - statuses: only ClusterOutputs/ClusterFlows IN the control namespace belong to the Logging (a
//   ClusterOutput elsewhere is ignored and gets no status, so flows referencing it report a
//   dangling reference); output secrets are loaded from the output's own namespace and a missing
//   Secret or key is a problem; a flow is active when one of its references resolves;
// - Logging status: problems, problemsCount, configCheckResults (hash -> passed) once the
//   configuration renders, i.e. every flow's outputs resolve and their secrets load.
import { createHash } from 'node:crypto';
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { fluentbitObjects, fluentdObjects } from './objects.ts';
import { CustomResourceCache, ensureObject, operatorLoop, readyWorkload, writeStatus, type WorkloadRef } from '../controllers/operator-kit.ts';

export const LOGGING_WORKLOAD: WorkloadRef = { kind: 'Deployment', name: 'logging-operator' };

const GROUP = '/apis/logging.banzaicloud.io/v1beta1';
const RESYNC_MS = 150;
/** How long the configcheck pod takes to validate a new fluentd configuration. */
const CONFIG_CHECK_MS = 100;
// Fields of an output spec that are not output plugins.
const NOT_PLUGINS = new Set(['loggingRef', 'enabledNamespaces', 'protected']);

interface FlowStatus {
  active: boolean;
  problems?: string[];
  problemsCount?: number;
}

function withProblems(active: boolean, problems: string[]): FlowStatus {
  return problems.length ? { active, problems, problemsCount: problems.length } : { active };
}

function refOf(o: KubeObject): string {
  return (o.spec?.loggingRef as string | undefined) ?? '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every `{valueFrom|mountFrom: {secretKeyRef}}` inside a plugin spec. */
function secretRefs(v: unknown, out: { name: string; key: string }[] = []): { name: string; key: string }[] {
  if (Array.isArray(v)) for (const x of v) secretRefs(x, out);
  else if (isObject(v)) {
    for (const from of ['valueFrom', 'mountFrom']) {
      const ref = (v[from] as { secretKeyRef?: { name?: string; key?: string } } | undefined)?.secretKeyRef;
      if (ref?.name) out.push({ name: ref.name, key: ref.key ?? '' });
    }
    for (const [k, x] of Object.entries(v)) if (k !== 'valueFrom' && k !== 'mountFrom') secretRefs(x, out);
  }
  return out;
}

export function startLoggingOperator(ctx: ControllerContext): { stop(): Promise<void> } {
  const api: SimClient = ctx.client('logging-operator');
  const cache = (plural: string): CustomResourceCache => new CustomResourceCache(ctx, api, `${plural}.logging.banzaicloud.io`, `${GROUP}/${plural}`);
  const loggings = cache('loggings');
  const agents = cache('fluentbitagents');
  const flows = cache('flows');
  const clusterFlows = cache('clusterflows');
  const outputs = cache('outputs');
  const clusterOutputs = cache('clusteroutputs');
  // configcheck results per Logging: hash -> passed, and when each check started.
  const checks = new Map<string, { hash: string; startedMs: number }>();

  /** operator-tools' secret loader: the Secret must exist in `namespace` and hold the key. */
  async function secretProblem(namespace: string, ref: { name: string; key: string }): Promise<string | undefined> {
    try {
      const secret = await api.get<KubeObject>(`/api/v1/namespaces/${namespace}/secrets/${ref.name}`);
      if (!secret) return `failed to get kubernetes secret ${namespace}:${ref.name}: secrets "${ref.name}" not found`;
      const data = { ...((secret.data as Record<string, string> | undefined) ?? {}), ...((secret.stringData as Record<string, string> | undefined) ?? {}) };
      if (!(ref.key in data)) return `key "${ref.key}" not found in secret "${ref.name}" in namespace "${namespace}"`;
      return undefined;
    } catch (err) {
      return `failed to get kubernetes secret ${namespace}:${ref.name}: ${err instanceof ApiError ? err.message : String(err)}`;
    }
  }

  async function outputProblems(output: KubeObject): Promise<string[]> {
    const spec = (output.spec ?? {}) as Record<string, unknown>;
    const plugins = Object.keys(spec).filter((k) => !NOT_PLUGINS.has(k) && isObject(spec[k]));
    const problems: string[] = [];
    for (const p of plugins) for (const ref of secretRefs(spec[p])) {
      const problem = await secretProblem(output.metadata.namespace ?? '', ref);
      if (problem) problems.push(problem);
    }
    if (plugins.length === 0) problems.push('no output target configured');
    if (plugins.length > 1) problems.push(`multiple output targets configured: [${plugins.join(' ')}]`);
    return problems;
  }

  async function reconcile(name: string): Promise<void> {
    const logging = loggings.get(undefined, name);
    if (!logging || logging.metadata.deletionTimestamp) return;
    const control = logging.spec?.controlNamespace as string | undefined;
    if (!control || !ctx.informers.namespaces.get(undefined, control)) return;
    const mine = (o: KubeObject): boolean => refOf(o) === refOf(logging);
    const watched = (logging.spec?.watchNamespaces as string[] | undefined) ?? [];
    const inScope = (o: KubeObject): boolean => mine(o) && (watched.length === 0 || watched.includes(o.metadata.namespace ?? ''));
    const allNamespaces = logging.spec?.allowClusterResourcesFromAllNamespaces === true;
    const myClusterOutputs = clusterOutputs.list().filter((o) => mine(o) && (allNamespaces || o.metadata.namespace === control));
    const myClusterFlows = clusterFlows.list().filter((o) => mine(o) && (allNamespaces || o.metadata.namespace === control));
    const myOutputs = outputs.list().filter(inScope);
    const myFlows = flows.list().filter(inScope);

    // Outputs: validated on their own; active once some flow uses them.
    const outStatus = new Map<KubeObject, FlowStatus>();
    for (const o of [...myClusterOutputs, ...myOutputs]) outStatus.set(o, { active: false, problems: await outputProblems(o) });
    const flowStatus = new Map<KubeObject, FlowStatus>();
    let renderable = true;
    const resolve = (flow: KubeObject, global: boolean): void => {
      const problems: string[] = [];
      let active = false;
      const spec = flow.spec ?? {};
      const globalRefs = (spec.globalOutputRefs ?? []) as string[];
      const localRefs = global ? [] : ((spec.localOutputRefs ?? []) as string[]);
      if (globalRefs.length + localRefs.length === 0 && ((spec.outputRefs ?? []) as string[]).length > 0) {
        problems.push(global ? '"outputRefs" field is deprecated, use "globalOutputRefs" instead' : '"outputRefs" field is deprecated, use "globalOutputRefs" and "localOutputRefs" instead');
      }
      for (const ref of globalRefs) {
        const out = myClusterOutputs.find((o) => o.metadata.name === ref);
        if (!out) problems.push(`dangling global output reference: ${ref}`);
        else {
          active = true;
          outStatus.get(out)!.active = true;
          if (outStatus.get(out)!.problems!.length) renderable = false;
        }
      }
      for (const ref of localRefs) {
        const out = myOutputs.find((o) => o.metadata.name === ref && o.metadata.namespace === flow.metadata.namespace);
        if (!out) problems.push(`dangling local output reference: ${ref}`);
        else {
          active = true;
          outStatus.get(out)!.active = true;
          if (outStatus.get(out)!.problems!.length) renderable = false;
        }
      }
      if (problems.some((p) => p.startsWith('dangling'))) renderable = false;
      flowStatus.set(flow, withProblems(active, problems));
    };
    for (const f of myClusterFlows) resolve(f, true);
    for (const f of myFlows) resolve(f, false);

    const version = /:([^:@/]+)$/.exec(String(readyWorkload(ctx, LOGGING_WORKLOAD)?.spec?.template?.spec?.containers?.[0]?.image ?? ''))?.[1] ?? '6.7.0';
    const config = [...flowStatus.keys()].map((f) => `<label @${f.metadata.namespace}/${f.metadata.name}> -> ${JSON.stringify(f.spec?.globalOutputRefs ?? [])} ${JSON.stringify(f.spec?.localOutputRefs ?? [])}`).join('\n');
    if (logging.spec?.fluentd) for (const o of fluentdObjects(logging, version, config)) await ensureObject(api, o, o.kind === 'Secret' ? ['data'] : ['spec']);
    if (logging.spec?.fluentbit) for (const o of fluentbitObjects(logging, logging.spec.fluentbit as Record<string, unknown>, control)) await ensureObject(api, o);
    for (const agent of agents.list().filter(mine)) for (const o of fluentbitObjects(agent, (agent.spec ?? {}) as Record<string, unknown>, control)) await ensureObject(api, o);

    // The configcheck: each new renderable configuration is checked once, shortly after.
    const results = { ...((logging.status?.configCheckResults as Record<string, boolean> | undefined) ?? {}) };
    if (renderable && logging.spec?.fluentd && logging.spec?.configCheck?.strategy !== 'StartWithTimeout') {
      const hash = createHash('sha256').update(config).digest('hex').slice(0, 8);
      const check = checks.get(name);
      if (!check || check.hash !== hash) checks.set(name, { hash, startedMs: Date.now() });
      else if (!(hash in results) && Date.now() - check.startedMs >= CONFIG_CHECK_MS) {
        for (const k of Object.keys(results)) delete results[k];
        results[hash] = true;
      }
    }

    for (const [o, s] of outStatus) {
      const plural = o.kind === 'ClusterOutput' ? 'clusteroutputs' : 'outputs';
      await writeStatus(api, o.kind === 'ClusterOutput' ? clusterOutputs : outputs, `${GROUP}/namespaces/${o.metadata.namespace}/${plural}/${o.metadata.name}`, o, { ...withProblems(s.active, s.problems!) });
    }
    for (const [f, s] of flowStatus) {
      const plural = f.kind === 'ClusterFlow' ? 'clusterflows' : 'flows';
      await writeStatus(api, f.kind === 'ClusterFlow' ? clusterFlows : flows, `${GROUP}/namespaces/${f.metadata.namespace}/${plural}/${f.metadata.name}`, f, { ...s });
    }
    const problems: string[] = [];
    for (const [hash, ok] of Object.entries(results)) {
      if (!ok) problems.push(`Configuration with checksum ${hash} has failed. Config secrets: \`kubectl get secret -n ${control} -l logging.banzaicloud.io/configcheck=${hash}\`. Configcheck pod log: \`kubectl logs -n ${control} -l logging.banzaicloud.io/configcheck=${hash} --tail -1\``);
    }
    const others = loggings.list().filter((l) => l.metadata.name !== name && refOf(l) === refOf(logging)).map((l) => l.metadata.name);
    if (others.length) problems.push(`Deprecated behaviour! Other logging resources exist with the same loggingRef: ${others.join(',')}. This is going to be an error with the next major release.`);
    problems.sort();
    await writeStatus(api, loggings, `${GROUP}/loggings/${name}`, logging, {
      ...(problems.length ? { problems, problemsCount: problems.length } : {}),
      ...(Object.keys(results).length ? { configCheckResults: results } : {}),
      ...(watched.length ? { watchNamespaces: watched } : {}),
    });
  }

  const keys = (): string[] => loggings.list().map((l) => l.metadata.name!);
  const loop = operatorLoop(ctx, 'logging-operator', LOGGING_WORKLOAD, keys, reconcile, RESYNC_MS);
  const all = (): void => {
    for (const k of keys()) loop.queue.add(k);
  };
  for (const c of [loggings, agents, flows, clusterFlows, outputs, clusterOutputs]) c.on(all);
  return loop;
}
