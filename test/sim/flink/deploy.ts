// What the Flink operator's native-Kubernetes client creates for a FlinkDeployment in application
// mode: the JobManager Deployment `<name>` (labels app=<name>, component=jobmanager,
// type=flink-native-kubernetes; container flink-main-container with the podTemplate and image),
// the `flink-config-<name>` ConfigMap (config.yaml + log4j-console.properties, which the
// simulated JobManager and TaskManagers read), the `pod-template-<name>` ConfigMap with the
// TaskManager pod template, the Services `<name>-rest` (8081) and `<name>` (RPC), and the Ingress
// when spec.ingress is set. Companions are owned by the JobManager Deployment, which is owned by
// the FlinkDeployment.
import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../api-client.ts';
import { flattenConf, parseMemoryMiB, type FlinkConf } from './config.ts';

export const FLINK_GROUP = '/apis/flink.apache.org/v1beta1';
/** The JobManager annotation with the deployed FlinkDeployment generation (FlinkUtils.CR_GENERATION_LABEL). */
export const GENERATION_ANNOTATION = 'flinkdeployment.flink.apache.org/generation';

export function jmLabels(name: string): Record<string, string> {
  return { app: name, component: 'jobmanager', type: 'flink-native-kubernetes' };
}

export interface DeployPlan {
  jobId: string;
  /** `execution.savepoint.path`: the savepoint the new job starts from. */
  savepointPath?: string;
}

// Flink's own default console logging, used when the FlinkDeployment brings none.
const DEFAULT_LOG4J = [
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.console.ref = ConsoleAppender',
  'appender.console.name = ConsoleAppender',
  'appender.console.type = CONSOLE',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n',
  '',
].join('\n');

type Named = { name?: string; [k: string]: unknown };

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The operator's pod template merge: maps deeply, lists of named items by name, other lists replaced. */
export function mergeTemplates(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (base === undefined) return structuredClone(over);
  if (isPlain(base) && isPlain(over)) {
    const out: Record<string, unknown> = { ...structuredClone(base) };
    for (const [k, v] of Object.entries(over)) out[k] = mergeTemplates(base[k], v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over) && [...base, ...over].every((x) => isPlain(x) && typeof x.name === 'string')) {
    const out = (base as Named[]).map((b) => {
      const o = (over as Named[]).find((x) => x.name === b.name);
      return o ? (mergeTemplates(b, o) as Named) : structuredClone(b);
    });
    for (const o of over as Named[]) if (!out.some((x) => x.name === o.name)) out.push(structuredClone(o));
    return out;
  }
  return structuredClone(over);
}

/** The configuration the JobManager gets: the user's flinkConfiguration plus what the operator sets. */
export function effectiveConf(fd: KubeObject, plan: DeployPlan): FlinkConf {
  const spec = fd.spec ?? {};
  const name = fd.metadata.name!;
  const conf = flattenConf(spec.flinkConfiguration ?? {});
  const sa = (spec.serviceAccount as string | undefined) ?? 'default';
  const set = (k: string, v: unknown): void => {
    if (v !== undefined && v !== null && v !== '') conf[k] = String(v);
  };
  set('kubernetes.cluster-id', name);
  set('kubernetes.namespace', fd.metadata.namespace);
  set('execution.target', 'kubernetes-application');
  set('kubernetes.container.image.ref', spec.image);
  set('kubernetes.container.image.pull-policy', spec.imagePullPolicy);
  set('kubernetes.service-account', sa);
  set('kubernetes.jobmanager.service-account', sa);
  set('kubernetes.taskmanager.service-account', sa);
  set('kubernetes.rest-service.exposed.type', 'ClusterIP');
  set('jobmanager.memory.process.size', spec.jobManager?.resource?.memory);
  set('kubernetes.jobmanager.cpu.amount', spec.jobManager?.resource?.cpu);
  set('kubernetes.jobmanager.replicas', spec.jobManager?.replicas);
  set('taskmanager.memory.process.size', spec.taskManager?.resource?.memory);
  set('kubernetes.taskmanager.cpu.amount', spec.taskManager?.resource?.cpu);
  set('kubernetes.pod-template-file.taskmanager', '/opt/flink/pod-template/taskmanager-pod-template.yaml');
  set('kubernetes.jobmanager.owner.reference', `apiVersion:${fd.apiVersion},kind:${fd.kind},name:${name},uid:${fd.metadata.uid},controller:false,blockOwnerDeletion:true`);
  const job = spec.job;
  if (job) {
    set('pipeline.jars', job.jarURI);
    set('$internal.application.main', job.entryClass);
    set('$internal.application.program-args', ((job.args ?? []) as string[]).join(';'));
    set('parallelism.default', job.parallelism);
    set('$internal.pipeline.job-id', plan.jobId);
    set('execution.savepoint.path', plan.savepointPath);
    if (job.allowNonRestoredState !== undefined) set('execution.savepoint.ignore-unclaimed-state', job.allowNonRestoredState);
    set('execution.shutdown-on-application-finish', false);
    set('execution.submit-failed-job-on-application-error', true);
  }
  return conf;
}

function resources(memory: string | undefined, cpu: unknown, defaultMiB: number, defaultCpu: number): Record<string, unknown> {
  const mem = `${Math.round(parseMemoryMiB(memory) ?? defaultMiB)}Mi`;
  const c = String(cpu ?? defaultCpu);
  return { requests: { cpu: c, memory: mem }, limits: { cpu: c, memory: mem } };
}

function owned(owner: KubeObject): KubeObject['metadata']['ownerReferences'] {
  return [{ apiVersion: owner.apiVersion ?? 'apps/v1', kind: owner.kind ?? 'Deployment', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }];
}

