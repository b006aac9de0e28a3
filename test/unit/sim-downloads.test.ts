// The harness's download server (ECK's crds.yaml/operator.yaml, ingress-nginx's kind
// deploy.yaml): the manifests parse, apply through the API with the CLI's own server-side
// apply, and turn into ready workloads; the fault knob makes the server fail; the config file
// points the CLI at it. Also the kind cluster shape these manifests need: the worker carries
// ingress-ready=true from kind-config.yaml, and `kind load --nodes` loads only where asked.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../scripts/lib/config.ts';
import { connectKube } from '../../scripts/lib/kube/connect.ts';
import { parseManifests, type Kube, type KubeObject } from '../../scripts/lib/kube/kube.ts';
import { eckUrls } from '../../scripts/steps/eck.ts';
import { ingressNginxUrl } from '../../scripts/steps/ui.ts';
import { crdFixtureFile } from '../fixtures/crds/location.ts';
import type { KubeObject as SimObject } from '../sim/api-client.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { SIM_TIME_SCALE } from '../sim/time-scale.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let sim: Sim;
let kube: Kube;

beforeAll(async () => {
  sim = await startSim({ faults: { webhookWarmupMs: 400 } });
  const r = await sim.tool('kind', ['create', 'cluster', '--name', 'dl', '--config', join(ROOT, 'kind-config.yaml')]);
  expect(r.code, r.stderr).toBe(0);
  kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG, context: 'kind-dl' });
});

