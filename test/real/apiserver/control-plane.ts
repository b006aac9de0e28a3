// A real Kubernetes control plane for tests, in envtest's shape: etcd and kube-apiserver (and,
// when asked, kube-controller-manager) as child processes on 127.0.0.1, in a fresh temporary
// directory, with TLS and client certificates and a kubeconfig file. Started in a few seconds
// from the cached binaries (binaries.ts), stopped by their pids.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { ControlPlaneBinaries } from './binaries.ts';
import { makeControlPlaneCerts, type ControlPlaneCerts } from './certs.ts';

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (namespace deletion, garbage collection, service accounts). */
  controllerManager?: boolean;
  /**
   * Which kube-controller-manager controllers run (its --controllers); default all but the
   * node and cloud ones. The simulation brings its own workload controllers and kubelets, so
   * on it only the cluster's housekeeping runs (namespaces, garbage collection, service accounts).
   */
  controllers?: string[];
  /** Extra kube-apiserver flags, e.g. `--watch-cache=false`. */
  apiserverArgs?: string[];
  /** How long the API server may take to report /readyz ok; default 60 s (two busy cores). */
  readyTimeoutMs?: number;
}

export interface ControlPlane extends AsyncDisposable {
  /** https://127.0.0.1:<port> */
  server: string;
  /** A kubeconfig with one context, `sandbox-test`, as the admin (system:masters). */
  kubeconfig: string;
  context: string;
  certs: ControlPlaneCerts;
  /** The directory holding data, certificates and each process's log. */
  dir: string;
  pids: { etcd: number; apiserver: number; controllerManager?: number };
  /** Milliseconds from the call to /readyz answering ok. */
  startupMs: number;
  /** Compacts etcd to its current revision; returns that revision. */
  compactEtcd(): Promise<number>;
  /** GET a path with the admin's certificate; resolves to the status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

const CONTEXT = 'sandbox-test';

/** A free port on 127.0.0.1, as the kernel hands out; it may be taken before it is used (rare). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// The last line of defence when the test process goes away without stopping what it started
// (a crash, vitest tearing the worker down): children would otherwise outlive it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts a binary with stderr (and, unless the caller reads it, stdout) going to `logFile`. */
function startProcess(binary: string, args: string[], logFile: string, readStdout = false): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log);
  // An unread pipe fills up and then blocks the process's writes.
  if (!readStdout) child.stdout!.pipe(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Stops one process by its pid: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function logTail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Starts etcd and waits for the line with the client URL it chose. */
async function startEtcd(bin: string, dir: string): Promise<{ child: ChildProcess; url: string; lines: AsyncIterator<string> }> {
  const logFile = join(dir, 'etcd.log');
  const child = startProcess(bin, ['--data-dir', join(dir, 'etcd')], logFile, true);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`etcd exited (${code}) before it was ready`))));
  const first = await Promise.race([lines.next(), exited]).catch(async (err: Error) => {
    throw new Error(`${err.message}; its log ends:\n${await logTail(logFile)}`);
  });
  exited.catch(() => {}); // later exits are the caller's business (stop), not an unhandled rejection
  const url = /^client-url (\S+)$/.exec(first.value ?? '')?.[1];
  if (!url) throw new Error(`etcd printed "${first.value}" instead of its client URL`);
  return { child, url, lines };
}

function apiserverArgs(certs: ControlPlaneCerts, port: number, etcdUrl: string, opts: ControlPlaneOptions): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // The "kubernetes" Service's endpoints would point at 127.0.0.1, which the API server
    // refuses as an endpoint address; envtest turns the reconciler off for the same reason.
    '--endpoint-reconciler-type=none',
    // Without a controller manager nobody creates the `default` ServiceAccount, and the
    // ServiceAccount admission plugin would refuse every Pod (envtest disables it too).
    ...(opts.controllerManager ? [] : ['--disable-admission-plugins=ServiceAccount']),
    ...(opts.apiserverArgs ?? []),
  ];
}