/**
 * The JobManager Deployment; `generation` is the FlinkDeployment generation being deployed, which
 * the operator passes as a JobManager annotation (FlinkUtils.setGenerationAnnotation) so that a
 * later operator process can tell an upgrade that went through from one that did not.
 */
export function jobManagerDeployment(fd: KubeObject, generation?: number): KubeObject {
  const spec = fd.spec ?? {};
  const name = fd.metadata.name!;
  const labels = jmLabels(name);
  const tpl = (mergeTemplates(spec.podTemplate, spec.jobManager?.podTemplate) ?? {}) as KubeObject;
  const tplContainers = (tpl.spec?.containers ?? []) as Named[];
  const main = tplContainers.find((c) => c.name === 'flink-main-container') ?? {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: fd.metadata.namespace,
      labels,
      ...(generation !== undefined ? { annotations: { [GENERATION_ANNOTATION]: String(generation) } } : {}),
      ownerReferences: [{ apiVersion: fd.apiVersion!, kind: fd.kind!, name, uid: fd.metadata.uid!, controller: false, blockOwnerDeletion: true }],
    },
    spec: {
      replicas: (spec.jobManager?.replicas as number | undefined) ?? 1,
      selector: { matchLabels: labels },
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: { ...(tpl.metadata?.labels ?? {}), ...labels }, ...(tpl.metadata?.annotations ? { annotations: tpl.metadata.annotations } : {}) },
        spec: {
          ...(tpl.spec ?? {}),
          serviceAccountName: (spec.serviceAccount as string | undefined) ?? 'default',
          containers: [
            {
              ...main,
              name: 'flink-main-container',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
              command: ['/docker-entrypoint.sh'],
              args: ['kubernetes-jobmanager.sh', 'kubernetes-application'],
              ports: [
                { name: 'rest', containerPort: 8081, protocol: 'TCP' },
                { name: 'jobmanager-rpc', containerPort: 6123, protocol: 'TCP' },
                { name: 'blobserver', containerPort: 6124, protocol: 'TCP' },
              ],
              resources: resources(spec.jobManager?.resource?.memory, spec.jobManager?.resource?.cpu, 1600, 1),
              env: [...((main.env as unknown[] | undefined) ?? []), { name: '_POD_IP_ADDRESS', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }],
              volumeMounts: [
                ...((main.volumeMounts as unknown[] | undefined) ?? []),
                { name: 'flink-config-volume', mountPath: '/opt/flink/conf' },
                { name: 'pod-template-volume', mountPath: '/opt/flink/pod-template' },
              ],
            },
            ...tplContainers.filter((c) => c.name !== 'flink-main-container'),
          ],
          volumes: [
            ...((tpl.spec?.volumes as unknown[] | undefined) ?? []),
            { name: 'flink-config-volume', configMap: { name: `flink-config-${name}` } },
            { name: 'pod-template-volume', configMap: { name: `pod-template-${name}` } },
          ],
        },
      },
    },
  };
}

/** ConfigMaps, Services and Ingress of a cluster, owned by its JobManager Deployment. */
export function companions(fd: KubeObject, jm: KubeObject, plan: DeployPlan): KubeObject[] {
  const spec = fd.spec ?? {};
  const name = fd.metadata.name!;
  const ns = fd.metadata.namespace;
  const labels = { app: name, type: 'flink-native-kubernetes' };
  const tmTemplate = (mergeTemplates(spec.podTemplate, spec.taskManager?.podTemplate) ?? {}) as Record<string, unknown>;
  const meta = (n: string): KubeObject['metadata'] => ({ name: n, namespace: ns, labels, ownerReferences: owned(jm) });
  const log4j = (spec.logConfiguration as Record<string, string> | undefined)?.['log4j-console.properties'] ?? DEFAULT_LOG4J;
  const out: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`flink-config-${name}`), data: { 'config.yaml': toYaml(effectiveConf(fd, plan)), 'log4j-console.properties': log4j } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`pod-template-${name}`), data: { 'taskmanager-pod-template.yaml': toYaml({ apiVersion: 'v1', kind: 'Pod', ...tmTemplate }) } },
    { apiVersion: 'v1', kind: 'Service', metadata: meta(`${name}-rest`), spec: { type: 'ClusterIP', selector: jmLabels(name), ports: [{ name: 'rest', port: 8081, protocol: 'TCP', targetPort: 8081 }] } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { type: 'ClusterIP', clusterIP: 'None', selector: jmLabels(name), ports: [{ name: 'jobmanager-rpc', port: 6123, protocol: 'TCP', targetPort: 6123 }, { name: 'blobserver', port: 6124, protocol: 'TCP', targetPort: 6124 }] },
    },
  ];
  const ingress = spec.ingress as { template?: string; className?: string; annotations?: Record<string, string> } | undefined;
  if (ingress?.template) {
    const rendered = ingress.template.replaceAll('{{name}}', name).replaceAll('{{namespace}}', ns ?? 'default');
    const slash = rendered.indexOf('/');
    const host = slash < 0 ? rendered : rendered.slice(0, slash);
    const path = slash < 0 ? '/' : rendered.slice(slash);
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { ...meta(name), ...(ingress.annotations ? { annotations: ingress.annotations } : {}) },
      spec: {
        ...(ingress.className ? { ingressClassName: ingress.className } : {}),
        rules: [{ ...(host ? { host } : {}), http: { paths: [{ path, pathType: 'ImplementationSpecific', backend: { service: { name: `${name}-rest`, port: { number: 8081 } } } }] } }],
      },
    });
  }
  return out;
}
