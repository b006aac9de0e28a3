// The chart recipes of the fake helm: cert-manager, the Flink Kubernetes Operator and the
// logging operator install what their real charts install (names, labels, images, webhooks,
// RBAC), `helm show crds` prints the real CRDs, the Flink job account exists only where the
// chart puts it, webhooks refuse dry-run creates until their pod is Ready, and the Flink
// chart's source can "move" from downloads.apache.org to archive.apache.org.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../sim/api-client.ts';
import { flinkOperator } from '../sim/flink/chart.ts';
import { crdFixtureDir } from '../fixtures/crds/location.ts';
import { startSim, type Sim } from '../sim/harness.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JETSTACK = 'https://charts.jetstack.io';
const DOWNLOADS = 'https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/';
const ARCHIVE = 'https://archive.apache.org/dist/flink/flink-kubernetes-operator-1.15.0/';
const LOGGING = 'oci://ghcr.io/kube-logging/helm-charts/logging-operator';
const WARMUP_MS = 600;

let sim: Sim;

beforeAll(async () => {
  sim = await startSim({ faults: { webhookWarmupMs: WARMUP_MS } });
  const r = await sim.tool('kind', ['create', 'cluster', '--name', 'charts', '--config', join(ROOT, 'kind-config.yaml')]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await sim?.close();
});

function docs(text: string): KubeObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject).filter((o) => o && typeof o === 'object');
}

function referenceNames(prefix: string): string[] {
  const dir = crdFixtureDir();
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .flatMap((f) => docs(readFileSync(join(dir, f), 'utf8')))
    .map((o) => o.metadata.name!)
    .sort();
}

function hooks(o: KubeObject | undefined): { rules: unknown[]; [k: string]: unknown }[] {
  return (o?.webhooks ?? []) as { rules: unknown[] }[];
}

function data(o: KubeObject | undefined): Record<string, string> {
  return (o?.data ?? {}) as Record<string, string>;
}

/** A server-side dry-run create, as a plain client (no simulation actor header). */
async function dryRun(path: string, obj: unknown): Promise<{ code: number; message: string }> {
  const res = await fetch(`${sim.url}${path}?dryRun=All&fieldManager=sandbox`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(obj) });
  const body = (await res.json()) as { message?: string };
  return { code: res.status, message: body.message ?? '' };
}

