// The simulated controllers against the real fake API server: workloads produce pods that
// get scheduled, run and report status the way Kubernetes does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { DEFAULT_NODE_IMAGE, bootstrap } from '../sim/tools/kind-cluster.ts';

let sim: Sim;

function cond(obj: KubeObject | undefined, type: string): { status?: string; reason?: string; message?: string } | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

async function namespace(name: string): Promise<void> {
  await sim.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function podTemplate(app: string, image = 'nginx:1.27', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image }], ...extra } };
}

async function events(ns: string, name: string): Promise<KubeObject[]> {
  return (await sim.kube.list(`/api/v1/namespaces/${ns}/events`)).filter((e) => (e.involvedObject as { name: string }).name === name);
}

beforeAll(async () => {
  sim = await startSim();
  // A two-node kind cluster, written the way the fake kind writes it.
  const api = new SimClient(sim.url, 'test-kind');
  await api.request('POST', '/_sim/clusters', { name: 'c' });
  await bootstrap(api, 'c', [{ role: 'control-plane' }, { role: 'worker' }], DEFAULT_NODE_IMAGE, { cpus: 4, memBytes: 8 * 2 ** 30 });
});

afterAll(async () => {
  await sim?.close();
});

describe('simulated controllers', () => {
  it('turns a Deployment into a ReplicaSet and Ready pods, and reports it Available', async () => {
    await namespace('deploy');
    await sim.kube.create('/apis/apps/v1/namespaces/deploy/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate('web') },
    });
    const d = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/deploy/deployments/web', (x) => cond(x, 'Progressing')?.reason === 'NewReplicaSetAvailable');
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect(cond(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });

    const [rs, ...otherRs] = await sim.kube.list('/apis/apps/v1/namespaces/deploy/replicasets');
    expect(otherRs).toHaveLength(0);
    const hash = rs!.metadata.labels!['pod-template-hash']!;
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.metadata.ownerReferences).toMatchObject([{ kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true }]);
    expect(rs!.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const pods = await sim.kube.list('/api/v1/namespaces/deploy/pods');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(pod.metadata.labels).toMatchObject({ app: 'web', 'pod-template-hash': hash });
      expect(pod.metadata.ownerReferences).toMatchObject([{ kind: 'ReplicaSet', name: rs!.metadata.name, controller: true }]);
      // The control-plane taint keeps ordinary pods on the worker.
      expect(pod.spec.nodeName).toBe('c-worker');
      expect(pod.status.phase).toBe('Running');
      for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) expect(cond(pod, type)?.status).toBe('True');
      const [cs] = pod.status.containerStatuses;
      expect(cs).toMatchObject({ name: 'main', image: 'nginx:1.27', ready: true, started: true, restartCount: 0 });
      expect(cs.imageID).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
      expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(Date.parse(cs.state.running.startedAt)).not.toBeNaN();
      expect(pod.status.podIP).toMatch(/^10\.244\.1\.\d+$/);
    }

    const podEvents = await events('deploy', pods[0]!.metadata.name!);
    expect(podEvents.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']));
    const scheduled = podEvents.find((e) => e.reason === 'Scheduled')!;
    expect(scheduled).toMatchObject({ type: 'Normal', message: `Successfully assigned deploy/${pods[0]!.metadata.name} to c-worker`, count: 1 });
    expect(scheduled.involvedObject).toMatchObject({ kind: 'Pod', namespace: 'deploy', uid: pods[0]!.metadata.uid });
    expect(podEvents.find((e) => e.reason === 'Started')).toMatchObject({ source: { component: 'kubelet', host: 'c-worker' }, involvedObject: { fieldPath: 'spec.containers{main}' } });
    expect((await events('deploy', 'web')).map((e) => e.message)).toContain(`Scaled up replica set web-${hash} from 0 to 2`);

    // The audit log names the simulated component behind each write.
    const audit = (await sim.audit()).filter((e) => e.namespace === 'deploy');
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'deployment-controller', verb: 'create', kind: 'ReplicaSet' }));
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'replicaset-controller', verb: 'create', kind: 'Pod', name: pods[0]!.metadata.name }));
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'kubelet', method: 'PATCH', name: pods[0]!.metadata.name }));

    const log = await sim.kube.waitFor<string>(`/api/v1/namespaces/deploy/pods/${pods[0]!.metadata.name}/log?container=main`, (text) => text.includes('starting nginx:1.27'));
    expect(log).toContain('ready to serve');
  });

  it('replaces a deleted pod of a Deployment with a new one', async () => {
    await namespace('recreate');
    await sim.kube.create('/apis/apps/v1/namespaces/recreate/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'app' } }, template: podTemplate('app') },
    });
    const [first] = await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/recreate/pods', (ps) => ps.length === 1 && cond(ps[0], 'Ready')?.status === 'True');
    await sim.kube.delete(`/api/v1/namespaces/recreate/pods/${first!.metadata.name}`);
    const [second] = await sim.kube.waitFor<KubeObject[]>(
      '/api/v1/namespaces/recreate/pods',
      (ps) => ps.length === 1 && ps[0]!.metadata.uid !== first!.metadata.uid && cond(ps[0], 'Ready')?.status === 'True',
    );
    expect(second!.metadata.name).not.toBe(first!.metadata.name);
    expect(second!.metadata.labels!['pod-template-hash']).toBe(first!.metadata.labels!['pod-template-hash']);
    const rsEvents = await events('recreate', first!.metadata.ownerReferences![0]!.name);
    expect(rsEvents.map((e) => e.message)).toEqual(expect.arrayContaining([`Created pod: ${first!.metadata.name}`, `Created pod: ${second!.metadata.name}`]));
    // The first pod's log stream was ended when it was deleted; the new pod has its own.
    await sim.kube.waitFor<string>(`/api/v1/namespaces/recreate/pods/${second!.metadata.name}/log`, (t) => t.includes('starting nginx'));
  });

  it('rolls a Deployment to a new ReplicaSet when its template changes', async () => {
    await namespace('rollout');
    const path = '/apis/apps/v1/namespaces/rollout/deployments/app';
    await sim.kube.create('/apis/apps/v1/namespaces/rollout/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'app' } }, template: podTemplate('app', 'nginx:1.26') },
    });
    await sim.kube.waitFor<KubeObject>(path, (d) => cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable');
    await sim.kube.patch(path, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } } });
    const d = await sim.kube.waitFor<KubeObject>(path, (x) => x.status?.observedGeneration === 2 && cond(x, 'Progressing')?.reason === 'NewReplicaSetAvailable' && x.status?.replicas === 1);
    expect(d.status).toMatchObject({ updatedReplicas: 1, availableReplicas: 1 });
    const rss = await sim.kube.list('/apis/apps/v1/namespaces/rollout/replicasets');
    expect(rss.map((r) => [r.metadata.annotations?.['deployment.kubernetes.io/revision'], r.spec.replicas]).sort()).toEqual([['1', 0], ['2', 1]]);
    const pods = await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/rollout/pods', (ps) => ps.length === 1);
    expect(pods[0]!.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('creates StatefulSet pods in order, with claims bound by the local-path provisioner', async () => {
    await namespace('sts');
    await sim.kube.create('/apis/apps/v1/namespaces/sts/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate('db', 'postgres:17', {}),
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const sts = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/sts/statefulsets/db', (s) => s.status?.readyReplicas === 2);
    expect(sts.status).toMatchObject({ replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
    const pods = await sim.kube.list('/api/v1/namespaces/sts/pods');
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['db-0', 'db-1']);
    const [p0, p1] = [...pods].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    // OrderedReady: db-1 was created only after db-0 was Ready.
    const p0Ready = p0!.status.conditions.find((c: { type: string }) => c.type === 'Ready').lastTransitionTime as string;
    expect(Date.parse(p1!.metadata.creationTimestamp!)).toBeGreaterThanOrEqual(Date.parse(p0Ready));
    expect(p0!.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': sts.status.updateRevision });
    expect(p0!.spec.volumes).toEqual(expect.arrayContaining([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }]));
    const pvc = await sim.kube.get('/api/v1/namespaces/sts/persistentvolumeclaims/data-db-0');
    expect(pvc?.status).toMatchObject({ phase: 'Bound', capacity: { storage: '1Gi' } });
    expect(pvc?.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(p0!.spec.nodeName);
    const pv = await sim.kube.get(`/api/v1/persistentvolumes/${pvc!.spec.volumeName}`);
    expect(pv?.spec).toMatchObject({ storageClassName: 'standard', claimRef: { name: 'data-db-0', namespace: 'sts' } });
  });

  it('runs one DaemonSet pod per node it tolerates', async () => {
    await namespace('ds');
    const ds = (name: string, tolerations: unknown[]): Record<string, unknown> => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name },
      spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name, 'fluent/fluent-bit:4.0', { tolerations }) },
    });
    await sim.kube.create('/apis/apps/v1/namespaces/ds/daemonsets', ds('workers-only', []));
    await sim.kube.create('/apis/apps/v1/namespaces/ds/daemonsets', ds('everywhere', [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]));
    const a = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/ds/daemonsets/workers-only', (x) => x.status?.numberReady === 1);
    const b = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/ds/daemonsets/everywhere', (x) => x.status?.numberReady === 2);
    expect(a.status).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1, observedGeneration: 1 });
    expect(b.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2 });
    const pods = await sim.kube.list('/api/v1/namespaces/ds/pods');
    expect(pods.filter((p) => p.metadata.labels?.app === 'everywhere').map((p) => p.spec.nodeName).sort()).toEqual(['c-control-plane', 'c-worker']);
  });

  it('runs a Job to completion', async () => {
    await namespace('job');
    await sim.kube.create('/apis/batch/v1/namespaces/job/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'make-bucket' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'mc', image: 'minio/mc:RELEASE.2025-08-13T08-35-41Z' }] } } },
    });
    const [running] = await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/job/pods', (ps) => ps[0]?.status?.phase === 'Running');
    // The container's exit ends its log stream: a follow request returns once the job is done.
    const followed = await (await fetch(`${sim.url}/api/v1/namespaces/job/pods/${running!.metadata.name}/log?follow=true`)).text();
    expect(followed).toMatch(/mc: starting batch work\nmc: done\n$/);
    const job = await sim.kube.waitFor<KubeObject>('/apis/batch/v1/namespaces/job/jobs/make-bucket', (j) => cond(j, 'Complete')?.status === 'True');
    expect(job.status).toMatchObject({ succeeded: 1 });
    expect(job.status.active).toBeUndefined();
    expect(Date.parse(job.status.completionTime)).not.toBeNaN();
    const [pod] = await sim.kube.list('/api/v1/namespaces/job/pods');
    expect(pod!.metadata.name).toMatch(/^make-bucket-[a-z0-9]{5}$/);
    expect(pod!.status.phase).toBe('Succeeded');
    expect(pod!.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(cond(pod, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect((await events('job', 'make-bucket')).map((e) => e.reason)).toEqual(expect.arrayContaining(['SuccessfulCreate', 'Completed']));
  });

  it('gives a new namespace its ServiceAccount and root CA ConfigMap', async () => {
    await namespace('fresh');
    const ns = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/fresh', (n) => n.status?.phase === 'Active');
    expect(ns.metadata.name).toBe('fresh');
    expect(await sim.kube.get('/api/v1/namespaces/fresh/serviceaccounts/default')).toBeDefined();
    const cm = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt', (c) => !!c);
    expect((cm.data as Record<string, string>)['ca.crt']).toContain('BEGIN CERTIFICATE');
  });

  it('establishes a CRD, after which its resources are served', async () => {
    await sim.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    const crd = await sim.kube.waitFor<KubeObject>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', (c) => cond(c, 'Established')?.status === 'True');
    expect(cond(crd, 'NamesAccepted')).toMatchObject({ status: 'True', reason: 'NoConflicts' });
    expect(cond(crd, 'Established')).toMatchObject({ reason: 'InitialNamesAccepted' });
    expect(crd.status.acceptedNames).toEqual({ plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] });
    expect(crd.status.storedVersions).toEqual(['v1']);
    const list = await sim.kube.waitFor<KubeObject[]>('/apis/example.com/v1/namespaces/default/widgets', (items) => Array.isArray(items));
    expect(list).toEqual([]);
  });

  it('leaves a pod Pending with FailedScheduling when no node matches its nodeSelector', async () => {
    await namespace('unsched');
    await sim.kube.create('/api/v1/namespaces/unsched/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'picky' },
      spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'main', image: 'nginx:1.27' }] },
    });
    const pod = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/unsched/pods/picky', (p) => cond(p, 'PodScheduled')?.status === 'False');
    expect(pod.status.phase).toBe('Pending');
    const message = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
    expect(cond(pod, 'PodScheduled')).toMatchObject({ reason: 'Unschedulable', message });
    expect(await events('unsched', 'picky')).toMatchObject([{ type: 'Warning', reason: 'FailedScheduling', message, source: { component: 'default-scheduler' } }]);
    // Labelling the worker makes the pod schedulable.
    await sim.kube.patch('/api/v1/nodes/c-worker', { metadata: { labels: { disk: 'ssd' } } });
    const placed = await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/unsched/pods/picky', (p) => cond(p, 'Ready')?.status === 'True');
    expect(placed.spec.nodeName).toBe('c-worker');
  });

  it('reports a refused pod creation as the ReplicaSet FailedCreate event', async () => {
    await namespace('nosa');
    await sim.kube.create('/apis/apps/v1/namespaces/nosa/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'app' } }, template: podTemplate('app', 'nginx:1.27', { serviceAccountName: 'missing' }) },
    });
    const ev = await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/nosa/events', (es) => es.some((e) => e.reason === 'FailedCreate'));
    expect(ev.find((e) => e.reason === 'FailedCreate')!.message).toMatch(/^Error creating: .*serviceaccount "missing" not found/);
    await sim.kube.create('/api/v1/namespaces/nosa/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'missing' } });
    await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/nosa/deployments/app', (d) => d.status?.availableReplicas === 1);
  });
});
