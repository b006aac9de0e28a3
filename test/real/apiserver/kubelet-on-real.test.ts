// Pod logs and port-forward on the real API server: kube-apiserver serves pods/log and
// pods/portforward by calling the kubelet of the pod's node, found at the Node's InternalIP
// and daemonEndpoints port. The simulation's kubelet endpoint
// (test/sim/controllers/kubelet-endpoint.ts) answers there with TLS that kube-apiserver checks
// (--kubelet-certificate-authority) and a client certificate it checks in turn; fake kind
// published it in the Nodes it made. The CLI's own Kubernetes layer reads, follows and forwards
// through kube-apiserver, and each request is seen arriving at the endpoint, so none of it is
// the fake server answering.
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectKube } from '../../../scripts/lib/kube/connect.ts';
import type { Kube } from '../../../scripts/lib/kube/kube.ts';
import { startSim, type Sim } from '../../sim/harness.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { makeKubeletCerts, type KubeletCerts } from './kubelet-tls.ts';

const HOUSEKEEPING = ['namespace', 'garbagecollector', 'serviceaccount', 'serviceaccount-token', 'root-ca-cert-publisher', 'pvc-protection', 'pv-protection'];
const NS = 'kubelet-test';

let certs: KubeletCerts;
let plane: ControlPlane;
let sim: Sim;
let kube: Kube;
let backend: Server;

beforeAll(async () => {
  certs = await makeKubeletCerts();
  plane = await startControlPlane(inject('controlPlaneBinaries'), {
    controllerManager: true,
    controllers: HOUSEKEEPING,
    // As in sim-on-real.test.ts: no not-ready taint that only the node lifecycle controller lifts.
    apiserverArgs: ['--disable-admission-plugins=TaintNodesByCondition', ...certs.apiserverArgs],
  });
  sim = await startSim({ realApiServer: plane.kubeconfig, kubelet: certs.tls });
  // The nodes, as the CLI's cluster step makes them: fake kind publishes the endpoint in them.
  const kind = await sim.tool('kind', ['create', 'cluster', '--name', 'flink-sandbox']);
  expect(kind.code, kind.stderr).toBe(0);
  kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG, context: 'kind-flink-sandbox' });
  expect(kube.server).toBe(plane.server);
  await sim.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  backend = createServer((req, res) => res.end(`hello from the pod, you asked for ${req.url}`));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
}, 240_000);
afterAll(async () => {
  if (backend) {
    await new Promise((resolve) => {
      backend.close(resolve);
      backend.closeAllConnections();
    });
  }
  await sim?.close();
  await plane?.stop();
  await certs?.remove();
});

function pod(name: string, image: string, restartPolicy = 'Always', ports: number[] = []): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { test: name } },
    spec: { restartPolicy, containers: [{ name: 'main', image, ports: ports.map((p) => ({ containerPort: p })) }] },
  };
}

async function running(name: string): Promise<void> {
  await sim.kube.waitFor(`/api/v1/namespaces/${NS}/pods/${name}`, (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined, 30_000);
}

/** A GET through kube-apiserver as the admin: its status and body text. */
function get(path: string): Promise<{ status: number; body: string }> {
  return plane.get(path);
}

/** A follow stream through kube-apiserver: the lines so far, and a promise of its end. */
async function follow(path: string): Promise<{ lines: string[]; ended: Promise<void> }> {
  const tls = { ca: await readFile(plane.certs.caCert), cert: await readFile(plane.certs.adminCert), key: await readFile(plane.certs.adminKey) };
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${plane.server}${path}`, tls, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${path}: ${res.statusCode}`));
      const lines: string[] = [];
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        lines.push(...parts);
      });
      resolve({ lines, ended: new Promise((done) => res.on('close', () => done())) });
    });
    req.on('error', reject);
    req.end();
  });
}

const served = (): string[] => sim.kubelet!.requests();

