// Admission as the real server runs it before storing: the NamespaceLifecycle and
// ServiceAccount plugins, and calls to admission webhooks. A webhook "answers" when its
// Service has a ready pod behind it (or a ready address in its Endpoints); otherwise the
// request fails with the server's own message, which is exactly what `sandbox up` must wait
// out after installing cert-manager or the Flink operator. Fault `webhookRefuse` makes
// answering webhooks refuse connections for requests from clients.
import { labelSelectorObject } from './selectors.ts';
import { badRequest, forbidden, internalError, notFound } from './status.ts';
import type { Store } from './store.ts';
import { type Obj, type ResourceType, isObj } from './types.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface WebhookRefuseFault {
  /** Regex on the webhook's name; absent = every webhook. */
  webhook?: string;
  /** How many calls are refused before the fault clears; absent = every call. */
  count?: number;
}

/** Refuses creation in a missing or terminating namespace. */
export function checkNamespace(store: Store, rt: ResourceType, namespace: string, name: string): void {
  const ns = store.get('/namespaces', '', namespace);
  if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
  if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') {
    throw forbidden(rt, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
      { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
    ]);
  }
}

/** A pod may only name a ServiceAccount that exists (the ServiceAccount admission plugin). */
export function checkServiceAccount(store: Store, rt: ResourceType, pod: Obj): void {
  const ns = pod.metadata.namespace;
  const sa = pod.spec?.serviceAccountName ?? 'default';
  if (!store.get('/serviceaccounts', ns, sa)) {
    throw forbidden(rt, pod.metadata.name ?? pod.metadata.generateName ?? '', `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`);
  }
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function resourceMatches(patterns: string[], resource: string, subresource: string | undefined): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  return patterns.some((p) => {
    if (p === '*/*') return true;
    if (p === '*') return !subresource;
    if (p === full) return true;
    const [pr, ps] = p.split('/');
    if (ps === undefined) return false;
    return (pr === '*' || pr === resource) && (ps === '*' || ps === subresource);
  });
}

function ruleMatches(rule: Obj, rt: ResourceType, op: Operation, subresource: string | undefined): boolean {
  const ops = list(rule.operations);
  const groups = list(rule.apiGroups);
  const versions = list(rule.apiVersions);
  if (!(ops.includes('*') || ops.includes(op))) return false;
  if (!(groups.includes('*') || groups.includes(rt.group))) return false;
  if (!(versions.includes('*') || versions.includes(rt.version))) return false;
  if (!resourceMatches(list(rule.resources), rt.resource, subresource)) return false;
  const scope = rule.scope ?? '*';
  const clusterScoped = !rt.namespaced;
  if (scope === 'Cluster' && !clusterScoped) return false;
  if (scope === 'Namespaced' && clusterScoped && rt.resource !== 'namespaces') return false;
  return true;
}

export interface AdmissionRequest {
  rt: ResourceType;
  op: Operation;
  subresource?: string;
  object: Obj | undefined;
  old: Obj | undefined;
  dryRun: boolean;
  fromClient: boolean;
}

interface Hook {
  name: string;
  hook: Obj;
}

function matchingHooks(store: Store, req: AdmissionRequest): Hook[] {
  const { rt } = req;
  // The server never calls webhooks about webhook configurations themselves.
  if (rt.group === 'admissionregistration.k8s.io') return [];
  const configs = [...store.list('admissionregistration.k8s.io/mutatingwebhookconfigurations'), ...store.list('admissionregistration.k8s.io/validatingwebhookconfigurations')];
  const labels = (req.object ?? req.old)?.metadata?.labels ?? {};
  const namespace = (req.object ?? req.old)?.metadata?.namespace as string | undefined;
  const out: Hook[] = [];
  for (const cfg of configs) {
    for (const hook of Array.isArray(cfg.webhooks) ? cfg.webhooks : []) {
      if (!isObj(hook) || typeof hook.name !== 'string') continue;
      const rules: Obj[] = Array.isArray(hook.rules) ? hook.rules : [];
      if (!rules.some((r) => isObj(r) && ruleMatches(r, rt, req.op, req.subresource))) continue;
      if (!labelSelectorObject(hook.objectSelector)(labels)) continue;
      if (rt.namespaced && namespace) {
        const ns = store.get('/namespaces', '', namespace);
        if (!labelSelectorObject(hook.namespaceSelector)(ns?.metadata?.labels ?? {})) continue;
      } else if (rt.resource === 'namespaces' && !rt.group) {
        if (!labelSelectorObject(hook.namespaceSelector)(labels)) continue;
      }
      out.push({ name: hook.name, hook });
    }
  }
  return out;
}

function isPodReady(pod: Obj): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return Array.isArray(pod.status?.conditions) && pod.status.conditions.some((c: Obj) => c?.type === 'Ready' && c?.status === 'True');
}

/** Why a Service-backed webhook cannot be reached, or undefined when it answers. */
function unreachable(store: Store, svcRef: Obj): string | undefined {
  const ns = String(svcRef.namespace ?? '');
  const name = String(svcRef.name ?? '');
  const svc = store.get('/services', ns, name);
  if (!svc) return `service "${name}" not found`;
  const selector = svc.spec?.selector;
  if (isObj(selector) && Object.keys(selector).length > 0) {
    const pods = store.list('/pods', ns).filter((p) => Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v));
    if (pods.some(isPodReady)) return undefined;
  }
  const ep = store.get('/endpoints', ns, name);
  const subsets: Obj[] = Array.isArray(ep?.subsets) ? ep.subsets : [];
  if (subsets.some((s) => Array.isArray(s?.addresses) && s.addresses.length > 0)) return undefined;
  return `no endpoints available for service "${name}"`;
}

function takeRefusal(faults: Obj, hookName: string): boolean {
  const f = faults.webhookRefuse as WebhookRefuseFault | undefined;
  if (!isObj(f)) return false;
  if (f.webhook) {
    try {
      if (!new RegExp(f.webhook).test(hookName)) return false;
    } catch {
      if (f.webhook !== hookName) return false;
    }
  }
  if (typeof f.count === 'number') {
    if (f.count <= 0) return false;
    f.count -= 1;
    if (f.count === 0) delete faults.webhookRefuse;
  }
  return true;
}

/** Runs the matching webhooks; throws the server's error when one cannot be called. */
export function runWebhooks(store: Store, faults: Obj, req: AdmissionRequest): void {
  for (const { name, hook } of matchingHooks(store, req)) {
    if (req.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') {
      throw badRequest(`admission webhook "${name}" does not support dry run`);
    }
    const cc: Obj = isObj(hook.clientConfig) ? hook.clientConfig : {};
    let why: string | undefined;
    let url: string;
    if (isObj(cc.service)) {
      const s = cc.service;
      url = `https://${s.name}.${s.namespace}.svc:${s.port ?? 443}${s.path ?? ''}?timeout=${hook.timeoutSeconds ?? 10}s`;
      why = unreachable(store, s);
    } else {
      url = String(cc.url ?? '');
    }
    if (!why && req.fromClient && takeRefusal(faults, name)) {
      const svc = isObj(cc.service) ? store.get('/services', String(cc.service.namespace ?? ''), String(cc.service.name ?? '')) : undefined;
      why = `dial tcp ${svc?.spec?.clusterIP ?? '10.96.0.1'}:${svc?.spec?.ports?.[0]?.targetPort ?? 443}: connect: connection refused`;
    }
    if (!why) continue;
    if (hook.failurePolicy === 'Ignore') continue;
    throw internalError(`failed calling webhook "${name}": failed to call webhook: Post "${url}": ${why}`);
  }
}

