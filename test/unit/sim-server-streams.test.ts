// Pod logs and port-forward of the fake API server, through client-node's Log and
// PortForward: logs per container attempt with follow, previous, tailLines, timestamps and
// limitBytes; port-forward relaying bytes over the v4.channel.k8s.io WebSocket protocol.
import { createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { Log, PortForward } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kubeConfigFor } from '../sim/api/test-client.ts';
import { type SimServer, startSimServer } from '../sim/api/server.ts';

let sim: SimServer;
let log: Log;
let pf: PortForward;

async function pod(name: string, containers: string[], running = true): Promise<void> {
  await call(sim.url, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name }, spec: { containers: containers.map((c) => ({ name: c, image: `${c}:1` })) } } });
  await call(sim.url, 'POST', `/api/v1/namespaces/default/pods/${name}/binding`, { actor: 'scheduler', body: { target: { kind: 'Node', name: 'worker' } } });
  if (running) await status(name, containers[0], 0, { running: { startedAt: new Date().toISOString() } });
}

async function status(name: string, container: string, restartCount: number, state: object): Promise<void> {
  const r = await call(sim.url, 'PATCH', `/api/v1/namespaces/default/pods/${name}/status`, {
    actor: 'kubelet',
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Running', containerStatuses: [{ name: container, restartCount, state, ready: true, image: 'x', imageID: '', started: true }] } },
  });
  expect(r.status).toBe(200);
}

async function write(name: string, container: string, attempt: number, lines: string[], terminated = false): Promise<void> {
  const r = await call(sim.url, 'POST', '/_sim/logs', { actor: 'kubelet', body: { namespace: 'default', pod: name, container, attempt, lines, terminated } });
  expect(r.status).toBe(200);
}

async function logs(query: string): Promise<{ status: number; text: string; body: any }> {
  const r = await call(sim.url, 'GET', `/api/v1/namespaces/default/pods/${query}`);
  return { status: r.status, text: typeof r.body === 'string' ? r.body : '', body: r.body };
}

beforeAll(async () => {
  sim = await startSimServer();
  const kc = kubeConfigFor(sim.url);
  log = new Log(kc);
  pf = new PortForward(kc, true);
});
afterAll(async () => {
  await sim.close();
});