afterAll(async () => {
  await sim?.close();
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sim.downloadsUrl}${path}`);
  return { status: res.status, text: await res.text() };
}

function images(node: SimObject | undefined): string[] {
  return ((node?.status?.images ?? []) as { names: string[] }[]).flatMap((i) => i.names);
}

/** Dry-run creates until accepted; resolves with the refusals seen first. */
async function refusalsUntilAccepted(obj: KubeObject, timeoutMs = 15_000): Promise<string[]> {
  const refusals: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await kube.createDryRun(obj);
      return refusals;
    } catch (err) {
      refusals.push(err instanceof Error ? err.message : String(err));
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('kind cluster from kind-config.yaml', () => {
  it('labels the worker ingress-ready=true, and `kind load --nodes` loads only onto the nodes named', async () => {
    const [cp, worker] = await Promise.all([sim.kube.get('/api/v1/nodes/dl-control-plane'), sim.kube.get('/api/v1/nodes/dl-worker')]);
    expect(worker!.metadata.labels).toMatchObject({ 'ingress-ready': 'true' });
    expect(cp!.metadata.labels?.['ingress-ready']).toBeUndefined();

    const built = { id: `sha256:${'ab'.repeat(32)}`, created: new Date().toISOString(), sizeBytes: 123_456 };
    await sim.patchFaults({ dockerImages: { 'docker.io/flink-sandbox/hello-job:t1': built, 'docker.io/flink-sandbox/hello-job:t2': built } });
    const one = await sim.tool('kind', ['load', 'docker-image', 'flink-sandbox/hello-job:t1', '--name', 'dl', '--nodes', 'dl-worker']);
    expect(one.code, one.stderr).toBe(0);
    expect(images(await sim.kube.get('/api/v1/nodes/dl-worker'))).toContain('docker.io/flink-sandbox/hello-job:t1');
    expect(images(await sim.kube.get('/api/v1/nodes/dl-control-plane'))).not.toContain('docker.io/flink-sandbox/hello-job:t1');
    const both = await sim.tool('kind', ['load', 'docker-image', 'flink-sandbox/hello-job:t2', '--name', 'dl', '--nodes', 'dl-worker,dl-control-plane']);
    expect(both.stderr).toContain('not yet present on node "dl-control-plane"');
    for (const n of ['dl-worker', 'dl-control-plane']) expect(images(await sim.kube.get(`/api/v1/nodes/${n}`))).toContain('docker.io/flink-sandbox/hello-job:t2');
  });
});

describe('download server', () => {
  it('serves the real ECK CRDs, a parseable operator.yaml and deploy.yaml, and 404 for anything else', async () => {
    const [crds, operator, ingress, missing, otherVersion] = await Promise.all([
      get('/eck/3.5.0/crds.yaml'),
      get('/eck/3.5.0/operator.yaml'),
      get('/ingress-nginx/controller-v1.15.1/deploy.yaml'),
      get('/eck/3.5.0/nothing.yaml'),
      get('/eck/9.9.9/crds.yaml'),
    ]);
    expect(crds.text).toBe(readFileSync(crdFixtureFile('eck-all-crds.yaml'), 'utf8'));
    expect(parseManifests(crds.text).every((o) => o.kind === 'CustomResourceDefinition')).toBe(true);
    const kinds = (text: string): string[] => parseManifests(text).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds(operator.text)).toEqual(expect.arrayContaining([
      'Namespace/elastic-system', 'ServiceAccount/elastic-operator', 'ConfigMap/elastic-operator', 'ClusterRole/elastic-operator',
      'ClusterRoleBinding/elastic-operator', 'Service/elastic-webhook-server', 'StatefulSet/elastic-operator',
      'ValidatingWebhookConfiguration/elastic-webhook.k8s.elastic.co',
    ]));
    expect(kinds(ingress.text)).toEqual(expect.arrayContaining([
      'Namespace/ingress-nginx', 'ServiceAccount/ingress-nginx', 'ConfigMap/ingress-nginx-controller', 'Service/ingress-nginx-controller',
      'Service/ingress-nginx-controller-admission', 'Deployment/ingress-nginx-controller', 'Job/ingress-nginx-admission-create',
      'Job/ingress-nginx-admission-patch', 'IngressClass/nginx', 'ValidatingWebhookConfiguration/ingress-nginx-admission',
    ]));
    expect([missing.status, otherVersion.status]).toEqual([404, 404]);
  });

  it('answers the status of the `downloads` knob, or drops connections, as many times as asked', async () => {
    await sim.patchFaults({ downloads: { status: 500, count: 1 } });
    expect((await get('/eck/3.5.0/operator.yaml')).status).toBe(500);
    expect((await get('/eck/3.5.0/operator.yaml')).status).toBe(200);
    await sim.patchFaults({ downloads: { down: true, pathRegex: '^/ingress-nginx/' } });
    await expect(fetch(`${sim.downloadsUrl}/ingress-nginx/controller-v1.15.1/deploy.yaml`)).rejects.toThrow(/fetch failed/);
    expect((await get('/eck/3.5.0/crds.yaml')).status).toBe(200);
    await sim.patchFaults({ downloads: null });
    expect(sim.downloadRequests().slice(-4)).toEqual([
      'GET /eck/3.5.0/operator.yaml -> 500',
      'GET /eck/3.5.0/operator.yaml -> 200',
      'GET /ingress-nginx/controller-v1.15.1/deploy.yaml -> dropped',
      'GET /eck/3.5.0/crds.yaml -> 200',
    ]);
  });

  it('writes a config file that sends the CLI\'s ECK and ingress-nginx downloads to it, and scales the scenarios\' clocks', async () => {
    expect(parse(readFileSync(sim.configFile, 'utf8'))).toEqual({
      components: { eck: { baseUrl: `${sim.downloadsUrl}/eck/{version}` }, ingressNginx: { manifestUrl: `${sim.downloadsUrl}/ingress-nginx/{version}/deploy.yaml` } },
      scenarios: { settleSeconds: 5 * SIM_TIME_SCALE, livenessSeconds: 15 },
    });
    const cfg = await loadConfig({ config: sim.configFile });
    expect(eckUrls(cfg)).toEqual([`${sim.downloadsUrl}/eck/3.5.0/crds.yaml`, `${sim.downloadsUrl}/eck/3.5.0/operator.yaml`]);
    expect(ingressNginxUrl(cfg)).toBe(`${sim.downloadsUrl}/ingress-nginx/controller-v1.15.1/deploy.yaml`);
    for (const url of [...eckUrls(cfg), ingressNginxUrl(cfg)]) expect((await fetch(url)).status).toBe(200);
  });
});

describe('applying the served manifests', () => {
  it('ECK: the CRDs and operator apply server-side and the operator StatefulSet becomes ready', async () => {
    const cfg = await loadConfig({ config: sim.configFile });
    for (const url of eckUrls(cfg)) await kube.apply(parseManifests(await (await fetch(url)).text()));
    const sts = await sim.kube.waitFor('/apis/apps/v1/namespaces/elastic-system/statefulsets/elastic-operator', (s) => s.status?.readyReplicas === 1);
    expect(sts.spec.template.spec.containers[0]).toMatchObject({ name: 'manager', image: 'docker.elastic.co/eck/eck-operator:3.5.0', args: ['manager', '--config=/conf/eck.yaml'] });
    const crd = await sim.kube.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/elasticsearches.elasticsearch.k8s.elastic.co');
    expect(crd!.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    const hooks = (await sim.kube.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/elastic-webhook.k8s.elastic.co'))!.webhooks as { name: string; failurePolicy: string; clientConfig: { service: { name: string } } }[];
    expect(hooks.map((h) => h.name)).toEqual(expect.arrayContaining(['elastic-es-validation-v1.k8s.elastic.co', 'elastic-kb-validation-v1.k8s.elastic.co']));
    expect(hooks.every((h) => h.failurePolicy === 'Ignore' && h.clientConfig.service.name === 'elastic-webhook-server')).toBe(true);
    const logs = await kube.logs('elastic-system', 'elastic-operator-0', 'manager');
    expect(JSON.parse(logs.split('\n')[0]!)).toMatchObject({ 'log.level': 'info', 'service.type': 'eck' });
  });

  it('ingress-nginx: the admission Jobs run, the controller lands on the ingress-ready worker, and its webhook accepts Ingresses once Ready', async () => {
    const cfg = await loadConfig({ config: sim.configFile });
    await kube.apply(parseManifests(await (await fetch(ingressNginxUrl(cfg))).text()));
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'probe', namespace: 'ingress-nginx' },
      spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/probe', pathType: 'Prefix', backend: { service: { name: 'probe', port: { number: 80 } } } }] } }] },
    };
    const refusals = await refusalsUntilAccepted(ingress);
    expect(refusals[0]).toContain('failed calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s"');

    const [pod] = await sim.kube.list('/api/v1/namespaces/ingress-nginx/pods', { labelSelector: 'app.kubernetes.io/component=controller' });
    expect(pod!.spec.nodeName).toBe('dl-worker');
    expect(pod!.spec.containers[0].ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'http', hostPort: 80 }), expect.objectContaining({ name: 'https', hostPort: 443 })]));
    for (const job of ['ingress-nginx-admission-create', 'ingress-nginx-admission-patch']) {
      await sim.kube.waitFor(`/apis/batch/v1/namespaces/ingress-nginx/jobs/${job}`, (j) => j.status?.succeeded === 1);
    }
    const secret = await sim.kube.get('/api/v1/namespaces/ingress-nginx/secrets/ingress-nginx-admission');
    expect(Object.keys(secret!.data as object).sort()).toEqual(['ca', 'cert', 'key']);
    const hook = await sim.kube.waitFor('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ingress-nginx-admission', (c) => !!(c.webhooks as { clientConfig: { caBundle?: string } }[] | undefined)?.[0]?.clientConfig.caBundle);
    expect((hook.webhooks as { clientConfig: { caBundle: string } }[])[0]!.clientConfig.caBundle).toBe((secret!.data as { ca: string }).ca);
    expect(await sim.kube.get('/apis/networking.k8s.io/v1/ingressclasses/nginx')).toMatchObject({ spec: { controller: 'k8s.io/ingress-nginx' } });
  });
});
