// What the wait strategies look for, as pure functions of the objects seen: each says whether
// the wait is over and, in a few words, what it saw (that text ends up in timeout messages).
import { isPodReady, type KubeObject } from '../kube/kube.ts';

export interface CheckResult {
  ok: boolean;
  seen: string;
  /** Set when waiting longer cannot help (e.g. a rollout past its progress deadline). */
  fail?: string;
}

function conditionText(c: any): string {
  const why = [c.reason, c.message].filter(Boolean).join(': ');
  return `${c.type}=${c.status}${why ? ` (${why})` : ''}`;
}

export function conditionCheck(obj: KubeObject | undefined, type: string, status: string): CheckResult {
  if (!obj) return { ok: false, seen: 'object not found' };
  const conditions: any[] = obj.status?.conditions ?? [];
  const c = conditions.find((x) => x?.type === type);
  if (!c) {
    return { ok: false, seen: conditions.length ? `no ${type} condition (has ${conditions.map(conditionText).join(', ')})` : 'no conditions yet' };
  }
  // A condition written for an older generation says nothing about the current spec.
  const stale = typeof c.observedGeneration === 'number' && typeof obj.metadata.generation === 'number' && c.observedGeneration < obj.metadata.generation;
  if (stale) return { ok: false, seen: `${conditionText(c)}, for an older generation` };
  return { ok: String(c.status) === status, seen: conditionText(c) };
}

/**
 * The first value at a kubectl-style JSONPath: `.status.phase`, `{.status.phase}`,
 * `.items[0].metadata.name`, `.status.conditions[?(@.type=="Ready")].status`,
 * `.metadata.labels.app\.kubernetes\.io/name` (a backslash escapes a dot in a key).
 */
export function jsonPath(value: unknown, path: string): unknown {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  const tokens = p.match(/\.(?:\\.|[^.[\\])+|\[\?\(@\.[^)]*\)\]|\[[^\]]*\]/g) ?? [];
  if (tokens.join('') !== p) throw new Error(`unsupported JSONPath: ${path}`);
  let cur: unknown = value;
  for (const t of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith('.')) {
      cur = (cur as Record<string, unknown>)[t.slice(1).replace(/\\\./g, '.')];
    } else if (t.startsWith('[?(')) {
      const m = /^\[\?\(@\.([\w.-]+)\s*==\s*["']?([^"')]*)["']?\)\]$/.exec(t);
      if (!m || !Array.isArray(cur)) return undefined;
      const [, key, want] = m;
      cur = cur.find((item) => String(jsonPath(item, `.${key}`)) === want);
    } else {
      const inner = t.slice(1, -1).replace(/^['"]|['"]$/g, '');
      cur = Array.isArray(cur) && /^-?\d+$/.test(inner) ? cur.at(Number(inner)) : (cur as Record<string, unknown>)[inner];
    }
  }
  return cur;
}

export function show(v: unknown): string {
  if (v === undefined) return '<none>';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function jsonPathCheck(obj: KubeObject | undefined, path: string, expected: string | string[] | ((v: unknown) => boolean)): CheckResult {
  if (!obj) return { ok: false, seen: 'object not found' };
  const v = jsonPath(obj, path);
  const ok =
    typeof expected === 'function' ? expected(v) : Array.isArray(expected) ? v !== undefined && expected.includes(show(v)) : v !== undefined && show(v) === expected;
  return { ok, seen: `${path}=${show(v)}` };
}

/** Like `kubectl rollout status`: the controller saw the current spec, and every replica is updated and available. */
export function rolloutCheck(obj: KubeObject | undefined): CheckResult {
  if (!obj) return { ok: false, seen: 'object not found' };
  const s = obj.status ?? {};
  const gen = obj.metadata.generation;
  if (typeof gen === 'number' && !(s.observedGeneration >= gen)) {
    return { ok: false, seen: `controller has not seen generation ${gen} yet (observed ${s.observedGeneration ?? 'none'})` };
  }
  switch (obj.kind) {
    case 'Deployment': {
      const want = obj.spec?.replicas ?? 1;
      const progressing = (s.conditions ?? []).find((c: any) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        return { ok: false, seen: conditionText(progressing), fail: `rollout exceeded its progress deadline: ${progressing.message ?? ''}`.trim() };
      }
      const updated = s.updatedReplicas ?? 0;
      const available = s.availableReplicas ?? 0;
      const total = s.replicas ?? 0;
      const seen = `${updated}/${want} updated, ${available}/${want} available${total > want ? `, ${total - want} old replica(s) terminating` : ''}`;
      return { ok: updated >= want && available >= want && total <= want, seen };
    }
    case 'StatefulSet': {
      const want = obj.spec?.replicas ?? 1;
      const ready = s.readyReplicas ?? 0;
      const updated = s.updatedReplicas ?? (s.updateRevision ? 0 : ready);
      const revisionsDiffer = s.updateRevision && s.currentRevision && s.updateRevision !== s.currentRevision && obj.spec?.updateStrategy?.rollingUpdate?.partition === undefined;
      const seen = `${ready}/${want} ready, ${updated}/${want} updated${revisionsDiffer ? ', revision rolling' : ''}`;
      return { ok: ready >= want && updated >= want && !revisionsDiffer, seen };
    }
    case 'DaemonSet': {
      const want = s.desiredNumberScheduled ?? 0;
      const updated = s.updatedNumberScheduled ?? 0;
      const available = s.numberAvailable ?? 0;
      return { ok: updated >= want && available >= want, seen: `${updated}/${want} updated, ${available}/${want} available` };
    }
    default:
      throw new Error(`rollout of kind ${obj.kind} is not supported (Deployment, StatefulSet, DaemonSet)`);
  }
}

/** Why a pod is not ready, in one line: the first container problem, or an unschedulable pod. */
export function podProblem(pod: KubeObject): string {
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    const w = cs.state?.waiting;
    if (w?.reason && w.reason !== 'ContainerCreating' && w.reason !== 'PodInitializing') {
      return `${cs.name} ${w.reason}${w.message ? `: ${w.message}` : ''}${cs.image ? ` (image ${cs.image})` : ''}`;
    }
    const t = cs.state?.terminated;
    if (t && t.exitCode !== 0) return `${cs.name} terminated ${t.reason ?? ''} exit ${t.exitCode}`.replace(/\s+/g, ' ');
    if (cs.restartCount > 0 && !cs.ready) return `${cs.name} restarted ${cs.restartCount} time(s)`;
  }
  const conditions: any[] = pod.status?.conditions ?? [];
  const unscheduled = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `not scheduled: ${unscheduled.message ?? unscheduled.reason ?? ''}`.trim();
  const notReady = conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
  return `phase ${pod.status?.phase ?? 'unknown'}${notReady?.reason ? `, ${notReady.reason}` : ''}`;
}

export function podsReadyCheck(pods: KubeObject[], min: number): CheckResult & { ready: KubeObject[] } {
  // Pods on their way out and finished pods (completed Jobs, evictions) are not part of the answer.
  const active = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const ready = active.filter(isPodReady);
  const problems = active.filter((p) => !isPodReady(p)).map((p) => `${p.metadata.name}: ${podProblem(p)}`);
  const seen = active.length === 0 ? 'no pods' : `${ready.length}/${active.length} ready${problems.length ? `; ${problems.slice(0, 3).join('; ')}` : ''}`;
  return { ok: ready.length >= min && ready.length === active.length, seen, ready };
}
