// Admission webhooks that a real kube-apiserver can call, for the simulation on a real API
// server (SIM_KUBE_REAL, ../real-underlay.ts). On the fake server nothing here runs: it judges
// a webhook by its pods' readiness (../api/admission.ts) and never calls it.
//
// How kube-apiserver reaches a webhook Service (k8s.io/apiserver pkg/util/webhook/client.go,
// v1.36): it dials through its service resolver and verifies the serving certificate against
// the configuration's caBundle for the name `<service>.<namespace>.svc`. With
// `--enable-aggregator-routing=true` the resolver (pkg/util/proxy ResolveEndpoint) picks a ready
// address of the Service's EndpointSlices and the slice port named like the Service's port,
// instead of the Service's cluster IP, which nothing routes here. So a webhook container:
//  - listens with TLS on this machine's first non-loopback IPv4 address (EndpointSlice
//    validation refuses loopback, link-local and multicast addresses) on a port of its own;
//  - publishes that address and port in an EndpointSlice of every Service that selects its pod
//    on the container port it serves (what the endpointslice controller does from pod IPs);
//  - answers every AdmissionReview with `allowed: true` (no patch), as the simulated programs
//    refuse nothing on their own.
// Certificates are real ones, made with the openssl CLI (node:crypto cannot sign certificates):
// the simulated cert-manager, its webhook and ingress-nginx's certgen issue them, and the
// cainjector and certgen's patch put the real CA into the webhook configurations.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeObject } from '../api-client.ts';
import type { ContainerContext } from './behaviours.ts';
import { realUnderlay } from '../real-underlay.ts';

const exec = promisify(execFile);

/** PEM text of a certificate and its private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** True when the simulation runs on a real kube-apiserver, which calls webhooks for real. */
export function webhooksAreCalled(): boolean {
  return realUnderlay() !== undefined;
}

export interface CertRequest {
  commonName: string;
  dnsNames?: string[];
  isCA?: boolean;
  /** Signs the certificate; absent = self-signed. */
  signer?: KeyPair;
  days?: number;
}

/** A P-256 key and an X.509 certificate for it, from the openssl CLI. */
export async function makeCert(req: CertRequest): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-tls-'));
  try {
    const ext = req.isCA
      ? ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign, digitalSignature']
      : ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = serverAuth'];
    ext.push('subjectKeyIdentifier = hash');
    if (req.signer) ext.push('authorityKeyIdentifier = keyid');
    if (req.dnsNames?.length) ext.push(`subjectAltName = ${req.dnsNames.map((d) => `DNS:${d}`).join(', ')}`);
    // Our own config, so nothing of the system's openssl.cnf ends up in the certificate.
    const conf = join(dir, 'req.cnf');
    await writeFile(conf, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${req.commonName}`, '[ext]', ...ext, ''].join('\n'));
    const signer: string[] = [];
    if (req.signer) {
      await writeFile(join(dir, 'ca.crt'), req.signer.cert);
      await writeFile(join(dir, 'ca.key'), req.signer.key, { mode: 0o600 });
      signer.push('-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'));
    }
    const keyFile = join(dir, 'tls.key');
    const certFile = join(dir, 'tls.crt');
    await exec('openssl', [
      'req', '-x509', '-new', '-config', conf, '-extensions', 'ext', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(req.days ?? 90), ...signer,
    ]);
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** This machine's first IPv4 address that an EndpointSlice may hold (not loopback or link-local). */
export function endpointAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  throw new Error(
    'no non-loopback IPv4 address on this machine: kube-apiserver refuses loopback addresses in EndpointSlices, so it cannot be routed to the simulated webhooks',
  );
}

function b64decode(v: unknown): string {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

/** The key pair a Secret holds under the given keys (`tls.crt`/`tls.key` by default), if both are there. */
export function keyPairOf(secret: KubeObject | undefined, certKey = 'tls.crt', keyKey = 'tls.key'): KeyPair | undefined {
  const data = (secret?.data ?? {}) as Record<string, string>;
  const cert = b64decode(data[certKey]);
  const key = b64decode(data[keyKey]);
  return cert && key ? { cert, key } : undefined;
}

/** Answers AdmissionReviews: allowed, no patch. */
function admissionServer(tls: KeyPair): Server {
  return createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      let review: { apiVersion?: string; request?: { uid?: string } } = {};
      try {
        review = JSON.parse(body);
      } catch {
        res.writeHead(400).end('not an AdmissionReview');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } }));
    });
  });
}

/** Service ports whose targetPort is this container port (by number or by the container port's name). */
function portsServing(svc: KubeObject, ctx: ContainerContext, containerPort: number): Array<{ name?: string }> {
  const names = new Set((ctx.container.ports ?? []).filter((p) => p.containerPort === containerPort && p.name).map((p) => p.name!));
  const ports = (svc.spec?.ports ?? []) as Array<{ name?: string; port: number; targetPort?: number | string }>;
  return ports.filter((p) => {
    const target = p.targetPort ?? p.port;
    return typeof target === 'number' ? target === containerPort : names.has(target);
  });
}

function selects(svc: KubeObject, pod: KubeObject): boolean {
  const selector = (svc.spec?.selector ?? {}) as Record<string, string>;
  const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Serves admission on `containerPort` of this container with `tls` until the container stops,
 * and publishes the listener in the EndpointSlices of the Services that route to that port.
 * Call it when the program would turn Ready (the endpointslice controller lists ready pods only).
 */
export async function serveAdmission(ctx: ContainerContext, containerPort: number, tls: KeyPair): Promise<void> {
  const address = endpointAddress();
  const server = admissionServer(tls);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, address, resolve));
  const port = (server.address() as { port: number }).port;
  const pod = ctx.pod;
  const ns = pod.metadata.namespace!;
  const published: string[] = [];
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    for (const path of published) ctx.api.delete(path).catch(() => undefined);
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  if (ctx.signal.aborted) return stop();

  const services = (await ctx.api.list(`/api/v1/namespaces/${ns}/services`)).items.filter((s) => selects(s, pod));
  for (const svc of services) {
    const ports = portsServing(svc, ctx, containerPort);
    if (ports.length === 0) continue;
    const name = `${svc.metadata.name}-${String(pod.metadata.uid ?? pod.metadata.name).slice(0, 5)}`;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${name}`;
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: ns,
        labels: { 'kubernetes.io/service-name': svc.metadata.name!, 'endpointslice.kubernetes.io/managed-by': 'flink-sandbox-simulation' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [address],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: ctx.nodeName,
          targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name!, uid: pod.metadata.uid! },
        },
      ],
      // The resolver matches the slice port by the Service port's name ('' when unnamed).
      ports: ports.map((p) => ({ name: p.name ?? '', port, protocol: 'TCP' })),
    };
    await ctx.api.apply(path, slice, 'flink-sandbox-simulation');
    published.push(path);
  }
}
