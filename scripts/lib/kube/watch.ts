// List-then-watch, the way informers do it: list to learn the current objects and the
// collection's resourceVersion, then watch from there. A dropped or expired watch resumes
// from the last resourceVersion seen (bookmarks keep it fresh); 410 Gone means that version
// is too old, so we list again and report the difference as events.
import { isApiError, type Transport } from './client.ts';
import { resourcePath, type Discovery, type ResourceInfo } from './discovery.ts';
import type { KubeObject, WatchEventType } from './kube.ts';

export interface ListSpec {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export async function listAll(
  transport: Transport,
  apiVersion: string,
  kind: string,
  info: ResourceInfo,
  opts: ListSpec,
): Promise<{ items: KubeObject[]; resourceVersion?: string }> {
  const path = resourcePath({ apiVersion, resource: info, namespace: opts.namespace });
  const items: KubeObject[] = [];
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page = await transport.json<{ items?: KubeObject[]; metadata?: { continue?: string; resourceVersion?: string } }>('GET', path, {
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: 500, continue: cont },
      what: `list ${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}`,
    });
    // Items of a list carry no apiVersion/kind; callers expect whole objects.
    for (const item of page.items ?? []) items.push(Object.assign({ apiVersion, kind }, item));
    cont = page.metadata?.continue || undefined;
    resourceVersion = page.metadata?.resourceVersion;
  } while (cont);
  return { items, resourceVersion };
}

export interface WatchSpec extends ListSpec {
  apiVersion: string;
  kind: string;
  name?: string;
}

type OnEvent = (type: WatchEventType, obj: KubeObject) => void;

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

// Long on purpose: one closure over the watch's state (known objects, resourceVersion, the
// resolved kind); relist, handleLine, watchOnce and loop inside are its short, named parts.
/** Resolves once the initial list has been delivered as ADDED events; keeps watching until closed. */
export async function watchObjects(
  transport: Transport,
  discovery: Discovery,
  spec: WatchSpec,
  onEvent: OnEvent,
  signal?: AbortSignal,
): Promise<{ close(): void }> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  const close = (): void => {
    signal?.removeEventListener('abort', onAbort);
    stop.abort();
  };

  const known = new Map<string, KubeObject>();
  let resourceVersion: string | undefined;
  let info: ResourceInfo | undefined;
  const fieldSelector = [spec.fieldSelector, spec.name ? `metadata.name=${spec.name}` : undefined].filter(Boolean).join(',') || undefined;
  const wanted = (o: KubeObject): boolean => !spec.name || o.metadata?.name === spec.name;

  const emit = (type: WatchEventType, obj: KubeObject): void => {
    if (stop.signal.aborted) return;
    try {
      onEvent(type, obj);
    } catch {
      // A failing listener must not end the watch of everyone else's events.
    }
  };

  /** Lists, then reports what changed since the last list as events. */
  async function relist(): Promise<void> {
    info ??= await discovery.resource(spec.apiVersion, spec.kind);
    if (!info) {
      // The kind is not served (yet): there is nothing, and nothing to watch.
      resourceVersion = undefined;
      for (const [k, o] of known) (known.delete(k), emit('DELETED', o));
      return;
    }
    const list = await listAll(transport, spec.apiVersion, spec.kind, info, { ...spec, fieldSelector }).catch((err: unknown) => {
      // The kind went away (its CRD was deleted): nothing is left of it.
      if (!isApiError(err, 404)) throw err;
      info = undefined;
      discovery.invalidate(spec.apiVersion);
      return { items: [] as KubeObject[], resourceVersion: undefined };
    });
    const seen = new Set<string>();
    for (const item of list.items.filter(wanted)) {
      const k = keyOf(item);
      seen.add(k);
      const before = known.get(k);
      known.set(k, item);
      if (!before) emit('ADDED', item);
      else if (before.metadata.resourceVersion !== item.metadata.resourceVersion) emit('MODIFIED', item);
    }
    for (const [k, o] of known) if (!seen.has(k)) (known.delete(k), emit('DELETED', o));
    resourceVersion = list.resourceVersion;
  }

  /** One event of a watch stream; 'relist' for an ERROR event (410 Gone above all). */
  function handleLine(line: string): 'relist' | undefined {
    let ev: { type: string; object: KubeObject };
    try {
      ev = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (ev.type === 'ERROR') return 'relist';
    const obj: KubeObject = Object.assign({ apiVersion: spec.apiVersion, kind: spec.kind }, ev.object);
    if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
    if (ev.type === 'BOOKMARK' || !wanted(obj)) return undefined;
    if (ev.type === 'DELETED') known.delete(keyOf(obj));
    else known.set(keyOf(obj), obj);
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') emit(ev.type, obj);
    return undefined;
  }

  /** One watch request; returns whether a re-list is needed before the next one. */
  async function watchOnce(): Promise<'relist' | 'resume'> {
    if (!info) return 'relist';
    const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
    const path = resourcePath({ apiVersion: spec.apiVersion, resource: info, namespace: spec.namespace });
    // The server ends the watch after timeoutSeconds; the guard covers a connection that dies silently.
    const guard = AbortSignal.any([stop.signal, AbortSignal.timeout((timeoutSeconds + 30) * 1000)]);
    const body = await transport.stream('GET', path, {
      query: { watch: true, resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: spec.labelSelector, fieldSelector },
      signal: guard,
      retry: 'network',
      what: `watch ${spec.kind}`,
    });
    let buf = '';
    try {
      for await (const text of body.pipeThrough(new TextDecoderStream())) {
        buf += text;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line && handleLine(line) === 'relist') return 'relist';
        }
      }
    } catch (err) {
      // The stream broke after it was established: resume from the last version seen.
      if (stop.signal.aborted) throw err;
    }
    return 'resume';
  }

  async function loop(): Promise<void> {
    // One turn of the event loop first: a wait that the initial list already satisfies closes
    // the watch before its request is sent (a re-run of `up` found every gate met by its lists).
    await new Promise<void>((resolve) => setImmediate(resolve));
    let next: 'relist' | 'resume' = 'resume';
    let backoff = 0;
    while (!stop.signal.aborted) {
      try {
        if (next === 'relist') await relist();
        const started = performance.now();
        next = await watchOnce();
        // A server that ends every watch at once must not make us spin.
        backoff = performance.now() - started < 1000 ? 100 : 0;
      } catch (err) {
        if (stop.signal.aborted) return;
        // 410 on connect: our version expired. Anything else: back off, then list again
        // (events may have been missed while the server was unreachable).
        next = 'relist';
        backoff = isApiError(err, 410) ? 0 : Math.min(Math.max(backoff * 2, 200), 5000);
      }
      if (!info) backoff = Math.max(backoff, 1000);
      if (backoff > 0) await sleep(backoff, stop.signal);
    }
  }

  try {
    await relist();
  } catch (err) {
    close();
    throw err;
  }
  void loop();
  return { close };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
