// The simulated Flink operator's configuration, read like the real one reads it: the
// `flink-conf.yaml` (or `config.yaml`) of the ConfigMap mounted at /opt/flink/conf in its pod
// (the chart's `flink-operator-config`, built from defaultConfiguration), with the defaults of
// KubernetesOperatorConfigOptions (operator 1.15.0) for keys it does not set. Options the
// operator reads from a resource's observe configuration (e.g. the JobManager shutdown TTL) can
// be overridden per FlinkDeployment in spec.flinkConfiguration under `kubernetes.operator.`.
import type { KubeObject, SimClient } from '../api-client.ts';
import { simMs } from '../time-scale.ts';
import { flattenConf, parseConfYaml, parseDurationMs, type FlinkConf } from './config.ts';

const OPERATOR_CONF_DIR = '/opt/flink/conf';

/** KubernetesOperatorConfigOptions defaults (release-1.15.0), simulated ms. */
const DEFAULTS_MS = {
  'kubernetes.operator.reconcile.interval': 60_000,
  'kubernetes.operator.observer.progress-check.interval': 10_000,
  'kubernetes.operator.observer.rest-ready.delay': 10_000,
  'kubernetes.operator.jm-deployment.shutdown-ttl': 86_400_000,
  'kubernetes.operator.flink.client.cancel.timeout': 60_000,
} as const;

export type OperatorDuration = keyof typeof DEFAULTS_MS;

export interface OperatorConfig {
  /** Every key of the operator's configuration file. */
  readonly conf: FlinkConf;
}

interface ConfigVolume {
  name: string;
  /** The keys projected into the directory; undefined = all of them. */
  items?: { key: string; path: string }[];
}

/** The ConfigMap behind the volume the operator container mounts at /opt/flink/conf. */
function configVolume(workload: KubeObject): ConfigVolume | undefined {
  const spec = workload.spec?.template?.spec ?? {};
  const containers = (spec.containers ?? []) as { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
  const mount = containers.flatMap((c) => c.volumeMounts ?? []).find((m) => m.mountPath === OPERATOR_CONF_DIR);
  const volume = ((spec.volumes ?? []) as { name: string; configMap?: ConfigVolume }[]).find((v) => v.name === mount?.name);
  return volume?.configMap;
}

/** Reads the configuration the operator's pod would start with (defaults only when none is mounted). */
export async function readOperatorConfig(api: SimClient, workload: KubeObject): Promise<OperatorConfig> {
  const volume = configVolume(workload);
  if (!volume) return { conf: {} };
  const cm = await api.get<KubeObject>(`/api/v1/namespaces/${workload.metadata.namespace}/configmaps/${volume.name}`);
  const data = (cm?.data ?? {}) as Record<string, string>;
  // Only the projected keys are files in the directory (the 1.15.0 chart projects flink-conf.yaml).
  const files: Record<string, string> = volume.items ? Object.fromEntries(volume.items.filter((i) => i.key in data).map((i) => [i.path, data[i.key]!])) : data;
  // Flink 1.19+ reads config.yaml when the directory has one, else the legacy flink-conf.yaml.
  return { conf: parseConfYaml(files['config.yaml'] ?? files['flink-conf.yaml']) };
}

/** The operator's configuration overlaid with a deployment's own `kubernetes.operator.*` keys. */
export function observeConf(config: OperatorConfig, fd: KubeObject | undefined): FlinkConf {
  const own = flattenConf(fd?.spec?.flinkConfiguration ?? {});
  return { ...config.conf, ...Object.fromEntries(Object.entries(own).filter(([k]) => k.startsWith('kubernetes.operator.'))) };
}

/** A duration option in simulated ms (the configured value or the operator's default). */
export function durationOption(conf: FlinkConf, key: OperatorDuration): number {
  return parseDurationMs(conf[key]) ?? DEFAULTS_MS[key];
}

/** The same, in wall-clock ms of the scaled simulation. */
export function wallDuration(conf: FlinkConf, key: OperatorDuration): number {
  return simMs(durationOption(conf, key));
}

export function booleanOption(conf: FlinkConf, key: string, fallback: boolean): boolean {
  const v = conf[key];
  return v === undefined ? fallback : v.trim().toLowerCase() === 'true';
}
