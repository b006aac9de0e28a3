// `down --context`: removes only what the sandbox installed into a cluster it did not
// create, leaves the user's own objects and the cluster itself, and a second run is a no-op.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
const context = ['--context', 'kind-flink-sandbox'];
const jobImage = ['--job-image', 'registry.example/hello-job:1'];

beforeAll(async () => {
  sim = await startSim();
  // A cluster the user already has (made here with kind), then the sandbox installed into it.
  const cluster = await runCli(['up', '--only', 'preflight,cluster'], { env: sim.env, timeoutMs: 60_000 });
  expect(cluster.code, cluster.stderr).toBe(0);
  await sim.kube.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'users-own' }, data: { a: 'b' } });
  const up = await runCli(['up', ...context, ...jobImage, '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 120_000 });
  expect(up.code, up.stderr).toBe(0);
}, 200_000);
afterAll(async () => {
  await sim?.close();
});

it('removes the releases, objects and namespaces the sandbox installed, and nothing else', async () => {
  const down = await runCli(['down', ...context, '--config', sim.configFile, '--json'], { env: sim.env, timeoutMs: 120_000 });
  expect(down.code, down.stderr).toBe(0);
  const report = JSON.parse(down.stdout) as { deleted: string[]; note: string };
  expect(report.deleted).toEqual(
    expect.arrayContaining(['helm release cert-manager/cert-manager', 'helm release flink-operator/flink-kubernetes-operator', 'Namespace minio']),
  );
  expect(report.note).toMatch(/CRDs .* were kept/);
  expect(await sim.kube.get('/api/v1/namespaces/minio')).toBeUndefined();
  expect(await sim.kube.get('/api/v1/namespaces/default/secrets/minio-credentials')).toBeUndefined();
  expect(await sim.kube.get('/api/v1/namespaces/default/serviceaccounts/flink')).toBeUndefined();
  // The user's own things and the cluster stay.
  expect(await sim.kube.get('/api/v1/namespaces/default/configmaps/users-own')).toBeDefined();
  expect(await sim.kube.get('/api/v1/namespaces/default')).toBeDefined();
  expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'delete')).toEqual([]);

  const again = await runCli(['down', ...context, '--config', sim.configFile], { env: sim.env, timeoutMs: 60_000 });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain("nothing of the sandbox's left in kind-flink-sandbox");
}, 200_000);

it('up --context without --job-image is refused before anything is installed', async () => {
  const res = await runCli(['up', '--context', 'kind-flink-sandbox'], { env: sim.env });
  expect(res.code).toBe(64);
  expect(res.stderr).toContain('pass --job-image <ref>');
});
