// Container logs, kept per pod (by its uid, as the kubelet's /var/log/pods/<ns>_<name>_<uid>/:
// a pod made again under the same name starts with an empty log), container and attempt (the
// container's restartCount when it ran). The simulated kubelet appends lines through
// /_sim/logs; clients read them through the pods/log subresource with the real parameters and
// refusals. A follow stream ends when its attempt terminates, when the container restarts, or
// when the pod is deleted; lines that arrive for a deleted pod go nowhere.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from './objects.ts';
import { badRequest, notFound } from './status.ts';
import type { StoreEvent } from './store.ts';
import { type Obj, isObj } from './types.ts';

interface Line {
  time: number;
  text: string;
}

interface Follower {
  onLine(line: Line): void;
  end(): void;
}

interface Attempt {
  lines: Line[];
  terminated: boolean;
  followers: Set<Follower>;
}

const POD = { group: '', resource: 'pods' };

/** One pod: its namespace, name and uid ('' when the writer did not know it). */
interface PodKey {
  ns: string;
  pod: string;
  uid: string;
}

function podPrefix(p: PodKey): string {
  return `${p.ns}/${p.pod}/${p.uid}/`;
}

function key(p: PodKey, container: string, attempt: number): string {
  return `${podPrefix(p)}${container}/${attempt}`;
}

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with timestamps=true. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function podKeyOf(pod: Obj): PodKey {
  return { ns: String(pod.metadata?.namespace ?? ''), pod: String(pod.metadata?.name ?? ''), uid: String(pod.metadata?.uid ?? '') };
}

