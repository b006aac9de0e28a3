// `status` shows the job's lifecycle once a FlinkDeployment runs; `open` port-forwards a UI
// on 127.0.0.1 and a random port and tells how to log in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOpen } from '../helpers/cli.ts';
import { startHttp, type LocalHttp } from '../helpers/http.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
let console: LocalHttp;
beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 120_000 });
  expect(up.code, up.stderr).toBe(0);
  // Stands in for the MinIO console inside the pod: the port-forward's far end.
  console = await startHttp((_, res) => res.end('minio console'));
}, 150_000);
afterAll(async () => {
  await console?.close();
  await sim?.close();
});

it('status reports the job lifecycle and state of a running FlinkDeployment', async () => {
  const cm = await sim.kube.get('/api/v1/namespaces/default/configmaps/flink-sandbox');
  const fd = parse(readFileSync(join(REPO_ROOT, 'manifests', 'flink', 'hello-ha.yaml'), 'utf8')) as Record<string, any>;
  fd.spec.image = (cm!.data as Record<string, string>).jobImage;
  await sim.kube.create('/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments', fd);
  await sim.kube.waitFor<Record<string, any>>(
    '/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments/hello-ha',
    (o) => o.status?.lifecycleState === 'STABLE',
    60_000,
  );
  const status = await runCli(['status', '--json'], { env: sim.env });
  const report = JSON.parse(status.stdout) as { jobs: Array<Record<string, string>> };
  expect(report.jobs).toEqual([expect.objectContaining({ name: 'hello-ha', lifecycleState: 'STABLE', jobState: 'RUNNING', jobManager: 'READY' })]);
  const text = await runCli(['status'], { env: sim.env });
  expect(text.stdout).toMatch(/hello-ha\s+STABLE\s+RUNNING\s+READY/);
}, 90_000);

it('open minio forwards 127.0.0.1:<random> to the console and prints the generated login', async () => {
  const [pod] = await sim.kube.list('/api/v1/namespaces/minio/pods', { labelSelector: 'app.kubernetes.io/name=minio' });
  expect(pod).toBeDefined();
  await fetch(`${sim.url}/_sim/portforward-targets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sim-actor': 'test' },
    body: JSON.stringify({ namespace: 'minio', pod: pod!.metadata.name, port: 9001, host: '127.0.0.1', targetPort: console.port }),
  });
  let body = '';
  const res = await runOpen('minio', sim.env, async (out) => {
    const info = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { url: string };
    body = await (await fetch(info.url)).text();
  });
  const info = JSON.parse(res.stdout) as { url: string; user: string; password: string };
  expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(body).toBe('minio console');
  const secret = await sim.kube.get('/api/v1/namespaces/minio/secrets/minio-credentials');
  expect(info.user).toBe(Buffer.from((secret!.data as Record<string, string>).accessKey!, 'base64').toString());
  expect(info.password).toBe(Buffer.from((secret!.data as Record<string, string>).secretKey!, 'base64').toString());
  expect(res.code).toBe(0);
}, 60_000);

it('open refuses an unknown UI with the list, and a UI that is not installed with the fix', async () => {
  const bad = await runCli(['open', 'grafana'], { env: sim.env });
  expect(bad.code).toBe(64);
  expect(bad.stderr).toContain('use one of: kibana, minio, flink, heimdall');
  const missing = await runCli(['open', 'kibana'], { env: sim.env });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('kibana is not installed');
  expect(missing.stderr).toContain('sandbox up');
});
