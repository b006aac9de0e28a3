// The test control plane itself: it starts in seconds from the cached binaries, only answers
// over TLS to a client certificate its CA signed, hands out a kubeconfig the CLI's own
// Kubernetes layer connects with, and leaves no process or directory behind when stopped.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectKube } from '../../../scripts/lib/kube/connect.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { alive } from '../../helpers/process.ts';

/** GET without a client certificate, trusting the control plane's CA. */
function anonymousGet(plane: ControlPlane, path: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${plane.server}${path}`, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the test control plane', () => {
  const bins = inject('controlPlaneBinaries');
  let plane: ControlPlane;

  beforeAll(async () => {
    plane = await startControlPlane(bins);
  });
  afterAll(async () => plane?.stop());

  it('is ready within seconds, on loopback', () => {
    expect(plane.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Typically 3-6 s; the bound leaves room for two cores shared with other work.
    expect(plane.startupMs).toBeLessThan(30_000);
  });

  it('serves only clients with a certificate from its CA', async () => {
    const ca = await readFile(plane.certs.caCert, 'utf8');
    // Without a certificate the request is anonymous, and anonymous requests are refused
    // everything but the health endpoints.
    expect(await anonymousGet(plane, '/api/v1/namespaces', ca)).toBe(403);
    // Without the CA, the serving certificate is not trusted at all.
    await expect(anonymousGet(plane, '/readyz')).rejects.toThrow(/self-signed|unable to verify|issuer/i);
    expect((await plane.get('/api/v1/namespaces')).status).toBe(200);
  });

  it('hands out a kubeconfig the CLI connects with', async () => {
    const kube = await connectKube({ kubeconfig: plane.kubeconfig });
    expect(kube.context).toBe(plane.context);
    expect(kube.server).toBe(plane.server);
    const namespaces = (await kube.list('v1', 'Namespace')).map((n) => n.metadata.name);
    expect(namespaces).toEqual(expect.arrayContaining(['default', 'kube-system']));
  });

  it('stops its processes by pid and removes its directory', async () => {
    const other = await startControlPlane(bins);
    const pids = [other.pids.etcd, other.pids.apiserver];
    expect(pids.every(alive)).toBe(true);
    await other.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(other.dir)).toBe(false);
  });

  it('runs the controller manager when asked: a deleted namespace goes away', async () => {
    await using withControllers = await startControlPlane(bins, { controllerManager: true });
    expect(alive(withControllers.pids.controllerManager!)).toBe(true);
    const kube = await connectKube({ kubeconfig: withControllers.kubeconfig });
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'short-lived' } }]);
    // Namespace deletion is the namespace controller's work (it empties it and removes the
    // finalizer); without a controller manager the namespace stays Terminating forever.
    expect(await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'short-lived' }, { wait: true, timeoutMs: 60_000 })).toBe(true);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'short-lived' })).toBeUndefined();
  });
});
