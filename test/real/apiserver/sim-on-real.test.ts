// The simulation on a real kube-apiserver: the simulated controllers, kubelets and fake tools
// act through it (test/sim/real-underlay.ts), with kube-controller-manager doing only the
// cluster's housekeeping, and the built CLI runs `up`, `status` and `down` against it as
// against a kind cluster. A re-run of `up` is judged by the real server's resourceVersions.
// The webhooks the simulated charts register are called by kube-apiserver itself: it routes
// to the Services' EndpointSlice addresses (--enable-aggregator-routing), where the simulated
// webhook containers serve TLS with certificates the simulated cert-manager and certgen issued
// (test/sim/controllers/webhook-serving.ts), so the readiness gates of cert-manager, the Flink
// operator and ingress-nginx wait on the real admission chain.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { connectKube } from '../../../scripts/lib/kube/connect.ts';
import type { Kube } from '../../../scripts/lib/kube/kube.ts';
import { runCli } from '../../helpers/cli.ts';
import { startSim, type Sim } from '../../sim/harness.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

/**
 * The cluster's housekeeping; the simulation runs the workload controllers and the kubelets.
 * The protection controllers lift the finalizers the API server's admission puts on every
 * PVC and PV, without which a namespace holding a claim never finishes terminating.
 */
const HOUSEKEEPING = ['namespace', 'garbagecollector', 'serviceaccount', 'serviceaccount-token', 'root-ca-cert-publisher', 'pvc-protection', 'pv-protection'];
/** Every step of the minimal profile and the UI extras (ingress-nginx's admission webhook, Heimdall). */
const UP = ['up', '--profile', 'minimal', '--with', 'ui'];
const STEPS = ['preflight', 'cluster', 'minio', 'cert-manager', 'flink-operator', 'job-image', 'ingress-nginx', 'heimdall'];
/** The webhooks of cert-manager, the Flink operator and ingress-nginx, as the API server names them. */
const WEBHOOKS = ['webhook.cert-manager.io', 'mutationwebhook.flink.apache.org', 'validationwebhook.flink.apache.org', 'validate.nginx.ingress.kubernetes.io'];
/**
 * Long enough that the first dry-run of the cert-manager and Flink operator gates comes before
 * their webhooks answer (ingress-nginx's gate waits for the controller's rollout first).
 */
const WEBHOOK_WARMUP_MS = 4000;

let plane: ControlPlane;
let sim: Sim;

beforeAll(async () => {
  plane = await startControlPlane(inject('controlPlaneBinaries'), {
    controllerManager: true,
    controllers: HOUSEKEEPING,
    // New nodes would get the not-ready taint, which only the node lifecycle controller lifts;
    // that controller also evicts pods of nodes without kubelet heartbeats, which the simulated
    // kubelets do not send. The fake API server makes nodes without the taint, so this does too.
    // Webhook Services resolve to an EndpointSlice address instead of their cluster IP, which
    // nothing routes on this machine.
    apiserverArgs: ['--disable-admission-plugins=TaintNodesByCondition', '--enable-aggregator-routing=true'],
  });
  sim = await startSim({ realApiServer: plane.kubeconfig, faults: { webhookWarmupMs: WEBHOOK_WARMUP_MS } });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await plane?.stop();
});