function kubeconfigText(server: string, certs: { ca: string; cert: string; key: string }): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster: { server, 'certificate-authority-data': b64(certs.ca) } }],
    users: [{ name: 'sandbox-admin', user: { 'client-certificate-data': b64(certs.cert), 'client-key-data': b64(certs.key) } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: 'sandbox-admin', namespace: 'default' } }],
    'current-context': CONTEXT,
  });
}

/** Starts a control plane from the given binaries; throws with the process's log when it fails. */
export async function startControlPlane(bins: ControlPlaneBinaries, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-controlplane-'));
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse order: the API server (and its controllers) before the etcd they write to.
    for (const child of [...children].reverse()) await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [certs, etcd] = await Promise.all([makeControlPlaneCerts(dir), startEtcd(bins.etcd, dir)]);
    children.push(etcd.child);
    const tls = { ca: await readFile(certs.caCert, 'utf8'), cert: await readFile(certs.adminCert, 'utf8'), key: await readFile(certs.adminKey, 'utf8') };

    const get = (server: string, path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(`${server}${path}`, { ...tls, timeout: 5000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 5 s`)));
        req.on('error', reject);
        req.end();
      });

    // The port is picked just before use; if another process takes it first, the API server
    // exits with "address already in use" and the next port is tried.
    let server = '';
    const logFile = join(dir, 'kube-apiserver.log');
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      server = `https://127.0.0.1:${port}`;
      const apiserver = startProcess(bins.kubeApiserver, apiserverArgs(certs, port, etcd.url, opts), logFile);
      children.push(apiserver);
      const outcome = await waitReady(apiserver, () => get(server, '/readyz'), opts.readyTimeoutMs ?? 60_000);
      if (outcome === 'ready') break;
      const tail = await logTail(logFile);
      children.pop();
      await stopProcess(apiserver);
      if (outcome === 'exited' && /address already in use/.test(tail) && attempt < 3) continue;
      throw new Error(`kube-apiserver ${outcome === 'exited' ? `exited (${apiserver.exitCode ?? apiserver.signalCode})` : 'was not ready in time'}; its log ends:\n${tail}`);
    }

    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigText(server, tls), { mode: 0o600 });
    let controllerManager: ChildProcess | undefined;
    if (opts.controllerManager) {
      controllerManager = startProcess(
        bins.kubeControllerManager,
        [
          `--kubeconfig=${kubeconfig}`,
          '--leader-elect=false',
          // No serving endpoint: nothing scrapes it, and it would need a port of its own.
          '--secure-port=0',
          `--service-account-private-key-file=${certs.serviceAccountKey}`,
          `--root-ca-file=${certs.caCert}`,
          `--controllers=${(opts.controllers ?? ['*', '-nodeipam', '-nodelifecycle', '-cloud-node-lifecycle', '-route', '-service']).join(',')}`,
        ],
        join(dir, 'kube-controller-manager.log'),
      );
      children.push(controllerManager);
    }

    let compactions: Promise<unknown> = Promise.resolve();
    const plane: ControlPlane = {
      server,
      kubeconfig,
      context: CONTEXT,
      certs,
      dir,
      pids: { etcd: etcd.child.pid!, apiserver: children[1]!.pid!, controllerManager: controllerManager?.pid },
      startupMs: Math.round(performance.now() - started),
      compactEtcd() {
        // One at a time: each answer is the next line etcd prints.
        const next = compactions.catch(() => {}).then(async () => {
          etcd.child.kill('SIGUSR1');
          const line = (await etcd.lines.next()).value ?? '';
          const rev = /^compacted (\d+)$/.exec(line)?.[1];
          if (!rev) throw new Error(`etcd did not compact: ${line || 'no answer'}`);
          return Number(rev);
        });
        compactions = next;
        return next;
      },
      get: (path) => get(server, path),
      stop: stopAll,
      [Symbol.asyncDispose]: stopAll,
    };
    return plane;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Polls /readyz until it answers 200, the process exits, or time runs out. */
async function waitReady(child: ChildProcess, probe: () => Promise<{ status: number }>, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    const res = await probe().catch(() => undefined);
    if (res?.status === 200) return 'ready';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 'timeout';
}