function containerStatus(pod: Obj, name: string): Obj | undefined {
  const all: Obj[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return all.find((s) => isObj(s) && s.name === name);
}

export class LogStore {
  private readonly attempts = new Map<string, Attempt>();
  /** Pods deleted (by prefix): a late write of their kubelet must not make their log anew. */
  private readonly gone = new Set<string>();
  /** Follow streams broken so far by the `logDrop` knob. */
  private drops = 0;

  private readonly faults: () => Obj;

  constructor(faults: () => Obj = () => ({})) {
    this.faults = faults;
  }

  /** How many follow streams the `logDrop` knob has broken. */
  get dropped(): number {
    return this.drops;
  }

  /** Lines after which this follow stream breaks (the `logDrop` knob), if it is to break. */
  private dropAfter(): number | undefined {
    const f = this.faults().logDrop;
    if (!isObj(f) || typeof f.afterLines !== 'number') return undefined;
    if (typeof f.count === 'number' && this.drops >= f.count) return undefined;
    return f.afterLines;
  }

  private entry(p: PodKey, container: string, attempt: number, create: boolean): Attempt | undefined {
    const k = key(p, container, attempt);
    let a = this.attempts.get(k);
    if (!a && create) this.attempts.set(k, (a = { lines: [], terminated: false, followers: new Set() }));
    return a;
  }

  append(p: PodKey, container: string, attempt: number, lines: string[], terminated: boolean): void {
    if (this.gone.has(podPrefix(p))) return;
    const a = this.entry(p, container, attempt, true)!;
    const now = Date.now();
    for (const text of lines) {
      const line = { time: now, text };
      a.lines.push(line);
      for (const f of [...a.followers]) f.onLine(line);
    }
    if (terminated) {
      a.terminated = true;
      for (const f of [...a.followers]) f.end();
    }
  }

  /** The highest attempt with any lines, or undefined. */
  highest(p: PodKey, container: string): number | undefined {
    let best: number | undefined;
    const prefix = `${podPrefix(p)}${container}/`;
    for (const k of this.attempts.keys()) {
      if (!k.startsWith(prefix)) continue;
      const n = Number(k.slice(prefix.length));
      if (best === undefined || n > best) best = n;
    }
    return best;
  }

  /** Ends followers of attempts older than `attempt` (the container restarted). */
  endBefore(p: PodKey, container: string, attempt: number): void {
    for (let i = 0; i < attempt; i++) {
      const a = this.entry(p, container, i, false);
      if (a) for (const f of [...a.followers]) f.end();
    }
  }

  clearPod(p: PodKey): void {
    const prefix = podPrefix(p);
    this.gone.add(prefix);
    for (const [k, a] of [...this.attempts]) {
      if (!k.startsWith(prefix)) continue;
      for (const f of [...a.followers]) f.end();
      this.attempts.delete(k);
    }
  }

  clearAll(): void {
    for (const a of this.attempts.values()) for (const f of [...a.followers]) f.end();
    this.attempts.clear();
    this.gone.clear();
  }

  /** Keeps follow streams honest: pod deleted -> logs gone; restartCount moved on -> old attempts end. */
  onStoreEvent(ev: StoreEvent): void {
    if (ev.storageKey !== '/pods') return;
    const p = podKeyOf(ev.object);
    if (ev.type === 'DELETED') {
      this.clearPod(p);
      return;
    }
    for (const s of [...(ev.object.status?.containerStatuses ?? []), ...(ev.object.status?.initContainerStatuses ?? [])]) {
      if (isObj(s) && typeof s.restartCount === 'number' && s.restartCount > 0) this.endBefore(p, String(s.name), s.restartCount);
    }
  }

  serve(req: IncomingMessage, res: ServerResponse, api: Api, ns: string, name: string, q: URLSearchParams): void {
    const pod = api.store.get('/pods', ns, name);
    if (!pod) throw notFound(POD, name);
    const containers: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c?.name);
    const inits: string[] = (pod.spec?.initContainers ?? []).map((c: Obj) => c?.name);
    let container = q.get('container') ?? '';
    if (!container) {
      if (containers.length === 1) container = containers[0];
      else {
        const initPart = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '';
        throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initPart}`);
      }
    }
    if (!containers.includes(container) && !inits.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    if (!pod.spec?.nodeName) {
      // No node, no kubelet to ask: kube-apiserver's LogLocation gives no location, and the
      // handler answers 204 with no body (followed or not).
      res.writeHead(204);
      res.end();
      return;
    }
    this.serveOnNode(req, res, pod, container, q);
  }

  /**
   * The kubelet's part of a log request, for a pod and container the API server has checked:
   * which attempt (the current one, or the previous with previous=true), whether it has
   * started, then the lines. The fake API server calls it directly; on a real API server the
   * simulated kubelet's endpoint does (test/sim/controllers/kubelet-endpoint.ts). Refusals
   * throw ApiError.
   */
  serveOnNode(req: IncomingMessage, res: ServerResponse, pod: Obj, container: string, q: URLSearchParams): void {
    const p = podKeyOf(pod);
    const name = p.pod;
    const status = containerStatus(pod, container);
    const current = typeof status?.restartCount === 'number' ? status.restartCount : (this.highest(p, container) ?? 0);
    const previous = q.get('previous') === 'true';
    let attempt: Attempt | undefined;
    // A run that is over: its log is served whole, a follow ends with it.
    let over = previous;
    if (previous) {
      attempt = current > 0 ? this.entry(p, container, current - 1, false) : undefined;
      if (!attempt) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    } else {
      attempt = this.entry(p, container, current, false);
      // Waiting to run again after a crash (CrashLoopBackOff): the kubelet serves the last
      // terminated run (validateContainerLogStatus looks at lastState before waiting).
      if (!attempt && !status?.state?.running && !status?.state?.terminated && status?.lastState?.terminated && current > 0) {
        attempt = this.entry(p, container, current - 1, false);
        over = attempt !== undefined;
      }
      if (!attempt && (!status || status.state?.waiting || !(status.state?.running || status.state?.terminated))) {
        // The kubelet's words (validateContainerLogStatus): two pull failures are spelled out.
        const reason = status?.state?.waiting?.reason ?? 'ContainerCreating';
        const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
        throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
      }
      attempt ??= this.entry(p, container, current, true)!;
      if (status?.state?.terminated && !attempt.terminated) attempt.terminated = true;
    }
    this.stream(req, res, attempt, q, over);
  }

  private stream(req: IncomingMessage, res: ServerResponse, attempt: Attempt, q: URLSearchParams, over: boolean): void {
    const follow = q.get('follow') === 'true' && !over;
    const timestamps = q.get('timestamps') === 'true';
    const limitBytes = q.get('limitBytes') ? Number(q.get('limitBytes')) : undefined;
    const tail = q.get('tailLines') !== null ? Number(q.get('tailLines')) : undefined;
    const sinceSeconds = q.get('sinceSeconds') !== null ? Number(q.get('sinceSeconds')) : undefined;
    const sinceTime = q.get('sinceTime') ? Date.parse(String(q.get('sinceTime'))) : undefined;
    if (limitBytes !== undefined && !(limitBytes > 0)) throw badRequest('limitBytes: Invalid value: must be greater than 0');
    if (tail !== undefined && !(tail >= 0)) throw badRequest('tailLines: Invalid value: must be greater than or equal to 0');
    if (sinceSeconds !== undefined && !(sinceSeconds > 0)) throw badRequest('sinceSeconds: Invalid value: must be greater than 0');

    const since = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime;
    let lines = attempt.lines.filter((l) => since === undefined || l.time >= since);
    if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
    const format = (l: Line): string => `${timestamps ? `${stamp(l.time)} ` : ''}${l.text}\n`;

    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    let sent = 0;
    let lineCount = 0;
    const dropAfter = follow ? this.dropAfter() : undefined;
    let done = false;
    const follower: Follower = {
      onLine: (l) => emit(format(l)),
      end: () => finish(),
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      attempt.followers.delete(follower);
      res.end();
    };
    const emit = (text: string): void => {
      if (done) return;
      if (dropAfter !== undefined && lineCount++ >= dropAfter) {
        // A dropped connection, not a clean end: the client sees the body break.
        done = true;
        this.drops++;
        attempt.followers.delete(follower);
        res.destroy();
        return;
      }
      let chunk = Buffer.from(text);
      if (limitBytes !== undefined && sent + chunk.length >= limitBytes) {
        chunk = chunk.subarray(0, limitBytes - sent);
        sent = limitBytes;
        res.write(chunk);
        finish();
        return;
      }
      sent += chunk.length;
      res.write(chunk);
    };
    for (const l of lines) emit(format(l));
    if (done) return;
    if (!follow || attempt.terminated) {
      finish();
      return;
    }
    attempt.followers.add(follower);
    req.on('close', () => {
      done = true;
      attempt.followers.delete(follower);
    });
  }
}
