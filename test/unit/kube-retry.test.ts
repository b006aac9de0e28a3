// Transient API failures are retried inside the layer; client errors are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../scripts/lib/kube/connect.ts';
import { KubeApiError } from '../../scripts/lib/kube/kube.ts';
import { namespace, simKube, type SimKube } from './kube-fixture.ts';

const NS = 'retry';
let s: SimKube;
beforeAll(async () => {
  s = await simKube({ counting: true });
  await s.kube.apply([namespace(NS), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: NS }, data: { a: '1' } }]);
});
afterAll(() => s?.close());

const cmPath = `/api/v1/namespaces/${NS}/configmaps/cm`;
const hits = (method: string, path: string): number => s.requests.filter((r) => r === `${method} ${path}`).length;

describe('retries', () => {
  it('retries HTTP 500s and succeeds', async () => {
    await s.sim('PUT', '/_sim/faults', { api500: { count: 3, pathRegex: '/configmaps/cm$', methods: ['GET'] } });
    const before = hits('GET', cmPath);
    const cm = await s.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: NS });
    expect(cm?.data).toEqual({ a: '1' });
    expect(hits('GET', cmPath) - before).toBe(4); // three 500s, then the answer
  });

  it('retries a failing server-side apply too', async () => {
    await s.sim('PUT', '/_sim/faults', { api500: { count: 2, pathRegex: '/configmaps/cm\\?', methods: ['PATCH'] } });
    const before = hits('PATCH', `${cmPath}?fieldManager=sandbox&fieldValidation=Strict`);
    const [cm] = await s.kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: NS }, data: { a: '2' } }]);
    expect(cm.data).toEqual({ a: '2' });
    expect(hits('PATCH', `${cmPath}?fieldManager=sandbox&fieldValidation=Strict`) - before).toBe(3);
  });

  it('does not retry a 4xx, and surfaces it with the API message', async () => {
    await s.sim('PUT', '/_sim/faults', {});
    const path = `/api/v1/namespaces/${NS}/configmaps/absent`;
    const err = await s.kube.patchMerge({ apiVersion: 'v1', kind: 'ConfigMap', name: 'absent', namespace: NS }, { data: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(404);
    expect((err as KubeApiError).cause).toBeInstanceOf(Error);
    expect(hits('PATCH', `${path}?fieldManager=sandbox`)).toBe(1);
  });

  it('gives up on a server that keeps failing, with a hint', async () => {
    const impatient = await connectKube({ kubeconfig: s.kubeconfig, retry: { retries: 2, minTimeoutMs: 10 } });
    await s.sim('PUT', '/_sim/faults', { api500: { count: 100, pathRegex: '/configmaps/cm$', methods: ['GET'] } });
    const before = hits('GET', cmPath);
    const err = await impatient.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: NS }).catch((e: unknown) => e);
    await s.sim('PUT', '/_sim/faults', {});
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(500);
    expect((err as KubeApiError).message).toMatch(/^get ConfigMap retry\/cm: /);
    expect((err as KubeApiError).hint).toMatch(/API server kept failing/);
    expect(hits('GET', cmPath) - before).toBe(3);
  });
});
