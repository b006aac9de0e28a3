// Port-forward over WebSocket as the kubelet speaks it to client-node's PortForward: the
// subprotocol v4.channel.k8s.io, every message prefixed by a channel byte (port i uses data
// channel 2i and error channel 2i+1), and each channel opened by a first frame carrying the
// port number as 2 bytes little-endian. Bytes are relayed to the TCP target the simulated
// kubelet registered for that pod and port; without one, the error channel says why.
import { createConnection, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Api } from './objects.ts';
import { ApiError, badRequest, notFound } from './status.ts';
import type { StoreEvent } from './store.ts';
import type { Obj } from './types.ts';

const PROTOCOL = 'v4.channel.k8s.io';

export interface Target {
  host: string;
  port: number;
}

/** Answers an upgrade request with a plain HTTP error carrying a Status. */
export function rejectUpgrade(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  const reason = err.code === 404 ? 'Not Found' : err.code === 400 ? 'Bad Request' : err.code === 500 ? 'Internal Server Error' : 'Error';
  socket.end(`HTTP/1.1 ${err.code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export class PortForwardHub {
  private readonly targets = new Map<string, Target>();
  private readonly sessions = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols: Set<string>) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });

  register(ns: string, pod: string, port: number, target: Target): void {
    this.targets.set(`${ns}/${pod}/${port}`, target);
  }

  list(): Array<{ namespace: string; pod: string; port: number; host: string; targetPort: number }> {
    return [...this.targets].map(([k, t]) => {
      const [namespace, pod, port] = k.split('/');
      return { namespace, pod, port: Number(port), host: t.host, targetPort: t.port };
    });
  }

  /** A deleted pod takes its listeners with it. */
  onStoreEvent(ev: StoreEvent): void {
    if (ev.storageKey !== '/pods' || ev.type !== 'DELETED') return;
    const prefix = `${ev.object.metadata?.namespace}/${ev.object.metadata?.name}/`;
    for (const k of [...this.targets.keys()]) if (k.startsWith(prefix)) this.targets.delete(k);
  }

  clearAll(): void {
    this.targets.clear();
    for (const ws of this.sessions) ws.terminate();
  }

  handleUpgrade(api: Api, req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, name: string, query: URLSearchParams): void {
    const pod = api.store.get('/pods', ns, name);
    if (!pod) return rejectUpgrade(socket, notFound({ group: '', resource: 'pods' }, name));
    // kube-apiserver hands the client's `ports` to the kubelet as `port`, joined by commas.
    const ports = query.getAll('ports');
    this.upgradeOnNode(req, socket, head, pod, new URLSearchParams(ports.length ? { port: ports.join(',') } : {}));
  }

  /**
   * The kubelet's part: the ports, then the session. The fake API server calls it directly; on
   * a real API server the simulated kubelet's endpoint does
   * (test/sim/controllers/kubelet-endpoint.ts), after kube-apiserver has proxied the upgrade to it.
   */
  upgradeOnNode(req: IncomingMessage, socket: Duplex, head: Buffer, pod: Obj, query: URLSearchParams): void {
    const ns = String(pod.metadata?.namespace ?? '');
    const name = String(pod.metadata?.name ?? '');
    // The kubelet's parsing (NewV4Options): `port`, repeated or comma-separated.
    const raw = query.getAll('port');
    if (raw.length === 0) return rejectUpgrade(socket, badRequest('query parameter "port" is required'));
    const ports = raw.flatMap((p) => p.split(',')).map(Number);
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      return rejectUpgrade(socket, badRequest(`unable to parse "${raw.join(',')}" as a port`));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.session(ws, ns, name, String(pod.metadata.uid), ports));
  }

  private session(ws: WebSocket, ns: string, pod: string, uid: string, ports: number[]): void {
    this.sessions.add(ws);
    const conns: Array<Socket | undefined> = [];
    const frame = (channel: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([channel]), payload]);
    const portBytes = (p: number): Buffer => {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(p, 0);
      return b;
    };
    const fail = (i: number, why: string): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(frame(2 * i + 1, Buffer.from(`error forwarding port ${ports[i]} to pod ${pod}_${ns}, uid ${uid}: unable to do port forwarding: ${why}`)));
      ws.close(1000);
    };
    ports.forEach((p, i) => {
      ws.send(frame(2 * i, portBytes(p)));
      ws.send(frame(2 * i + 1, portBytes(p)));
    });
    ports.forEach((p, i) => {
      const target = this.targets.get(`${ns}/${pod}/${p}`);
      if (!target) {
        fail(i, `dial tcp 127.0.0.1:${p}: connect: connection refused`);
        return;
      }
      const conn = createConnection({ host: target.host, port: target.port });
      conns[i] = conn;
      conn.on('data', (chunk: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(frame(2 * i, chunk));
      });
      conn.on('error', (err: NodeJS.ErrnoException) => fail(i, `dial tcp 127.0.0.1:${p}: ${err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message}`));
      conn.on('close', () => {
        if (ws.readyState === ws.OPEN) ws.close(1000);
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data.toString(), 'utf8');
      if (buf.length < 1) return;
      const channel = buf[0];
      if (channel % 2 !== 0) return;
      conns[channel / 2]?.write(buf.subarray(1));
    });
    ws.on('close', () => {
      this.sessions.delete(ws);
      for (const c of conns) c?.destroy();
    });
    ws.on('error', () => ws.terminate());
  }
}
