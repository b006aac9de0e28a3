// Small helpers the simulated systems' container behaviours share: log line formats (klog,
// log4j, zap/ECS JSON), the webhook warm-up knob, waiting for a Secret a real kubelet would have
// mounted, and fake PEM material. Types only from the behaviours registry (it imports the
// systems, which import this file).
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api-client.ts';
import type { ContainerContext, ContainerSpec, ImageBehaviour } from './behaviours.ts';

export const DEFAULT_WEBHOOK_WARMUP_MS = 300;

/** Matches by image reference (as written in the pod spec). */
export function byImage(re: RegExp, also?: (c: ContainerSpec) => boolean): ImageBehaviour['matches'] {
  return (image, _pod, container, init) => !init && re.test(image) && (also?.(container) ?? true);
}

/** The tag of an image reference, without a digest (`v1.21.1` of `...:v1.21.1@sha256:...`). */
export function tagOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : 'latest';
}

/** Until the container is stopped. */
export function idle(ctx: ContainerContext): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve(undefined);
    ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/** `I1124 04:21:07.123456       1 file.go:42] "message" k="v"` (Kubernetes Go components). */
export function klog(file: string, msg: string, kv: Record<string, string | number> = {}, level: 'I' | 'W' | 'E' = 'I'): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const head = `${level}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}000       1 ${file}]`;
  const pairs = Object.entries(kv).map(([k, v]) => ` ${k}=${typeof v === 'number' ? v : JSON.stringify(v)}`).join('');
  return `${head} ${JSON.stringify(msg)}${pairs}`;
}

/** `2026-11-24 04:21:07,123 o.a.f.k.o.FlinkOperator [INFO ] message` (the operator's log4j console layout). */
export function log4j(logger: string, msg: string, level = 'INFO'): string {
  const iso = new Date().toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)} ${logger.padEnd(32)} [${level.padEnd(5)}] ${msg}`;
}

/** Webhooks answer only after this warm-up (the `webhookWarmupMs` knob, read at start). */
export async function warmupMs(ctx: ContainerContext): Promise<number> {
  const v = (await ctx.faults()).webhookWarmupMs;
  return typeof v === 'number' && v >= 0 ? v : DEFAULT_WEBHOOK_WARMUP_MS;
}

/**
 * Gates readiness: not Ready until `open` is called, then Ready after the warm-up. The gate
 * is installed before anything is awaited: a container without a readiness check counts as
 * Ready, so awaiting first would let the pod flash Ready right after it started.
 */
export function readinessGate(ctx: ContainerContext): { open(): Promise<number> } {
  let readyAt = Number.POSITIVE_INFINITY;
  ctx.setReadiness(() => Date.now() >= readyAt);
  return {
    async open() {
      const warmup = await warmupMs(ctx);
      readyAt = Date.now() + warmup;
      return warmup;
    },
  };
}

export async function getObject(ctx: ContainerContext, path: string): Promise<KubeObject | undefined> {
  try {
    return await ctx.api.get(path);
  } catch {
    return undefined; // the kind is not served (yet), or the server hiccuped: try again later
  }
}

/**
 * Waits for a Secret the pod mounts. A real kubelet would not even start the container
 * (FailedMount, ContainerCreating); here the container runs but is not ready, and the same
 * Warning event is recorded on the pod, so diagnostics read as they would on a cluster.
 */
export async function waitForMountedSecret(ctx: ContainerContext, volume: string, secret: string): Promise<boolean> {
  const ns = ctx.pod.metadata.namespace!;
  let warned = 0;
  while (!ctx.signal.aborted) {
    if (await getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${secret}`)) return true;
    if (Date.now() - warned > 2000) {
      warned = Date.now();
      await podEvent(ctx, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${volume}" : secret "${secret}" not found`);
    }
    await ctx.sleep(100);
  }
  return false;
}

export async function podEvent(ctx: ContainerContext, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const pod = ctx.pod;
  const ns = pod.metadata.namespace!;
  const now = new Date().toISOString();
  try {
    await ctx.api.create(`/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid },
      type,
      reason,
      message,
      source: { component: 'kubelet', host: ctx.nodeName },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  } catch {
    // events are best effort, as in the kubelet
  }
}

/** PEM-looking material: enough for anything that only checks presence and shape. */
export function fakePem(label: 'CERTIFICATE' | 'RSA PRIVATE KEY' | 'PRIVATE KEY'): string {
  const body = randomBytes(600).toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export function b64(s: string | Buffer): string {
  return Buffer.from(s).toString('base64');
}
