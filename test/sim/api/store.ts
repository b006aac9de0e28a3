// The object store: one global resourceVersion counter (like etcd's revision), objects keyed
// by storage key (group/resource) and namespace/name, and a bounded history of change events
// that watches replay from. Asking for a resourceVersion older than the history -> 410 Gone.
import { type Obj, clone } from './types.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  storageKey: string;
  /** The object after the change (for DELETED: as it was removed, with the deletion's resourceVersion). */
  object: Obj;
  /** The object before the change (MODIFIED and DELETED). */
  prev?: Obj;
}

export type StoreListener = (ev: StoreEvent) => void;

function objKey(obj: Obj): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export class Store {
  /** The last resourceVersion handed out. Starts high enough to look like a real cluster's. */
  rv = 1000;
  /** Watches may start from any resourceVersion >= this one. */
  oldestRv = 1000;
  private readonly historyLimit: number;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly uids = new Map<string, { storageKey: string; key: string }>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get(storageKey: string, namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(storageKey)?.get(`${namespace}/${name}`);
    return o ? clone(o) : undefined;
  }

  /** Objects of one resource in key order (namespace, then name), like an etcd range read. */
  list(storageKey: string, namespace?: string): Obj[] {
    const bucket = this.objects.get(storageKey);
    if (!bucket) return [];
    const keys = [...bucket.keys()].sort();
    const out: Obj[] = [];
    for (const k of keys) {
      const o = bucket.get(k)!;
      if (namespace === undefined || (o.metadata?.namespace ?? '') === namespace) out.push(clone(o));
    }
    return out;
  }

  /** Stored objects of one resource, unsorted and uncopied: callers must not modify them. */
  peek(storageKey: string): Obj[] {
    return [...(this.objects.get(storageKey)?.values() ?? [])];
  }

  /** Every stored object with its storage key (no copies: callers must not modify them). */
  *entries(): Generator<[string, Obj]> {
    for (const [storageKey, bucket] of this.objects) for (const o of bucket.values()) yield [storageKey, o];
  }

  byUid(uid: string): { storageKey: string; object: Obj } | undefined {
    const loc = this.uids.get(uid);
    if (!loc) return undefined;
    const o = this.objects.get(loc.storageKey)?.get(loc.key);
    return o ? { storageKey: loc.storageKey, object: clone(o) } : undefined;
  }

  /** Stores a copy of a new or changed object under the next resourceVersion and tells the listeners. */
  put(storageKey: string, obj: Obj): Obj {
    const stored = clone(obj);
    const key = objKey(stored);
    let bucket = this.objects.get(storageKey);
    if (!bucket) this.objects.set(storageKey, (bucket = new Map()));
    const prev = bucket.get(key);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    bucket.set(key, stored);
    if (stored.metadata.uid) this.uids.set(stored.metadata.uid, { storageKey, key });
    this.emit({ rv: this.rv, type: prev ? 'MODIFIED' : 'ADDED', storageKey, object: stored, prev });
    // The stored object itself: callers only read it (and copy it before handing it out).
    return stored;
  }

  remove(storageKey: string, obj: Obj): Obj | undefined {
    const key = objKey(obj);
    const bucket = this.objects.get(storageKey);
    const prev = bucket?.get(key);
    if (!bucket || !prev) return undefined;
    bucket.delete(key);
    if (prev.metadata?.uid) this.uids.delete(prev.metadata.uid);
    this.rv++;
    const gone = clone(prev);
    gone.metadata.resourceVersion = String(this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', storageKey, object: gone, prev });
    return gone;
  }

  private emit(ev: StoreEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestRv = dropped[dropped.length - 1].rv;
    }
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch (err) {
        // A listener's bug must not break the write that triggered it.
        console.error('sim store listener failed:', err);
      }
    }
  }

  /** Events after `rv` (exclusive), or undefined when they are no longer kept (410 Gone). */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestRv) return undefined;
    // history is ordered by rv; find the first event after rv
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets the history, as an etcd compaction does: watches from older versions get 410. */
  compact(): void {
    this.history = [];
    this.oldestRv = this.rv;
  }

  /** Removes every object without events (the cluster is gone) and forgets the history. */
  wipe(): void {
    this.objects.clear();
    this.uids.clear();
    this.compact();
  }

  count(): number {
    let n = 0;
    for (const b of this.objects.values()) n += b.size;
    return n;
  }
}