describe('pod logs', () => {
  it('reads the current attempt with tailLines, timestamps and limitBytes', async () => {
    await pod('app', ['main']);
    await write('app', 'main', 0, ['one', 'two', 'three']);
    expect((await logs('app/log')).text).toBe('one\ntwo\nthree\n');
    expect((await logs('app/log?tailLines=2')).text).toBe('two\nthree\n');
    expect((await logs('app/log?limitBytes=6')).text).toBe('one\ntw');
    expect((await logs('app/log?timestamps=true')).text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n/);
    expect((await logs('app/log?sinceSeconds=60')).text).toBe('one\ntwo\nthree\n');
    expect((await logs('nope/log')).status).toBe(404);
  });

  it('follows new lines through client-node Log and ends when the attempt terminates', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ended = new Promise((r) => out.on('end', r));
    await log.log('default', 'app', 'main', out, { follow: true, tailLines: 1 });
    await write('app', 'main', 0, ['four']);
    await write('app', 'main', 0, ['five'], true);
    await ended;
    expect(text).toBe('three\nfour\nfive\n');
  });

  it('serves the previous attempt after a restart, and refuses it when there is none', async () => {
    expect((await logs('app/log?previous=true')).body).toMatchObject({ code: 400, message: 'previous terminated container "main" in pod "app" not found' });
    await status('app', 'main', 1, { running: { startedAt: new Date().toISOString() } });
    await write('app', 'main', 1, ['again']);
    expect((await logs('app/log')).text).toBe('again\n');
    expect((await logs('app/log?previous=true')).text).toBe('one\ntwo\nthree\nfour\nfive\n');
  });

  it('ends a follow stream when the container restarts, even without a termination mark', async () => {
    await pod('crashy', ['main']);
    await write('crashy', 'main', 0, ['first life']);
    const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/crashy/log?follow=true`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first life\n');
    await status('crashy', 'main', 1, { waiting: { reason: 'CrashLoopBackOff' } });
    expect((await reader.read()).done).toBe(true);
    // Without a last terminated run on record there is nothing to serve.
    expect((await logs('crashy/log')).body.message).toBe('container "main" in pod "crashy" is waiting to start: CrashLoopBackOff');
    expect((await logs('crashy/log?previous=true')).text).toBe('first life\n');
    // With one (as the kubelet reports it), the kubelet serves that run while the next waits.
    const r = await call(sim.url, 'PATCH', '/api/v1/namespaces/default/pods/crashy/status', {
      actor: 'kubelet',
      contentType: 'application/merge-patch+json',
      body: { status: { containerStatuses: [{ name: 'main', restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } }, ready: false, image: 'x', imageID: '' }] } },
    });
    expect(r.status).toBe(200);
    expect((await logs('crashy/log')).text).toBe('first life\n');
    expect((await logs('crashy/log?follow=true')).text).toBe('first life\n');
  });

  it('names the containers when the pod has several, and refuses waiting or unknown containers', async () => {
    await pod('multi', ['a', 'b']);
    const r = await logs('multi/log');
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('a container name must be specified for pod multi, choose one of: [a b]');
    expect((await logs('multi/log?container=zz')).body.message).toBe('container zz is not valid for pod multi');
    expect((await logs('multi/log?container=b')).body.message).toBe('container "b" in pod "multi" is waiting to start: ContainerCreating');
    await call(sim.url, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'c', image: 'c:1' }] } } });
    // On no node yet: 204 and no body, as kube-apiserver answers (it has no kubelet to ask).
    expect(await logs('unscheduled/log')).toMatchObject({ status: 204, text: '' });
    expect(await logs('unscheduled/log?follow=true')).toMatchObject({ status: 204, text: '' });
  });

  it('ends a follow stream when the pod is deleted', async () => {
    await pod('doomed', ['main']);
    await write('doomed', 'main', 0, ['hello']);
    const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/doomed/log?follow=true`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('hello\n');
    await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/doomed');
    expect((await reader.read()).done).toBe(true);
  });

  it("keeps a pod's log by its uid: a late write of a deleted pod is not the log of the next pod of that name", async () => {
    await pod('reused', ['main']);
    const first = (await call(sim.url, 'GET', '/api/v1/namespaces/default/pods/reused')).body.metadata.uid as string;
    await write('reused', 'main', 0, ['old one']);
    await call(sim.url, 'DELETE', '/api/v1/namespaces/default/pods/reused');
    // The old pod's kubelet ends its log after the pod is gone (a Flink TaskManager's last lines, then the end mark).
    const late = await call(sim.url, 'POST', '/_sim/logs', { actor: 'kubelet', body: { namespace: 'default', pod: 'reused', uid: first, container: 'main', attempt: 0, lines: ['old last'], terminated: true } });
    expect(late.status).toBe(200);
    await pod('reused', ['main']);
    const second = (await call(sim.url, 'GET', '/api/v1/namespaces/default/pods/reused')).body.metadata.uid as string;
    expect(second).not.toBe(first);
    expect((await logs('reused/log')).text).toBe('');
    // A follow of the new pod is not ended by the old pod's end mark: it gets the new lines.
    const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/reused/log?follow=true`);
    const reader = res.body!.getReader();
    await write('reused', 'main', 0, ['new one']);
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('new one\n');
    await reader.cancel();
  });
});

describe('port-forward', () => {
  let echo: Server;
  let echoPort = 0;
  beforeAll(async () => {
    echo = createServer((s) => s.on('data', (d) => s.write(`echo:${d.toString()}`)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
    await pod('web', ['main']);
  });
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  it('relays bytes between client-node PortForward and the registered TCP target', async () => {
    await call(sim.url, 'POST', '/_sim/portforward-targets', { actor: 'kubelet', body: { namespace: 'default', pod: 'web', port: 8080, host: '127.0.0.1', targetPort: echoPort } });
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    let got = '';
    output.on('data', (c: Buffer) => (got += c.toString()));
    const ws = (await pf.portForward('default', 'web', [8080], output, errors, input)) as { protocol: string; close(): void };
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    input.write('ping');
    const end = Date.now() + 2000;
    while (got !== 'echo:ping' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(got).toBe('echo:ping');
    ws.close();
  });

  it('opens each channel with the port as 2 bytes little-endian, on the v4 binary protocol', async () => {
    const frames: Buffer[] = [];
    const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/api/v1/namespaces/default/pods/web/portforward?ports=8080`, ['v4.channel.k8s.io']);
    ws.on('message', (d: Buffer) => frames.push(d));
    await new Promise((r) => ws.once('open', r));
    const end = Date.now() + 2000;
    while (frames.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    expect(frames.slice(0, 2).map((f) => [...f])).toEqual([[0, 0x90, 0x1f], [1, 0x90, 0x1f]]);
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('raw')]));
    while (frames.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(frames[2][0]).toBe(0);
    expect(frames[2].subarray(1).toString()).toBe('echo:raw');
    ws.close();
  });

  it('reports a port without a listener on the error channel, like the kubelet', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    let err = '';
    errors.on('data', (c: Buffer) => (err += c.toString()));
    await pf.portForward('default', 'web', [9999], output, errors, input);
    const end = Date.now() + 2000;
    while (!err && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(err).toMatch(/^error forwarding port 9999 to pod web_default, uid [0-9a-f-]+: unable to do port forwarding: dial tcp 127\.0\.0\.1:9999: connect: connection refused$/);
  });

  it('refuses to forward to a missing pod', async () => {
    const err = await pf.portForward('default', 'ghost', [80], new PassThrough(), new PassThrough(), new PassThrough()).catch((e: unknown) => e);
    expect(err).toBeTruthy();
    expect(String((err as { message?: string }).message ?? err)).toMatch(/404|Unexpected server response/);
  });
});
