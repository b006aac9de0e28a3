// Watches the pods a step creates while its readiness gate waits, and ends the wait early
// with the real cause when a pod cannot ever become ready: an image that cannot be pulled
// (named, with the kubelet's event), a container that keeps crashing (with its last log line)
// or a pod no node has room for. Without this, the user
// would wait for the whole timeout and then read "not ready".
import { SandboxError } from '../errors.ts';
import type { Kube, KubeObject } from '../kube/kube.ts';

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
/** Registry answers that no retry will change. */
const PERMANENT = /not found|manifest unknown|unauthorized|denied|invalid reference|InvalidImageName|ErrImageNeverPull|not present with pull policy/i;

export interface PodProblemOptions {
  signal: AbortSignal;
  /** How long a transient-looking pull failure or an unschedulable pod may last. */
  graceMs: number;
  /** Epoch ms: pods created before this are not the step's and are ignored. */
  createdAfter?: number;
}

interface ContainerStatus {
  name: string;
  image?: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/**
 * Restarts after which a container in CrashLoopBackOff is taken as broken: the kubelet has then
 * backed off three times (10 s, 20 s, 40 s on a real node), longer than a component waiting for
 * a dependency takes.
 */
const CRASH_RESTARTS = 4;

/** The last non-empty line of a container's previous run, or undefined when its log is unreadable. */
async function lastWords(kube: Kube, pod: KubeObject, container: string): Promise<string | undefined> {
  const log = await kube.logs(pod.metadata.namespace!, pod.metadata.name, container, { previous: true, tailLines: 20 }).catch(() => undefined);
  return log
    ?.split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
}

async function lastWarning(kube: Kube, pod: KubeObject): Promise<string | undefined> {
  const events = await kube
    .list('v1', 'Event', { namespace: pod.metadata.namespace, fieldSelector: `involvedObject.name=${pod.metadata.name}` })
    .catch(() => [] as KubeObject[]);
  const warnings = events
    .filter((e) => e.type === 'Warning' && !/^Error: /.test(String(e.message)))
    .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')));
  return warnings.at(-1)?.message as string | undefined;
}

// Long on purpose: one promise executor whose watch handles and first-seen times are torn down
// together; stop, fail, stuckLongEnough and inspect inside are its named parts.
/** Resolves never; rejects with a SandboxError when a pod in `namespaces` is stuck for good. */
export function watchPodProblems(kube: Kube, namespaces: string[], opts: PodProblemOptions): Promise<never> {
  return new Promise<never>((_, reject) => {
    const firstSeen = new Map<string, number>();
    const handles: Array<{ close(): void }> = [];
    let done = false;
    const stop = (): void => {
      done = true;
      for (const h of handles) h.close();
    };
    opts.signal.addEventListener('abort', stop, { once: true });
    const fail = (err: SandboxError): void => {
      if (done) return;
      stop();
      reject(err);
    };
    const stuckLongEnough = (key: string): boolean => {
      const now = performance.now();
      const since = firstSeen.get(key) ?? now;
      firstSeen.set(key, since);
      return now - since >= opts.graceMs;
    };
    const inspect = async (pod: KubeObject): Promise<void> => {
      if (opts.createdAfter !== undefined && Date.parse(pod.metadata.creationTimestamp ?? '') < opts.createdAfter) return;
      const where = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as ContainerStatus[];
      for (const cs of statuses) {
        const waiting = cs.state?.waiting;
        if (!waiting?.reason || !PULL_REASONS.has(waiting.reason)) continue;
        const key = `${where}/${cs.name}/pull`;
        const event = await lastWarning(kube, pod);
        const detail = event ?? waiting.message ?? waiting.reason;
        if (PERMANENT.test(detail) || stuckLongEnough(key)) {
          const image = cs.image ?? pod.spec?.containers?.find((c: { name: string }) => c.name === cs.name)?.image;
          fail(
            new SandboxError(`cannot pull image "${image}" for pod ${where} on node ${pod.spec?.nodeName ?? '(unscheduled)'}: ${detail}`, {
              hint: 'check the image reference and tag (pinned in scripts/lib/config.ts or manifests/); behind a rate limit or proxy, configure a registry mirror for Docker',
            }),
          );
          return;
        }
      }
      for (const cs of statuses) {
        if (cs.state?.waiting?.reason !== 'CrashLoopBackOff' || (cs.restartCount ?? 0) < CRASH_RESTARTS) continue;
        const ns = pod.metadata.namespace;
        const said = await lastWords(kube, pod, cs.name);
        const exit = cs.lastState?.terminated?.exitCode;
        fail(
          new SandboxError(
            `container ${cs.name} of pod ${where} keeps crashing: restarted ${cs.restartCount} times${exit === undefined ? '' : `, last exit code ${exit}`}${said ? `; its last log line: ${said}` : ''}`,
            { hint: `read its log (\`kubectl logs --previous -n ${ns} ${pod.metadata.name} -c ${cs.name}\`, also in the diagnostics bundle under ${ns}/logs/${pod.metadata.name}/); then re-run \`sandbox up\`` },
          ),
        );
        return;
      }
      const unschedulable = (pod.status?.conditions as Array<{ type: string; status: string; reason?: string; message?: string }> | undefined)?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
      );
      if (unschedulable && stuckLongEnough(`${where}/schedule`)) {
        fail(
          new SandboxError(`pod ${where} cannot be scheduled: ${unschedulable.message ?? 'no node fits it'}`, {
            hint: /memory|cpu/i.test(unschedulable.message ?? '')
              ? 'give Docker more memory/CPUs, or use `sandbox up --profile minimal`'
              : 'see `kubectl describe pod` in the diagnostics bundle',
          }),
        );
      }
    };
    for (const namespace of namespaces) {
      kube
        .watch('v1', 'Pod', { namespace }, (type, pod) => {
          if (done || type === 'DELETED') return;
          void inspect(pod).catch(() => undefined);
        }, opts.signal)
        .then((h) => (done ? h.close() : handles.push(h)))
        .catch(() => undefined);
    }
  });
}