/** "Kind ns/name" -> resourceVersion of every object that the sandbox's field manager wrote. */
async function sandboxObjects(kube: Kube): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await kube.listableKinds()) {
    if (k.kind === 'Event') continue;
    for (const o of await kube.list(k.apiVersion, k.kind)) {
      const managers = (o.metadata.managedFields ?? []) as Array<{ manager?: string }>;
      if (managers.some((m) => m.manager === 'sandbox')) out.set(`${k.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion);
    }
  }
  return out;
}

/** `name outcome` -> count, from kube-apiserver's admission webhook metrics. */
async function webhookCalls(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const { body } = await plane.get('/metrics');
  for (const line of body.split('\n')) {
    const m = /^apiserver_admission_webhook_(request_total|rejection_count)\{(.*)\} (\d+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const outcome = m[1] === 'request_total' ? (labels.code === '200' && labels.rejected === 'false' ? 'answered' : undefined) : labels.error_type === 'calling_webhook_error' ? 'unreachable' : undefined;
    if (outcome) out.set(`${labels.name} ${outcome}`, (out.get(`${labels.name} ${outcome}`) ?? 0) + Number(m[3]));
  }
  return out;
}

it('up with its webhook gates, a re-run that changes nothing, status, down --context and down, on the real API server', async () => {
  const first = await runCli([...UP, '--config', sim.configFile], { env: sim.env, timeoutMs: 300_000 });
  expect(first.code, first.stderr + first.stdout).toBe(0);

  // Every webhook was answered by the simulated webhook over TLS, verified against the
  // injected caBundle; the cert-manager and Flink gates first met theirs unreachable (no ready
  // endpoint during the warm-up) and waited.
  const calls = await webhookCalls();
  for (const hook of WEBHOOKS) {
    expect(calls.get(`${hook} answered`) ?? 0, `${hook}: ${JSON.stringify([...calls])}`).toBeGreaterThan(0);
  }
  for (const hook of ['webhook.cert-manager.io', 'mutationwebhook.flink.apache.org']) {
    expect(calls.get(`${hook} unreachable`) ?? 0, `${hook}: ${JSON.stringify([...calls])}`).toBeGreaterThan(0);
  }

  const kube = await connectKube({ kubeconfig: sim.env.KUBECONFIG, context: 'kind-flink-sandbox' });
  // The kind context the fake kind wrote is the real server.
  expect(kube.server).toBe(plane.server);
  const before = await sandboxObjects(kube);
  expect([...before.keys()]).toEqual(expect.arrayContaining(['Deployment minio/minio', 'Job minio/minio-make-bucket', 'Secret default/minio-credentials', 'Namespace /minio']));
  const job = await kube.get({ apiVersion: 'batch/v1', kind: 'Job', name: 'minio-make-bucket', namespace: 'minio' });
  expect(job?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));

  const again = await runCli([...UP, '--config', sim.configFile, '--json'], { env: sim.env, timeoutMs: 150_000 });
  expect(again.code, again.stderr).toBe(0);
  const report = JSON.parse(again.stdout) as { steps: Array<{ id: string; outcome: string }> };
  expect(report.steps.map((s) => `${s.id} ${s.outcome}`).sort()).toEqual(STEPS.map((id) => `${id} ${id === 'preflight' ? 'done' : 'already'}`).sort());
  expect(await sandboxObjects(kube)).toEqual(before);

  const status = await runCli(['status', '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 60_000 });
  const components = (JSON.parse(status.stdout) as { components: Array<{ component: string; health: string }> }).components;
  const installed = ['cluster', 'minio', 'cert-manager', 'flink-operator', 'ingress-nginx'];
  expect(components.filter((c) => installed.includes(c.component)).map((c) => `${c.component} ${c.health}`)).toEqual(installed.map((c) => `${c} healthy`));

  const removed = await runCli(['down', '--context', 'kind-flink-sandbox', '--config', sim.configFile, '--json'], { env: sim.env, timeoutMs: 150_000 });
  expect(removed.code, removed.stderr).toBe(0);
  expect((JSON.parse(removed.stdout) as { deleted: string[] }).deleted).toEqual(
    expect.arrayContaining(['Deployment minio/minio', 'Namespace minio', 'helm release cert-manager/cert-manager', 'helm release flink-operator/flink-kubernetes-operator', 'ValidatingWebhookConfiguration ingress-nginx-admission']),
  );
  // No webhook configuration is left behind to fail the cluster's requests for lack of a webhook.
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    expect((await kube.list('admissionregistration.k8s.io/v1', kind)).map((o) => o.metadata.name)).toEqual([]);
  }
  expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'minio' })).toBeUndefined();
  expect(await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'minio-credentials', namespace: 'default' })).toBeUndefined();
  // The cluster's own objects stay: down --context never touches what the sandbox did not make.
  expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', namespace: 'kube-system' })).toBeDefined();

  const gone = await runCli(['down'], { env: sim.env, timeoutMs: 60_000 });
  expect(gone.code, gone.stderr).toBe(0);
  expect(gone.stdout).toContain('deleted kind cluster flink-sandbox');
}, 600_000);
