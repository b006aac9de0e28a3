// kind's storage: the persistentvolume-controller plus rancher.io/local-path. A claim of a
// local-path class (the default class when it names none) waits for its first consumer
// (WaitForFirstConsumer: the scheduler writes volume.kubernetes.io/selected-node), then a
// PersistentVolume `pvc-<uid>` pinned to that node is provisioned and the claim is Bound.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { WorkQueue, keyOf, sleep } from './informer.ts';
import { SELECTED_NODE } from './scheduler.ts';

const PROVISIONER = 'rancher.io/local-path';
const PV_CONTROLLER = { component: 'persistentvolume-controller' };
const LOCAL_PATH = { component: `${PROVISIONER}_local-path-provisioner` };

export function startVolumes(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('persistentvolume-controller');
  const { pvcs, storageclasses } = ctx.informers;

  function classOf(pvc: KubeObject): KubeObject | undefined {
    const name = pvc.spec?.storageClassName as string | undefined;
    if (name) return storageclasses.get(undefined, name);
    return storageclasses.list().find((sc) => sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  }

  async function reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const pvc = pvcs.get(ns, name);
    if (!pvc || pvc.metadata.deletionTimestamp || pvc.status?.phase === 'Bound') return;
    const sc = classOf(pvc);
    if (!sc) {
      await ctx.events.record(pvc, PV_CONTROLLER, { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' });
      return;
    }
    if (sc.provisioner !== PROVISIONER) {
      await ctx.events.record(pvc, PV_CONTROLLER, {
        type: 'Normal',
        reason: 'ExternalProvisioning',
        message: `Waiting for a volume to be created either by the external provisioner '${String(sc.provisioner)}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      });
      return;
    }
    const node = pvc.metadata.annotations?.[SELECTED_NODE];
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
      await ctx.events.record(pvc, PV_CONTROLLER, { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' });
      return;
    }
    await ctx.events.record(pvc, LOCAL_PATH, { type: 'Normal', reason: 'Provisioning', message: `External provisioner is provisioning volume for claim "${ns}/${name}"` });
    await sleep(ctx.timing.provisionMs, ctx.signal);
    const pvName = `pvc-${pvc.metadata.uid}`;
    const storage = pvc.spec?.resources?.requests?.storage ?? '1Gi';
    const accessModes = pvc.spec?.accessModes ?? ['ReadWriteOnce'];
    await api.createIfAbsent('/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: { 'local.path.provisioner/selected-node': node ?? '', 'pv.kubernetes.io/provisioned-by': PROVISIONER },
        finalizers: ['kubernetes.io/pv-protection'],
      },
      spec: {
        accessModes,
        capacity: { storage },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name, namespace: ns, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion },
        hostPath: { path: `/var/local-path-provisioner/${pvName}_${ns}_${name}`, type: 'DirectoryOrCreate' },
        ...(node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } } : {}),
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata.name,
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      },
    });
    await api.mergePatch(`/api/v1/persistentvolumes/${pvName}/status`, { status: { phase: 'Bound' } }).catch(() => undefined);
    await api.mergePatch(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`, {
      metadata: {
        annotations: {
          'pv.kubernetes.io/bind-completed': 'yes',
          'pv.kubernetes.io/bound-by-controller': 'yes',
          'volume.beta.kubernetes.io/storage-provisioner': PROVISIONER,
          'volume.kubernetes.io/storage-provisioner': PROVISIONER,
        },
      },
      spec: { volumeName: pvName, ...(pvc.spec?.storageClassName ? {} : { storageClassName: sc.metadata.name }) },
    });
    pvcs.upsert(await api.mergePatch(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}/status`, { status: { phase: 'Bound', accessModes, capacity: { storage } } }));
    await ctx.events.record(pvc, LOCAL_PATH, { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${pvName}` });
  }

  const queue = new WorkQueue('persistentvolume-controller', reconcile);
  pvcs.on((type, pvc) => {
    if (type !== 'DELETED' && pvc.status?.phase !== 'Bound') queue.add(keyOf(pvc));
  });
  storageclasses.on(() => {
    for (const pvc of pvcs.list()) if (pvc.status?.phase !== 'Bound') queue.add(keyOf(pvc));
  });
  for (const pvc of pvcs.list()) queue.add(keyOf(pvc));
  return queue;
}