/** Polls a dry-run create until it is accepted; returns every refusal seen before. */
async function refusalsUntilAccepted(path: string, obj: unknown, timeoutMs = 15_000): Promise<string[]> {
  const refusals: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await dryRun(path, obj);
    if (r.code === 201) return refusals;
    refusals.push(`${r.code} ${r.message}`);
    if (Date.now() > deadline) throw new Error(`still refused after ${timeoutMs} ms: ${refusals.at(-1)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function podsReady(ns: string, selector: string): Promise<boolean> {
  const pods = await sim.kube.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: selector });
  return pods.length > 0 && pods.every((p) => p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
}

const ISSUER = { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'probe', namespace: 'cert-manager' }, spec: { selfSigned: {} } };
const CERTIFICATE = {
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: 'probe', namespace: 'cert-manager' },
  spec: { secretName: 'probe-tls', dnsNames: ['probe.cert-manager.svc'], issuerRef: { name: 'probe', kind: 'Issuer', group: 'cert-manager.io' } },
};

describe('cert-manager chart', () => {
  it('installs the controller, cainjector and webhook with the CRDs from its templates', async () => {
    const r = await sim.tool('helm', ['upgrade', '--install', 'cert-manager', 'cert-manager', '--repo', JETSTACK, '--version', 'v1.21.1', '--namespace', 'cert-manager', '--create-namespace', '--set', 'crds.enabled=true']);
    expect(r.code, r.stderr).toBe(0);

    const deployments = await sim.kube.list('/apis/apps/v1/namespaces/cert-manager/deployments');
    const images = Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image]));
    expect(images).toEqual({
      'cert-manager': 'quay.io/jetstack/cert-manager-controller:v1.21.1',
      'cert-manager-cainjector': 'quay.io/jetstack/cert-manager-cainjector:v1.21.1',
      'cert-manager-webhook': 'quay.io/jetstack/cert-manager-webhook:v1.21.1',
    });
    const webhook = deployments.find((d) => d.metadata.name === 'cert-manager-webhook')!;
    expect(webhook.metadata.labels).toMatchObject({ app: 'webhook', 'app.kubernetes.io/name': 'webhook', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'webhook', 'app.kubernetes.io/version': 'v1.21.1', 'helm.sh/chart': 'cert-manager-v1.21.1' });
    expect(webhook.spec.template.spec.containers[0].ports).toContainEqual({ name: 'https', protocol: 'TCP', containerPort: 10250 });

    const svc = await sim.kube.get('/api/v1/namespaces/cert-manager/services/cert-manager-webhook');
    expect(svc!.spec.selector).toEqual({ 'app.kubernetes.io/name': 'webhook', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'webhook' });
    expect(svc!.spec.ports[0]).toMatchObject({ name: 'https', port: 443, targetPort: 'https' });
    const accounts = (await sim.kube.list('/api/v1/namespaces/cert-manager/serviceaccounts')).map((s) => s.metadata.name);
    expect(accounts).toEqual(expect.arrayContaining(['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook']));

    for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
      const cfg = await sim.kube.get(`/apis/admissionregistration.k8s.io/v1/${kind}/cert-manager-webhook`);
      expect(hooks(cfg)[0]).toMatchObject({ name: 'webhook.cert-manager.io', sideEffects: 'None', failurePolicy: 'Fail', clientConfig: { service: { name: 'cert-manager-webhook', namespace: 'cert-manager' } } });
    }
    const validating = await sim.kube.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cert-manager-webhook');
    expect(hooks(validating)[0]!.rules[0]).toEqual({ apiGroups: ['cert-manager.io', 'acme.cert-manager.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['*/*'] });

    const crds = (await sim.kube.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).filter((c) => c.spec.group === 'cert-manager.io');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(referenceNames('certmanager-'));
    expect(crds.every((c) => c.metadata.annotations?.['helm.sh/resource-policy'] === 'keep')).toBe(true);
  });

  it('refuses dry-run creates of an Issuer and a Certificate until the webhook pod is Ready, then accepts them', async () => {
    const refusals = await refusalsUntilAccepted('/apis/cert-manager.io/v1/namespaces/cert-manager/issuers', ISSUER);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toBe(
      '500 Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": no endpoints available for service "cert-manager-webhook"',
    );
    expect(await podsReady('cert-manager', 'app.kubernetes.io/component=webhook')).toBe(true);
    expect(await dryRun('/apis/cert-manager.io/v1/namespaces/cert-manager/certificates', CERTIFICATE)).toEqual({ code: 201, message: '' });
    // dry-run persisted nothing
    expect(await sim.kube.get('/apis/cert-manager.io/v1/namespaces/cert-manager/issuers/probe')).toBeUndefined();
  });
});

const FLINK_DEPLOYMENT = {
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkDeployment',
  metadata: { name: 'probe', namespace: 'jobs' },
  spec: { image: 'flink:1.20.4-java17', flinkVersion: 'v1_20', serviceAccount: 'flink', jobManager: { resource: { memory: '1024m', cpu: 1 } }, taskManager: { resource: { memory: '1024m', cpu: 1 } } },
};
let flinkProbe: Promise<string[]> | undefined;

describe('flink-kubernetes-operator chart', () => {
  it('prints the real CRDs with `helm show crds`, from downloads.apache.org or archive.apache.org', async () => {
    const [fromDownloads, fromArchive] = await Promise.all([
      sim.tool('helm', ['show', 'crds', 'flink-kubernetes-operator', '--repo', DOWNLOADS, '--version', '1.15.0']),
      sim.tool('helm', ['show', 'crds', 'flink-kubernetes-operator', '--repo', ARCHIVE, '--version', '1.15.0']),
    ]);
    expect(fromDownloads.code, fromDownloads.stderr).toBe(0);
    expect(fromArchive.stdout).toBe(fromDownloads.stdout);
    const shown = docs(fromDownloads.stdout);
    expect(shown.map((c) => c.metadata.name).sort()).toEqual(referenceNames('flink-'));
    const file = docs(readFileSync(join(crdFixtureDir(), 'flink-flinkdeployments.yaml'), 'utf8'))[0]!;
    expect(shown.find((c) => c.metadata.name === file.metadata.name)).toEqual(file);
  });

  it('makes downloads.apache.org "not serve" the chart with the chartSourcesGone knob; archive.apache.org still does', async () => {
    await sim.patchFaults({ chartSourcesGone: ['^https://downloads\\.apache\\.org/'] });
    const [gone, archive] = await Promise.all([
      sim.tool('helm', ['show', 'chart', 'flink-kubernetes-operator', '--repo', DOWNLOADS, '--version', '1.15.0']),
      sim.tool('helm', ['show', 'chart', 'flink-kubernetes-operator', '--repo', ARCHIVE, '--version', '1.15.0']),
    ]);
    await sim.patchFaults({ chartSourcesGone: null });
    expect(gone).toMatchObject({
      code: 1,
      stderr: `Error: looks like "${DOWNLOADS}" is not a valid chart repository or cannot be reached: failed to fetch ${DOWNLOADS}index.yaml : 404 Not Found\n`,
    });
    expect(parse(archive.stdout)).toMatchObject({ name: 'flink-kubernetes-operator', version: '1.15.0', appVersion: '1.15.0' });
    // A per-release directory serves only its own version; downloads.apache.org only the newest.
    const older = await sim.tool('helm', ['show', 'chart', 'flink-kubernetes-operator', '--repo', DOWNLOADS.replace('1.15.0', '1.14.0'), '--version', '1.14.0']);
    expect(older.code).toBe(1);
  });

  it('installs with --skip-crds: the operator watches `jobs`, where alone the `flink` account and its Role live', async () => {
    await sim.kube.create('/api/v1/namespaces', { metadata: { name: 'jobs' } });
    // As `sandbox up` does: the CRDs from `helm show crds` first, then the chart without them.
    const shown = docs((await sim.tool('helm', ['show', 'crds', 'flink-kubernetes-operator', '--repo', DOWNLOADS, '--version', '1.15.0'])).stdout);
    for (const crd of shown) await sim.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    await sim.kube.waitFor('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/flinkdeployments.flink.apache.org', (c) => c.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True'));
    const before = (await sim.kube.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).length;
    const r = await sim.tool('helm', [
      'upgrade', '--install', 'flink-kubernetes-operator', 'flink-kubernetes-operator', '--repo', DOWNLOADS, '--version', '1.15.0',
      '--namespace', 'flink-operator', '--create-namespace', '--set', 'watchNamespaces[0]=jobs', '--skip-crds',
      '--set-string', 'defaultConfiguration.flink-conf\\.yaml=kubernetes.operator.jm-deployment.shutdown-ttl: 30000',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // Polled from now on: the webhook pod cannot be Ready yet (no keystore, no warm-up).
    flinkProbe = refusalsUntilAccepted('/apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments', FLINK_DEPLOYMENT);
    expect((await sim.kube.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).length).toBe(before);
    expect((await sim.kube.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/flinkdeployments.flink.apache.org'))!.metadata.annotations?.['meta.helm.sh/release-name']).toBeUndefined();

    const dep = await sim.kube.get('/apis/apps/v1/namespaces/flink-operator/deployments/flink-kubernetes-operator');
    const [operator, webhook] = dep!.spec.template.spec.containers;
    expect(operator).toMatchObject({ name: 'flink-kubernetes-operator', image: 'ghcr.io/apache/flink-kubernetes-operator:1.15.0', command: ['/docker-entrypoint.sh', 'operator'] });
    expect(operator.env).toContainEqual({ name: 'WATCH_NAMESPACES', value: 'jobs' });
    expect(webhook).toMatchObject({ name: 'flink-webhook', command: ['/docker-entrypoint.sh', 'webhook'] });
    expect(dep!.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'flink-kubernetes-operator' });

    const conf = data(await sim.kube.get('/api/v1/namespaces/flink-operator/configmaps/flink-operator-config'))['flink-conf.yaml'];
    expect(conf).toContain('parallelism.default: 2'); // the chart's built-in defaults (append: true)
    expect(conf).toContain('kubernetes.operator.jm-deployment.shutdown-ttl: 30000');
    expect(conf).toContain('kubernetes.operator.watched.namespaces: jobs');

    expect(await sim.kube.get('/api/v1/namespaces/jobs/serviceaccounts/flink')).toMatchObject({ metadata: { annotations: { 'helm.sh/resource-policy': 'keep' } } });
    expect(await sim.kube.get('/api/v1/namespaces/flink-operator/serviceaccounts/flink')).toBeUndefined();
    expect(await sim.kube.get('/apis/rbac.authorization.k8s.io/v1/namespaces/jobs/roles/flink')).toBeDefined();
    expect(await sim.kube.get('/apis/rbac.authorization.k8s.io/v1/namespaces/jobs/rolebindings/flink-role-binding')).toMatchObject({ subjects: [{ kind: 'ServiceAccount', name: 'flink', namespace: 'jobs' }] });
    expect(await sim.kube.get('/apis/rbac.authorization.k8s.io/v1/namespaces/flink-operator/roles/flink')).toBeUndefined();
    expect(await sim.kube.get('/api/v1/namespaces/flink-operator/services/flink-operator-webhook-service')).toMatchObject({ spec: { ports: [{ port: 443, targetPort: 9443 }] } });
    const validating = await sim.kube.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/flink-operator-flink-operator-webhook-configuration');
    expect(hooks(validating)[0]).toMatchObject({
      name: 'validationwebhook.flink.apache.org',
      clientConfig: { service: { name: 'flink-operator-webhook-service', namespace: 'flink-operator', path: '/validate' } },
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['jobs'] }] },
    });
    expect(await sim.kube.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/flink-operator-flink-operator-webhook-configuration')).toBeDefined();
  });

  it('without watchNamespaces renders the `flink` account in the release namespace only', () => {
    const objs = flinkOperator.render(flinkOperator.defaults, { name: 'op', namespace: 'ops', revision: 1, isInstall: true }, { name: 'flink-kubernetes-operator', version: '1.15.0', appVersion: '1.15.0', description: '' });
    const where = (kind: string, name: string): (string | undefined)[] => objs.filter((o) => o.kind === kind && o.metadata.name === name).map((o) => o.metadata.namespace);
    expect(where('ServiceAccount', 'flink')).toEqual(['ops']);
    expect(where('Role', 'flink')).toEqual(['ops']);
    expect(where('ClusterRole', 'flink-operator')).toEqual([undefined]);
  });

  it('refuses a dry-run FlinkDeployment until cert-manager has issued the keystore and the webhook pod is Ready', async () => {
    const refusals = await flinkProbe!;
    expect(refusals[0]).toMatch(/^500 Internal error occurred: failed calling webhook "(validation|mutation)webhook\.flink\.apache\.org": failed to call webhook: Post "https:\/\/flink-operator-webhook-service\.flink-operator\.svc:443\/(validate|mutate)\?timeout=10s": no endpoints available for service "flink-operator-webhook-service"$/);
    expect(await podsReady('flink-operator', 'app.kubernetes.io/name=flink-kubernetes-operator')).toBe(true);
    const cert = await sim.kube.get('/apis/cert-manager.io/v1/namespaces/flink-operator/certificates/flink-operator-serving-cert');
    expect(cert!.status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(Object.keys(data(await sim.kube.get('/api/v1/namespaces/flink-operator/secrets/webhook-server-cert')))).toContain('keystore.p12');
    // Namespaces the operator does not watch are not its webhook's business.
    expect(await dryRun('/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments', { ...FLINK_DEPLOYMENT, metadata: { name: 'probe', namespace: 'default' } })).toMatchObject({ code: 201 });
  });
});

describe('logging-operator chart', () => {
  it('installs from the OCI registry with --skip-crds; `helm show crds` prints the real CRDs', async () => {
    const [show, install] = await Promise.all([
      sim.tool('helm', ['show', 'crds', LOGGING, '--version', '6.7.0']),
      sim.tool('helm', ['upgrade', '--install', 'logging-operator', LOGGING, '--version', '6.7.0', '--namespace', 'logging', '--create-namespace', '--skip-crds', '--wait', '--timeout', '30s']),
    ]);
    expect(show.code, show.stderr).toBe(0);
    expect(docs(show.stdout).map((c) => c.metadata.name).sort()).toEqual(referenceNames('logging-'));
    expect(install.code, install.stderr).toBe(0);
    expect(await sim.kube.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/loggings.logging.banzaicloud.io')).toBeUndefined();

    const dep = await sim.kube.get('/apis/apps/v1/namespaces/logging/deployments/logging-operator');
    expect(dep!.spec.template.spec.containers[0]).toMatchObject({ name: 'logging-operator', image: 'ghcr.io/kube-logging/logging-operator:6.7.0', args: ['-enable-leader-election=true'] });
    expect(dep!.spec.template.spec.serviceAccountName).toBe('logging-operator');
    expect(dep!.status.readyReplicas).toBe(1);
    expect(await sim.kube.get('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/logging-operator')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'logging-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'logging-operator', namespace: 'logging' }],
    });
    expect(await sim.kube.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/logging-operator')).toBeDefined();
  });
});
