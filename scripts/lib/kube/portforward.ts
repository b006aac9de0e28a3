// Port-forward like `kubectl port-forward`, bound to 127.0.0.1 on a free port the OS picks.
// Every local TCP connection gets its own websocket to the pod's portforward endpoint
// (client-node's PortForward speaks the channel protocol); closing either side closes both.
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { SandboxError } from '../errors.ts';
import { isPodReady, type Kube, type KubeObject, type PortForward, type PortForwardTarget } from './kube.ts';
import { PortForward as PortForwardClient } from './portforward-client.ts';

/** A pod to send traffic to: Ready, and not on its way out. */
function isReady(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && isPodReady(pod);
}

/** The pod and container port behind a Service port: a ready pod of its selector, targetPort resolved. */
async function resolveService(kube: Kube, namespace: string, service: string, port: number): Promise<{ pod: string; port: number }> {
  const name = `Service ${namespace}/${service}`;
  const svc = await kube.get({ apiVersion: 'v1', kind: 'Service', name: service, namespace });
  if (!svc) throw new SandboxError(`${name} not found`, { hint: 'is the component installed? `sandbox status`' });
  const ports: any[] = svc.spec?.ports ?? [];
  const sp = ports.find((p) => p.port === port);
  if (!sp) throw new SandboxError(`${name} has no port ${port} (it has ${ports.map((p) => p.port).join(', ') || 'none'})`);
  const selector: Record<string, string> = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) throw new SandboxError(`${name} has no selector, so no pod to forward to`);
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await kube.list('v1', 'Pod', { namespace, labelSelector });
  const pod = pods.find(isReady);
  if (!pod) {
    throw new SandboxError(`no ready pod behind ${name} (${pods.length} pod(s) match ${labelSelector})`, {
      hint: 'wait for the component to become ready (`sandbox status`)',
    });
  }
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return { pod: pod.metadata.name, port: target };
  if (/^\d+$/.test(target)) return { pod: pod.metadata.name, port: Number(target) };
  // A named targetPort refers to a container port of the pod.
  for (const c of pod.spec?.containers ?? []) {
    const cp = (c.ports ?? []).find((p: any) => p.name === target);
    if (cp) return { pod: pod.metadata.name, port: cp.containerPort };
  }
  throw new SandboxError(`${name} port ${port} targets "${target}", which pod ${pod.metadata.name} does not declare`);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function portForward(kube: Kube, kc: KubeConfig, target: PortForwardTarget): Promise<PortForward> {
  const { namespace } = target;
  let dest: { pod: string; port: number };
  if (target.service) dest = await resolveService(kube, namespace, target.service, target.port);
  else if (target.pod) dest = { pod: target.pod, port: target.port };
  else throw new SandboxError('port-forward needs a pod or a service');

  const client = new PortForwardClient(kc, true);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    // The error channel carries text when the pod side failed (e.g. nothing listens on the port).
    const errors = new Writable({
      write(chunk: Buffer, _enc, cb): void {
        if (chunk.length > 0) socket.destroy();
        cb();
      },
    });
    client.portForward(namespace, dest.pod, [dest.port], socket, errors, socket).then(
      (ws) => {
        const w = ws as WebSocket;
        if (socket.destroyed) return w.close();
        w.on('close', () => socket.end());
        w.on('error', () => socket.destroy());
        socket.on('close', () => w.close());
      },
      () => socket.destroy(),
    );
  });
  const localPort = await listen(server);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }));
  return {
    localPort,
    url(scheme = 'http', path = '/') {
      return `${scheme}://127.0.0.1:${localPort}${path.startsWith('/') ? path : `/${path}`}`;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
