// Per-run variations of the Flink manifests, made in typed code: the job image, the
// namespace, the MinIO endpoint and the S3 plugin jar that matches the image's exact
// Flink version (the image's entrypoint exits when the named jar does not exist).
import type { SandboxConfig } from '../config.ts';
import type { KubeObject } from '../kube/kube.ts';

export const FLINK_CONTAINER = 'flink-main-container';
const PLUGIN_ENV = 'ENABLE_BUILT_IN_PLUGINS';

export function s3PluginJar(flinkVersion: string): string {
  return `flink-s3-fs-presto-${flinkVersion}.jar`;
}

export function minioEndpointFor(cfg: SandboxConfig): string {
  return `http://minio.${cfg.namespaces.minio}.svc.cluster.local:9000`;
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
}

/**
 * Returns a copy of a FlinkDeployment with this sandbox's image, namespace, endpoint and plugin
 * jar; with `--with ui`, the `spec.ingress` of manifests/flink/ingress-patch.yaml (pass it in).
 */
export function renderFlinkDeployment(template: KubeObject, cfg: SandboxConfig, image: string, ingressPatch?: KubeObject): KubeObject {
  const fd = structuredClone(template);
  if (cfg.with.includes('ui') && ingressPatch?.spec?.ingress) fd.spec.ingress = structuredClone(ingressPatch.spec.ingress);
  fd.metadata.namespace = cfg.namespaces.job;
  fd.spec.image = image;
  const conf = (fd.spec.flinkConfiguration ??= {}) as Record<string, string>;
  if ('s3.endpoint' in conf) conf['s3.endpoint'] = minioEndpointFor(cfg);
  const containers = (fd.spec.podTemplate?.spec?.containers ?? []) as Container[];
  for (const c of containers) {
    for (const e of c.env ?? []) if (e.name === PLUGIN_ENV) e.value = s3PluginJar(cfg.components.flink.version);
  }
  return fd;
}
