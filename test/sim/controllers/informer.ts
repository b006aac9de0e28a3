// List-then-watch caches and per-key work queues: the client-go machinery in miniature.
// The simulation runs all controllers in one process, so they share the caches; writes go
// through the API and are also put into the cache at once (write-through), which keeps a
// controller from acting twice on a view that its own watch has not caught up with yet.
import { newerOrSame, type KubeObject, type SimClient, type WatchEvent } from '../api-client.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type Handler = (type: ChangeType, obj: KubeObject) => void;

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

export class Informer {
  readonly path: string;
  private readonly client: SimClient;
  private readonly signal: AbortSignal;
  private readonly cache = new Map<string, KubeObject>();
  private readonly handlers: Handler[] = [];
  // uids deleted through write-through: a late MODIFIED from the watch must not revive them
  private readonly tombstones = new Set<string>();
  private resourceVersion: string | undefined;

  constructor(client: SimClient, path: string, signal: AbortSignal) {
    this.client = client;
    this.path = path;
    this.signal = signal;
  }

  on(handler: Handler): void {
    this.handlers.push(handler);
  }

  /** Lists once (resolves then), and keeps watching in the background until aborted. */
  async start(): Promise<void> {
    await this.relist();
    void this.loop();
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Puts a fresher copy in the cache (from a write response or a watch event). */
  upsert(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (uid && this.tombstones.has(uid)) return;
    const key = keyOf(obj);
    const cur = this.cache.get(key);
    if (cur && cur.metadata.uid === uid && cur.metadata.resourceVersion !== obj.metadata.resourceVersion && newerOrSame(cur.metadata.resourceVersion, obj.metadata.resourceVersion)) return;
    if (cur && cur.metadata.resourceVersion === obj.metadata.resourceVersion && cur.metadata.uid === uid) return;
    this.cache.set(key, obj);
    this.emit(cur ? 'MODIFIED' : 'ADDED', obj);
  }

  /** Forgets an object (after a successful DELETE or a DELETED event). */
  remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const cur = this.cache.get(key);
    if (obj.metadata.uid) {
      this.tombstones.add(obj.metadata.uid);
      if (this.tombstones.size > 5000) this.tombstones.delete(this.tombstones.values().next().value as string);
    }
    if (!cur || (obj.metadata.uid && cur.metadata.uid !== obj.metadata.uid)) return;
    this.cache.delete(key);
    this.emit('DELETED', cur);
  }

  private emit(type: ChangeType, obj: KubeObject): void {
    for (const h of this.handlers) {
      try {
        h(type, obj);
      } catch (err) {
        simLog(`handler for ${this.path} failed: ${String(err)}`);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.path);
    const seen = new Set<string>();
    for (const item of list.items) {
      seen.add(keyOf(item));
      this.upsert(item);
    }
    for (const [key, obj] of [...this.cache]) if (!seen.has(key)) this.remove(obj);
    this.resourceVersion = list.metadata.resourceVersion;
  }

  private async loop(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        let gone = false;
        await this.client.watch(this.path, { resourceVersion: this.resourceVersion, signal: this.signal }, (ev) => {
          if (this.handle(ev)) gone = true;
        });
        if (gone) this.resourceVersion = undefined;
      } catch (err) {
        if (this.signal.aborted) return;
        // A dropped stream or a refused request: back off briefly, then re-list to be safe.
        this.resourceVersion = undefined;
        simLog(`watch ${this.path}: ${String(err)}`);
        await sleep(100, this.signal);
      }
    }
  }

  /** Applies one watch event; true when the server said our resourceVersion is too old. */
  private handle(ev: WatchEvent): boolean {
    if (ev.type === 'ERROR') return true;
    const rv = ev.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (ev.type === 'BOOKMARK') return false;
    if (ev.type === 'DELETED') this.remove(ev.object);
    else this.upsert(ev.object);
    return false;
  }
}

/**
 * Runs `worker(key)` for queued keys: different keys concurrently, one key never twice at
 * once (a key queued while it runs runs again afterwards). Failures retry with backoff.
 */
export class WorkQueue {
  private readonly name: string;
  private readonly worker: (key: string) => Promise<void>;
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(name: string, worker: (key: string) => Promise<void>) {
    this.name = name;
    this.worker = worker;
  }

  add(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.add(key);
      }, delayMs);
      this.timers.add(t);
      return;
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.running.add(key);
    void this.run(key);
  }

  private async run(key: string): Promise<void> {
    try {
      await this.worker(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      if (!this.stopped) simLog(`${this.name} ${key}: ${String(err)}`);
      this.add(key, Math.min(2000, 50 * 2 ** Math.min(n, 6)));
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      if (this.running.size === 0) for (const f of this.idle) f();
    }
  }

  /** Stops accepting work and waits (briefly) for running workers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.running.size === 0) return;
    await Promise.race([new Promise<void>((r) => this.idle.add(r)), sleep(1000)]);
  }
}

/** Sleeps; resolves early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Diagnostics of the simulation itself, shown only with SIM_DEBUG=1 (tests stay quiet). */
export function simLog(msg: string): void {
  if (process.env.SIM_DEBUG) process.stderr.write(`[sim] ${msg}\n`);
}
