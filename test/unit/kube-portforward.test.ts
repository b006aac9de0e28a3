// Port-forward through the fake API server's websocket endpoint to a local HTTP server that
// stands in for the pod.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespace, pod, podStatus, running, simKube, type SimKube } from './kube-fixture.ts';

const NS = 'pf';
let s: SimKube;
let backend: Server;
let backendPort: number;

beforeAll(async () => {
  s = await simKube();
  backend = createServer((req, res) => res.end(`hello from the pod, you asked for ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as { port: number }).port;
  await s.kube.apply([
    namespace(NS),
    pod(NS, 'web-1', ['web'], { app: 'web' }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  ]);
  await podStatus(s.kube, NS, 'web-1', running('web'));
  await s.sim('POST', '/_sim/portforward-targets', { namespace: NS, pod: 'web-1', port: 8080, host: '127.0.0.1', targetPort: backendPort });
});
afterAll(async () => {
  await s?.close();
  await new Promise((r) => backend?.close(r));
});

describe('portForward', () => {
  it('relays HTTP to the pod from a random port on 127.0.0.1, and closes on dispose', async () => {
    let url: string;
    {
      await using pf = await s.kube.portForward({ namespace: NS, pod: 'web-1', port: 8080 });
      expect(pf.localPort).toBeGreaterThan(0);
      expect(pf.localPort).not.toBe(8080);
      url = pf.url('http', '/ui');
      expect(url).toBe(`http://127.0.0.1:${pf.localPort}/ui`);
      const res = await fetch(url);
      expect(await res.text()).toBe('hello from the pod, you asked for /ui');
      // A second connection through the same forward.
      expect(await (await fetch(pf.url('http', 'again'))).text()).toBe('hello from the pod, you asked for /again');
    }
    await expect(fetch(url)).rejects.toThrow();
  });

  it('gives each forward its own port', async () => {
    const a = await s.kube.portForward({ namespace: NS, pod: 'web-1', port: 8080 });
    const b = await s.kube.portForward({ namespace: NS, pod: 'web-1', port: 8080 });
    try {
      expect(a.localPort).not.toBe(b.localPort);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('forwards to a Service through a ready pod and its target port', async () => {
    const pf = await s.kube.portForward({ namespace: NS, service: 'web', port: 80 });
    try {
      expect(await (await fetch(pf.url())).text()).toBe('hello from the pod, you asked for /');
    } finally {
      await pf.close();
    }
  });

  it('refuses a Service with no ready pod, and an unknown port', async () => {
    await podStatus(s.kube, NS, 'web-1', running('web', 0, false));
    await expect(s.kube.portForward({ namespace: NS, service: 'web', port: 80 })).rejects.toThrow('no ready pod behind Service pf/web (1 pod(s) match app=web)');
    await expect(s.kube.portForward({ namespace: NS, service: 'web', port: 443 })).rejects.toThrow('Service pf/web has no port 443 (it has 80)');
    await podStatus(s.kube, NS, 'web-1', running('web'));
  });
});
