// Following a container's log across restarts. The log endpoint serves one container
// instance at a time (the current one, or with previous=true the last terminated one), so we
// stream the current attempt, and when it ends we look at the pod: a higher restartCount means
// the next attempt, whose lines we stream next. Lines are counted per attempt so that a
// reconnect after a dropped stream, or a restart we noticed late, emits every line once.
import type { Transport } from './kube-client.ts';
import type { FollowLogsOptions, Kube, KubeObject } from './kube.ts';

interface Target {
  namespace: string;
  pod: string;
  container: string;
}

interface ContainerView {
  restartCount: number;
  running: boolean;
  terminated: boolean;
  /** The pod will not run this container again. */
  final: boolean;
}

function view(pod: KubeObject, container: string): ContainerView | undefined {
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const cs = statuses.find((s) => s?.name === container);
  if (!cs) return undefined;
  const phase = pod.status?.phase;
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const terminated = cs.state?.terminated !== undefined;
  return {
    restartCount: cs.restartCount ?? 0,
    running: cs.state?.running !== undefined,
    terminated,
    final:
      phase === 'Succeeded' ||
      phase === 'Failed' ||
      (terminated && (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && cs.state.terminated.exitCode === 0))),
  };
}

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Resolves with the pod once `pred` holds, or undefined when the pod is gone or the signal aborts. */
async function untilPod(kube: Kube, t: Target, pred: (pod: KubeObject) => boolean, signal?: AbortSignal): Promise<KubeObject | undefined> {
  return new Promise((resolve, reject) => {
    let handle: { close(): void } | undefined;
    let settled = false;
    const finish = (pod: KubeObject | undefined): void => {
      if (settled) return;
      settled = true;
      handle?.close();
      signal?.removeEventListener('abort', onAbort);
      resolve(pod);
    };
    const onAbort = (): void => finish(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    let present = false;
    kube
      .watch('v1', 'Pod', { namespace: t.namespace, name: t.pod }, (type, pod) => {
        if (type === 'DELETED') return finish(undefined);
        present = true;
        if (pred(pod)) finish(pod);
      }, signal)
      .then((h) => {
        handle = h;
        if (settled) h.close();
        else if (!present) finish(undefined);
      }, (err: unknown) => (settled ? undefined : ((settled = true), reject(err))));
  });
}

export async function followLogs(
  kube: Kube,
  transport: Transport,
  t: Target,
  onLine: (line: string, attempt: number) => void,
  opts: FollowLogsOptions = {},
): Promise<void> {
  const { signal } = opts;
  const started = (p: KubeObject): boolean => {
    const v = view(p, t.container);
    return v !== undefined && (v.running || v.terminated);
  };
  let pod = await untilPod(kube, t, started, signal);
  if (!pod) return;
  let attempt = view(pod, t.container)!.restartCount;
  /** Lines of `attempt` already handed to onLine (or, without sinceStart, skipped). */
  let done = 0;

  if (opts.previous && attempt > 0) {
    const prev = await kube.logs(t.namespace, t.pod, t.container, { previous: true }).catch(() => '');
    for (const line of splitLines(prev)) onLine(line, attempt - 1);
  }
  if (opts.sinceStart === false) done = splitLines(await kube.logs(t.namespace, t.pod, t.container).catch(() => '')).length;

  let stream = true;
  while (!signal?.aborted) {
    let ended: 'clean' | 'broken' | 'skipped' = 'skipped';
    if (stream) {
      ended = await streamAttempt(transport, t, done, signal, (line) => {
        done++;
        onLine(line, attempt);
      }).then(() => 'clean' as const, () => 'broken' as const);
    }
    stream = true;
    if (signal?.aborted) return;

    pod = await kube.get({ apiVersion: 'v1', kind: 'Pod', name: t.pod, namespace: t.namespace });
    const v = pod && view(pod, t.container);
    if (!pod || !v) return;
    if (v.restartCount === attempt && !v.final) {
      if (v.running && ended !== 'clean') {
        // The stream broke (or was ended long ago) while the container runs on: pick it up where we were.
        if (ended === 'broken') await sleep(200, signal);
        continue;
      }
      // The server ends a follow when the attempt ends, usually before the kubelet reports
      // the restart: wait for that report, a bounded while, then look again.
      const bounded = AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]);
      const next = await untilPod(kube, t, (p) => { const w = view(p, t.container); return w !== undefined && (w.restartCount > attempt || w.final); }, bounded);
      if (signal?.aborted) return;
      if (!next) {
        stream = false;
        continue;
      }
      pod = next;
    }
    const now = view(pod, t.container)!;
    // The attempt is over. Whatever the stream had not delivered (a drop, a restart noticed
    // late, a last line without its newline) is in its now complete log.
    if (now.restartCount <= attempt + 1) {
      const text = await kube.logs(t.namespace, t.pod, t.container, { previous: now.restartCount > attempt }).catch(() => '');
      for (const line of splitLines(text).slice(done)) onLine(line, attempt);
    }
    if (now.restartCount <= attempt) return; // final: nothing more will be written
    attempt = now.restartCount;
    done = 0;
    pod = await untilPod(kube, t, (p) => started(p) && view(p, t.container)!.restartCount >= attempt, signal);
    if (!pod) return;
    attempt = view(pod, t.container)!.restartCount;
  }
}

/**
 * Streams the current container's log with follow=true, skipping the first `skip` lines.
 * Resolves when the server ends the stream; an unterminated last line is left to the caller.
 */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function streamAttempt(transport: Transport, t: Target, skip: number, signal: AbortSignal | undefined, emit: (line: string) => void): Promise<void> {
  const body = await transport.stream('GET', `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/log`, {
    query: { container: t.container, follow: true },
    signal,
    retry: 'network',
    what: `follow logs of ${t.namespace}/${t.pod} ${t.container}`,
  });
  const decoder = new TextDecoder();
  let buf = '';
  let index = 0;
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (index++ >= skip) emit(line);
    }
  }
}
