// The simulated kubelets' HTTPS endpoint, for the simulation on a real kube-apiserver
// (real-underlay.ts). kube-apiserver serves pods/log and pods/portforward by calling the
// kubelet of the pod's node: it reads the Node, takes the first of its status.addresses of a
// type in --kubelet-preferred-address-types and the port of
// status.daemonEndpoints.kubeletEndpoint, and sends GET /containerLogs/{ns}/{pod}/{container}
// (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines, limitBytes) or the
// upgrade of /portForward/{ns}/{pod}?ports=... there over TLS, checking the serving
// certificate against --kubelet-certificate-authority and showing its own
// --kubelet-client-certificate. This one endpoint plays every simulated node's kubelet: fake
// kind publishes its address and port in each Node's status (SIM_KUBELET_ENDPOINT). It
// serves the same log store and port-forward targets as the fake API server does, so what
// the simulated containers print reads the same on either server. Like a kubelet in Webhook
// authorization mode it lets a client in only when kube-apiserver, asked with a
// SubjectAccessReview for the user and groups of the client certificate, allows it the node's
// `proxy` subresource (pkg/kubelet/server/auth.go: /containerLogs and /portForward are not
// among the paths with a subresource of their own).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError as ClientError, SimClient, type KubeObject } from '../api-client.ts';
import type { LogStore } from '../api/logs.ts';
import { rejectUpgrade, type PortForwardHub } from '../api/portforward.ts';
import { ApiError, badRequest } from '../api/status.ts';
import { Informer } from './informer.ts';

export interface KubeletTls {
  /** PEM: the serving certificate (for 127.0.0.1) and its key. */
  cert: string;
  key: string;
  /** PEM: the CA of the client certificates accepted (kube-apiserver's --kubelet-client-certificate). */
  clientCa: string;
}

export interface KubeletEndpointOptions {
  /** The fake API server's URL: its client sends Kubernetes requests to the real server. */
  simUrl: string;
  logs: LogStore;
  portForward: PortForwardHub;
  tls: KubeletTls;
}

export interface KubeletEndpoint {
  /** `127.0.0.1:<port>` */
  address: string;
  /** Requests served, "GET /containerLogs/ns/pod/container -> 200", in order. */
  requests(): string[];
  close(): Promise<void>;
}

const LOGS = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/;
const PORT_FORWARD = /^\/portForward\/([^/]+)\/([^/]+)$/;

/** A refusal the way the kubelet writes one: the status code and the error's text. */
function refuse(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message);
}

export async function startKubeletEndpoint(opts: KubeletEndpointOptions): Promise<KubeletEndpoint> {
  const client = new SimClient(opts.simUrl, 'kubelet');
  const served: string[] = [];
  const abort = new AbortController();

  // The real kubelet answers from its own pods; the API server's copy is the closest we have.
  const podOf = async (ns: string, name: string): Promise<KubeObject | undefined> =>
    client.get(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`);

  // Follow streams end when their pod goes or their container restarts, and a deleted pod's
  // port-forward targets go with it: on the fake server its store tells the log store and the
  // port-forward hub; here the real server's watch does.
  const pods = new Informer(new SimClient(opts.simUrl, 'kubelet'), '/api/v1/pods', abort.signal);
  pods.on((type, pod) => {
    const ev = { rv: 0, type, storageKey: '/pods', object: pod };
    opts.logs.onStoreEvent(ev);
    opts.portForward.onStoreEvent(ev);
  });
  await pods.start();

  /** The kubelet's refusal when kube-apiserver does not allow the client, else undefined. */
  async function forbidden(req: IncomingMessage, node: string): Promise<string | undefined> {
    const subject = (req.socket as TLSSocket).getPeerCertificate().subject ?? {};
    const user = String(subject.CN ?? '');
    const groups = ([] as string[]).concat(subject.O ?? []);
    const verb = req.method === 'POST' ? 'create' : 'get';
    const review = await client.create('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, groups, resourceAttributes: { verb, version: 'v1', resource: 'nodes', subresource: 'proxy', name: node } },
    });
    if (review.status?.allowed === true) return undefined;
    return `Forbidden (user=${user}, verb=${verb}, resource=nodes, subresource(s)=[proxy])\n`;
  }

  async function containerLogs(req: IncomingMessage, res: ServerResponse, ns: string, name: string, container: string, q: URLSearchParams): Promise<void> {
    const pod = await podOf(ns, name);
    const denied = await forbidden(req, String(pod?.spec?.nodeName ?? ''));
    if (denied) return refuse(res, 403, denied);
    if (!pod) return refuse(res, 404, `pod "${name}" does not exist`);
    const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as Array<{ name?: string }>;
    if (!specs.some((c) => c.name === container)) return refuse(res, 404, `container "${container}" not found in pod "${name}"`);
    opts.logs.serveOnNode(req, res, pod, container, q);
  }

  async function portForward(req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, name: string, q: URLSearchParams): Promise<void> {
    const pod = await podOf(ns, name);
    const denied = await forbidden(req, String(pod?.spec?.nodeName ?? ''));
    if (denied) return rejectUpgrade(socket, new ApiError(403, 'Forbidden', denied.trim()));
    if (!pod) return rejectUpgrade(socket, new ApiError(404, 'NotFound', `pod "${name}" does not exist`));
    opts.portForward.upgradeOnNode(req, socket, head, pod, q);
  }

  const server: Server = createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    res.on('finish', () => served.push(`${req.method} ${url.pathname} -> ${res.statusCode}`));
    const m = LOGS.exec(url.pathname);
    if (!m || req.method !== 'GET') return refuse(res, 404, '404 page not found');
    const [ns, name, container] = m.slice(1).map(decodeURIComponent) as [string, string, string];
    containerLogs(req, res, ns, name, container, url.searchParams).catch((err: unknown) => {
      if (err instanceof ApiError) return refuse(res, err.code, err.message);
      refuse(res, 500, err instanceof ClientError ? `reading the pod: ${err.message}` : String(err));
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    served.push(`UPGRADE ${url.pathname}`);
    const m = PORT_FORWARD.exec(url.pathname);
    if (!m) return rejectUpgrade(socket, badRequest(`no upgrade at ${url.pathname}`));
    const [ns, name] = m.slice(1).map(decodeURIComponent) as [string, string];
    portForward(req, socket, head, ns, name, url.searchParams).catch((err: unknown) => rejectUpgrade(socket, new ApiError(500, '', String(err))));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    requests: () => [...served],
    async close() {
      abort.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