describe('pods/log through kube-apiserver and the simulated kubelet', () => {
  it('reads a container log, with timestamps and tailLines, from the kubelet endpoint', async () => {
    await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('talker', 'example.com/talker:1', 'Always', [8080]));
    await running('talker');
    const before = served().length;
    await expect.poll(() => kube.logs(NS, 'talker', 'main')).toBe('starting example.com/talker:1\nmain ready to serve\n');
    const stamped = await get(`/api/v1/namespaces/${NS}/pods/talker/log?timestamps=true&tailLines=1`);
    expect(stamped.status).toBe(200);
    expect(stamped.body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z main ready to serve\n$/);
    // kube-apiserver passed each request on to the node's kubelet: the endpoint saw them.
    expect(served().slice(before)).toContain(`GET /containerLogs/${NS}/talker/main -> 200`);
    // The Node says where that kubelet is.
    const node = await sim.kube.get('/api/v1/nodes/flink-sandbox-control-plane');
    expect(`${node?.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address}:${node?.status?.daemonEndpoints?.kubeletEndpoint?.Port}`).toBe(sim.kubelet!.address);
  });

  it("keeps the refusals' words: kube-apiserver's own, and the kubelet's passed on", async () => {
    // Checked by kube-apiserver before it calls any kubelet.
    const wrong = await get(`/api/v1/namespaces/${NS}/pods/talker/log?container=nope`);
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body)).toMatchObject({ reason: 'BadRequest', message: 'container nope is not valid for pod talker' });
    // Said by the kubelet and handed on by kube-apiserver as a BadRequest with its text.
    const previous = await get(`/api/v1/namespaces/${NS}/pods/talker/log?previous=true`);
    expect(previous.status).toBe(400);
    expect(JSON.parse(previous.body)).toMatchObject({ reason: 'BadRequest', message: 'previous terminated container "main" in pod "talker" not found' });
    await sim.patchFaults({ unpullableImages: ['example.com/missing'] });
    try {
      await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('stuck', 'example.com/missing:1'));
      await sim.kube.waitFor(`/api/v1/namespaces/${NS}/pods/stuck`, (p) => /ErrImagePull|ImagePullBackOff/.test(p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''), 30_000);
      const stuck = await get(`/api/v1/namespaces/${NS}/pods/stuck/log`);
      expect(stuck.status).toBe(400);
      expect(JSON.parse(stuck.body).message).toMatch(/^container "main" in pod "stuck" is waiting to start: (image can't be pulled|trying and failing to pull image)$/);
    } finally {
      await sim.patchFaults({ unpullableImages: null });
    }
    expect(served()).toContain(`GET /containerLogs/${NS}/stuck/main -> 400`);
    // A pod on no node yet: kube-apiserver has no kubelet to ask and answers 204, no body (the
    // fake server too: test/unit/sim-server-streams.test.ts).
    const nowhere = { ...pod('nowhere', 'example.com/nowhere:1'), spec: { nodeSelector: { 'sandbox.test/no-such-node': 'true' }, containers: [{ name: 'main', image: 'example.com/nowhere:1' }] } };
    await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, nowhere);
    expect(await get(`/api/v1/namespaces/${NS}/pods/nowhere/log`)).toEqual({ status: 204, body: '' });
  });

  it('follows a crashing container across its restarts, and reads the previous run', async () => {
    await sim.patchFaults({ crashLoop: ['^crashy$'] });
    try {
      await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('crashy', 'example.com/crashy:1'));
      const seen: Array<{ attempt: number; line: string }> = [];
      const stop = new AbortController();
      const following = kube.followLogs(NS, 'crashy', 'main', (line, attempt) => {
        seen.push({ attempt, line });
        if (attempt >= 2) stop.abort();
      }, { signal: stop.signal });
      await Promise.race([following, new Promise((_, reject) => setTimeout(() => reject(new Error(`no third run in 60 s; seen ${JSON.stringify(seen)}`)), 60_000))]);
      stop.abort();
      const fatal = 'FATAL: main exited at start: simulated crash (crashLoop fault knob)';
      expect(seen.filter((s) => s.attempt < 2)).toEqual([{ attempt: 0, line: fatal }, { attempt: 1, line: fatal }]);
      const previous = await get(`/api/v1/namespaces/${NS}/pods/crashy/log?previous=true`);
      expect(previous).toEqual({ status: 200, body: `${fatal}\n` });
    } finally {
      await sim.patchFaults({ crashLoop: null });
    }
  }, 90_000);

  it('ends a follow stream when its pod is deleted, and a pod made again under that name has a log of its own', async () => {
    await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('again', 'example.com/first:1'));
    await running('again');
    const stream = await follow(`/api/v1/namespaces/${NS}/pods/again/log?follow=true`);
    await expect.poll(() => stream.lines).toEqual(['starting example.com/first:1', 'main ready to serve']);
    let ended = false;
    void stream.ended.then(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ended).toBe(false);
    await sim.kube.delete(`/api/v1/namespaces/${NS}/pods/again`);
    await expect.poll(() => ended, { timeout: 20_000 }).toBe(true);
    await expect.poll(() => sim.kube.get(`/api/v1/namespaces/${NS}/pods/again`), { timeout: 20_000 }).toBeUndefined();
    // The endpoint heard of the deletion from the real server's watch and dropped that pod's
    // log, as the kubelet removes a pod's log directory; without that the old lines would
    // come first. (A moment for the watch, which the real kubelet never needs to wait for.)
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('again', 'example.com/second:1'));
    await running('again');
    await expect.poll(() => kube.logs(NS, 'again', 'main')).toBe('starting example.com/second:1\nmain ready to serve\n');
  }, 60_000);
});

