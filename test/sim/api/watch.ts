// Watch streams: newline-delimited JSON events ({"type":...,"object":...}) on a chunked
// response that is flushed event by event. Without resourceVersion (or with "0") the stream
// starts with an ADDED event per matching object; with one, it replays the kept history after
// it, or answers a single ERROR event (410 Expired) when that version is no longer kept.
// Objects moving into or out of the selectors are sent as ADDED / DELETED, like the watch cache.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { present } from './meta.ts';
import type { Api } from './objects.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { badRequest, expired } from './status.ts';
import type { StoreEvent } from './store.ts';
import { type Obj, type ResourceType, apiVersionOf, isObj } from './types.ts';

export interface WatchParams {
  rt: ResourceType;
  namespace: string;
  labelSelector: string | null;
  fieldSelector: string | null;
  resourceVersion: string | null;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  fromClient: boolean;
}

export interface WatchDropFault {
  afterEvents?: number;
  afterMs?: number;
}

interface Active {
  fromClient: boolean;
  startedAt: number;
  events: number;
  dropTimer?: NodeJS.Timeout;
  drop(): void;
  close(): void;
}

export class WatchHub {
  private readonly api: Api;
  private readonly faults: () => Obj;
  private readonly bookmarkMs: number;
  private readonly active = new Set<Active>();
  /** Client watches cut by the watchDrop knob, so a test can tell the knob fired. */
  dropped = 0;

  constructor(api: Api, faults: () => Obj, bookmarkMs: number) {
    this.api = api;
    this.faults = faults;
    this.bookmarkMs = bookmarkMs;
  }

  get size(): number {
    return this.active.size;
  }

  /** Open watches of clients (the CLI), not of the simulation's own controllers and tools. */
  get clientOpen(): number {
    let n = 0;
    for (const a of this.active) if (a.fromClient) n++;
    return n;
  }

  private dropFault(): WatchDropFault | undefined {
    const f = this.faults().watchDrop;
    return isObj(f) ? (f as WatchDropFault) : undefined;
  }

  /** Re-arms the time-based drop of client watches after the fault knobs changed. */
  refaults(): void {
    for (const a of this.active) this.armDrop(a);
  }

  private armDrop(a: Active): void {
    if (a.dropTimer) clearTimeout(a.dropTimer);
    a.dropTimer = undefined;
    const f = this.dropFault();
    if (!a.fromClient || typeof f?.afterMs !== 'number') return;
    a.dropTimer = setTimeout(() => a.drop(), Math.max(0, a.startedAt + f.afterMs - Date.now()));
  }

  /** Ends every stream (the cluster went away, or the server stops). */
  closeAll(): void {
    for (const a of [...this.active]) a.close();
  }

  serve(req: IncomingMessage, res: ServerResponse, p: WatchParams): void {
    const rt = p.rt;
    const api = this.api;
    const labels = parseLabelSelector(p.labelSelector);
    const fields = parseFieldSelector(p.fieldSelector, rt.storageKey, api.selectableFields(rt));
    const inScope = (o: Obj): boolean =>
      (!rt.namespaced || !p.namespace || o.metadata?.namespace === p.namespace) && labels(o.metadata?.labels ?? {}) && fields(o);

    let startRv = api.store.rv;
    let initial: Obj[] = [];
    let backlog: StoreEvent[] | undefined = [];
    const rvParam = p.resourceVersion;
    const fromState = rvParam === null || rvParam === '' || rvParam === '0' || p.sendInitialEvents;
    if (fromState) {
      initial = api.store.list(rt.storageKey, rt.namespaced && p.namespace ? p.namespace : undefined).filter(inScope);
    } else {
      const n = Number(rvParam);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
      startRv = n;
      backlog = api.store.eventsSince(n);
    }

    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    res.socket?.setNoDelay(true);

    if (!backlog) {
      const status = expired(`too old resource version: ${rvParam} (${api.store.oldestRv + 1})`).toStatus();
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }

    let finished = false;
    let unsubscribe = (): void => {};
    const timers: NodeJS.Timeout[] = [];
    const active: Active = {
      fromClient: p.fromClient,
      startedAt: Date.now(),
      events: 0,
      drop: () => {
        if (finished) return;
        this.dropped++;
        cleanup();
        // A dropped connection, not a clean end: the client sees the stream break.
        res.destroy();
      },
      close: () => {
        if (finished) return;
        cleanup();
        res.end();
      },
    };
    const cleanup = (): void => {
      finished = true;
      unsubscribe();
      for (const t of timers) clearInterval(t);
      if (active.dropTimer) clearTimeout(active.dropTimer);
      this.active.delete(active);
    };

    const write = (type: string, object: Obj): void => {
      if (finished) return;
      const line = `${JSON.stringify({ type, object })}\n`;
      if (type === 'BOOKMARK') {
        res.write(line);
        return;
      }
      active.events++;
      const f = this.dropFault();
      if (active.fromClient && typeof f?.afterEvents === 'number' && active.events >= f.afterEvents) {
        this.dropped++;
        finished = true;
        cleanup();
        res.write(line, () => res.destroy());
        return;
      }
      res.write(line);
    };
    const bookmark = (rv: number, initialEnd = false): void => {
      const metadata: Obj = { resourceVersion: String(rv) };
      if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
      write('BOOKMARK', { kind: rt.kind, apiVersion: apiVersionOf(rt), metadata });
    };
    const onEvent = (ev: StoreEvent): void => {
      if (ev.storageKey !== rt.storageKey || ev.rv <= startRv) return;
      const now = inScope(ev.object);
      const before = ev.prev ? inScope(ev.prev) : false;
      if (ev.type === 'ADDED') {
        if (now) write('ADDED', present(rt, ev.object));
      } else if (ev.type === 'MODIFIED') {
        if (now && before) write('MODIFIED', present(rt, ev.object));
        else if (now) write('ADDED', present(rt, ev.object));
        else if (before) write('DELETED', present(rt, ev.object));
      } else if (now || before) write('DELETED', present(rt, ev.object));
    };

    // A client that left while its request was held (the latencyMs knob) has no stream to keep.
    if (req.destroyed || res.destroyed) {
      cleanup();
      return;
    }
    this.active.add(active);
    this.armDrop(active);
    for (const o of initial) write('ADDED', present(rt, o));
    if (p.sendInitialEvents && p.allowWatchBookmarks) bookmark(startRv, true);
    for (const ev of backlog) onEvent(ev);
    if (!finished) unsubscribe = api.store.subscribe(onEvent);
    if (p.allowWatchBookmarks) timers.push(setInterval(() => bookmark(api.store.rv), this.bookmarkMs));
    if (p.timeoutSeconds !== undefined && p.timeoutSeconds > 0) {
      timers.push(setTimeout(() => active.close(), p.timeoutSeconds * 1000));
    }
    req.on('close', cleanup);
    res.on('close', cleanup);
  }
}
