// Defaulting the real API server does on every write of a built-in object, so that what a
// client reads back (and what a re-apply compares against) looks like a real cluster's:
// pod and template defaults, workload defaults, Service cluster IPs, Secret stringData,
// Namespace finalizers and name label, Job selectors.
import { randomBytes } from 'node:crypto';
import { defaultCustomResource } from './crd-defaults.ts';
import { crdSchema } from './resources.ts';
import { badRequest } from './status.ts';
import { type Obj, type ResourceType, isObj } from './types.ts';

function set<T>(o: Obj, k: string, v: T): void {
  if (o[k] === undefined) o[k] = v;
}

function imagePullPolicy(image: string): string {
  const last = image.split('/').pop() ?? image;
  if (last.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** SetDefaults_Probe and SetDefaults_HTTPGetAction (a zero sent counts as unset: typed.ts decodes first). */
function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  set(p, 'timeoutSeconds', 1);
  set(p, 'periodSeconds', 10);
  set(p, 'successThreshold', 1);
  set(p, 'failureThreshold', 3);
  if (isObj(p.httpGet)) {
    set(p.httpGet, 'path', '/');
    set(p.httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[k]);
  if (typeof c.image === 'string') set(c, 'imagePullPolicy', imagePullPolicy(c.image));
  set(c, 'terminationMessagePath', '/dev/termination-log');
  set(c, 'terminationMessagePolicy', 'File');
  set(c, 'resources', {});
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) set(p, 'protocol', 'TCP');
}

/**
 * `pod`: a Pod's own spec. A template in a Deployment or Job gets only the struct defaults;
 * service links, priority and the service account are set when a Pod is created from it
 * (kube-apiserver 1.36 stores Deployment templates without them).
 */
export function defaultPodSpec(spec: unknown, pod = true): void {
  if (!isObj(spec)) return;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) defaultContainer(c);
  set(spec, 'restartPolicy', 'Always');
  set(spec, 'terminationGracePeriodSeconds', 30);
  set(spec, 'dnsPolicy', 'ClusterFirst');
  set(spec, 'schedulerName', 'default-scheduler');
  set(spec, 'securityContext', {});
  if (!pod) return;
  if (spec.serviceAccountName === undefined && typeof spec.serviceAccount === 'string') spec.serviceAccountName = spec.serviceAccount;
  set(spec, 'serviceAccountName', 'default');
  set(spec, 'serviceAccount', spec.serviceAccountName);
  set(spec, 'enableServiceLinks', true);
  set(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  set(spec, 'priority', 0);
}

function quantity(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

/** BestEffort without requests or limits; Guaranteed when every container's limits equal requests for cpu and memory. */
function qosClass(spec: Obj): string {
  const containers: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].filter(isObj);
  const res = containers.map((c) => (isObj(c.resources) ? c.resources : {}));
  const any = res.some((r) => Object.keys(r.requests ?? {}).length > 0 || Object.keys(r.limits ?? {}).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = res.every((r) =>
    ['cpu', 'memory'].every((k) => {
      const limit = quantity(r.limits?.[k]);
      const request = quantity(r.requests?.[k]) ?? limit;
      return limit !== undefined && limit === request;
    }),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultTemplate(spec: Obj): void {
  if (isObj(spec.template)) {
    set(spec.template, 'metadata', {});
    defaultPodSpec(spec.template.spec, false);
  }
}

/** Hands out Service cluster IPs and node ports, like the apiserver's allocators. */
export class Allocator {
  private nextIp = 10;
  private nextPort = 30000;
  clusterIp(): string {
    const n = this.nextIp++;
    return `10.96.${(n >> 8) & 255}.${n & 255}`;
  }
  nodePort(): number {
    return this.nextPort++;
  }
}

function defaultService(svc: Obj, old: Obj | undefined, alloc: Allocator): void {
  const spec: Obj = isObj(svc.spec) ? svc.spec : (svc.spec = {});
  set(spec, 'type', 'ClusterIP');
  set(spec, 'sessionAffinity', 'None');
  if (spec.type !== 'ExternalName') {
    if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = old?.spec?.clusterIP ?? alloc.clusterIp();
    set(spec, 'clusterIPs', [spec.clusterIP]);
    set(spec, 'ipFamilies', ['IPv4']);
    set(spec, 'ipFamilyPolicy', 'SingleStack');
    set(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isObj(p)) continue;
      set(p, 'protocol', 'TCP');
      set(p, 'targetPort', p.port);
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
        const prev = (old?.spec?.ports ?? []).find((q: Obj) => q?.port === p.port);
        set(p, 'nodePort', prev?.nodePort ?? alloc.nodePort());
      }
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') set(spec, 'externalTrafficPolicy', 'Cluster');
}

function defaultSecret(secret: Obj): void {
  set(secret, 'type', 'Opaque');
  if (isObj(secret.data)) {
    for (const [k, v] of Object.entries(secret.data)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data.${k})`);
      }
    }
  }
  // The server folds write-only stringData into data and never stores stringData.
  if (isObj(secret.stringData)) {
    secret.data = isObj(secret.data) ? secret.data : {};
    for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(String(v)).toString('base64');
    delete secret.stringData;
  }
  if (isObj(secret.data) && Object.keys(secret.data).length === 0) delete secret.data;
}

/** Applies the server's defaults for `rt` to `obj` in place. `old` is the stored object on updates. */
export function applyDefaults(rt: ResourceType, obj: Obj, old: Obj | undefined, alloc: Allocator): void {
  // Go's omitempty: an empty map of labels or annotations is not stored, for any kind.
  for (const k of ['labels', 'annotations']) if (isObj(obj.metadata?.[k]) && Object.keys(obj.metadata[k]).length === 0) delete obj.metadata[k];
  if (rt.crd) {
    defaultCustomResource(obj, crdSchema(rt));
    return;
  }
  const spec: Obj | undefined = isObj(obj.spec) ? obj.spec : undefined;
  switch (rt.storageKey) {
    case '/configmaps':
      for (const k of ['data', 'binaryData']) if (isObj(obj[k]) && Object.keys(obj[k]).length === 0) delete obj[k];
      return;
    case '/pods':
      if (!spec) return;
      defaultPodSpec(spec);
      if (!old) obj.status = { phase: 'Pending', qosClass: qosClass(spec) };
      return;
    case '/namespaces':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec = isObj(obj.spec) ? obj.spec : {};
      set(obj.spec, 'finalizers', ['kubernetes']);
      if (!old) obj.status = { phase: 'Active' };
      return;
    case '/services':
      defaultService(obj, old, alloc);
      if (!old) obj.status = { loadBalancer: {} };
      return;
    case '/secrets':
      defaultSecret(obj);
      return;
    case '/persistentvolumeclaims':
      if (spec) set(spec, 'volumeMode', 'Filesystem');
      if (!old) obj.status = { phase: 'Pending' };
      return;
    case 'apps/deployments':
      if (!spec) return;
      set(spec, 'replicas', 1);
      set(spec, 'revisionHistoryLimit', 10);
      set(spec, 'progressDeadlineSeconds', 600);
      set(spec, 'strategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      defaultTemplate(spec);
      // A status struct without omitempty: an empty one is stored from the start.
      if (!old) obj.status = {};
      return;
    case 'apps/replicasets':
      if (!spec) return;
      set(spec, 'replicas', 1);
      defaultTemplate(spec);
      return;
    case 'apps/statefulsets':
      if (!spec) return;
      set(spec, 'replicas', 1);
      set(spec, 'podManagementPolicy', 'OrderedReady');
      set(spec, 'revisionHistoryLimit', 10);
      set(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      set(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultTemplate(spec);
      return;
    case 'apps/daemonsets':
      if (!spec) return;
      set(spec, 'revisionHistoryLimit', 10);
      set(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      defaultTemplate(spec);
      return;
    case 'apiextensions.k8s.io/customresourcedefinitions': {
      if (old || !spec) return;
      const storage = (Array.isArray(spec.versions) ? spec.versions : []).find((v: Obj) => v?.storage === true);
      obj.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage.name] : [] };
      return;
    }
    case 'batch/jobs':
      if (!spec) return;
      set(spec, 'backoffLimit', 6);
      set(spec, 'completions', 1);
      set(spec, 'parallelism', 1);
      set(spec, 'completionMode', 'NonIndexed');
      set(spec, 'suspend', false);
      set(spec, 'podReplacementPolicy', isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
      if (!old && spec.manualSelector !== true) {
        spec.manualSelector = false;
        // The server generates the Job's selector from its uid and labels the template with it.
        const uid = obj.metadata.uid;
        const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': obj.metadata.name, 'controller-uid': uid, 'job-name': obj.metadata.name };
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        if (isObj(spec.template)) {
          spec.template.metadata = isObj(spec.template.metadata) ? spec.template.metadata : {};
          spec.template.metadata.labels = { ...(spec.template.metadata.labels ?? {}), ...labels };
        }
      }
      // A Job without labels of its own gets its template's.
      if (Object.keys(obj.metadata.labels ?? {}).length === 0 && Object.keys(spec.template?.metadata?.labels ?? {}).length > 0) obj.metadata.labels = { ...spec.template.metadata.labels };
      defaultTemplate(spec);
      return;
    default:
      return;
  }
}

/** `base` plus 5 random characters from the alphabet the server uses for generateName. */
export function generateName(base: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  let suffix = '';
  for (const b of bytes) suffix += alphabet[b % alphabet.length];
  return `${base}${suffix}`;
}