describe('pods/portforward through kube-apiserver and the simulated kubelet', () => {
  it("relays a connection to the pod's port through the kubelet endpoint", async () => {
    await sim.kube.create(`/api/v1/namespaces/${NS}/pods`, pod('forwarded', 'example.com/web:1', 'Always', [8080]));
    await running('forwarded');
    const port = (backend.address() as { port: number }).port;
    const reg = await fetch(`${sim.url}/_sim/portforward-targets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: NS, pod: 'forwarded', port: 8080, host: '127.0.0.1', targetPort: port }),
    });
    expect(reg.status).toBe(201);
    await using pf = await kube.portForward({ namespace: NS, pod: 'forwarded', port: 8080 });
    expect(await (await fetch(pf.url('http', '/ui'))).text()).toBe('hello from the pod, you asked for /ui');
    expect(served()).toContain(`UPGRADE /portForward/${NS}/forwarded`);
  });
});

describe('the kubelet endpoint', () => {
  it('refuses a client whose certificate its CA did not sign', async () => {
    const [host, port] = sim.kubelet!.address.split(':');
    const attempt = (opts: object): Promise<string> =>
      new Promise((resolve) => {
        const req = httpsRequest({ host, port: Number(port), path: `/containerLogs/${NS}/talker/main`, ca: certs.tls.clientCa, ...opts }, (res) => resolve(`HTTP ${res.statusCode}`));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end();
      });
    // No certificate, and the admin's (signed by the control plane's CA, not the kubelets').
    expect(await attempt({})).not.toMatch(/^HTTP/);
    expect(await attempt({ cert: await readFile(plane.certs.adminCert), key: await readFile(plane.certs.adminKey) })).not.toMatch(/^HTTP/);
  });

  it('asks kube-apiserver whether a client may use the node, as a kubelet in Webhook mode does', async () => {
    const [host, port] = sim.kubelet!.address.split(':');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host, port: Number(port), path: `/containerLogs/${NS}/talker/main`, ca: certs.tls.clientCa, ...certs.stranger }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    // Its certificate is good, but RBAC gives `stranger` nothing.
    expect(answer).toEqual({ status: 403, body: 'Forbidden (user=stranger, verb=get, resource=nodes, subresource(s)=[proxy])\n' });
  });
});
