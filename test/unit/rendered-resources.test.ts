// What the CLI renders in typed code from the manifests (per-run image, namespace, endpoint,
// plugin jar, the UI ingress; the Logging's control namespace) still validates against the
// real CRDs, for the default config and for one that moves every namespace.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../scripts/lib/config.ts';
import { renderFlinkDeployment, s3PluginJar } from '../../scripts/lib/flink/deployment.ts';
import { inNamespace, loadManifest, loadPatch } from '../../scripts/steps/kit.ts';
import { crdFixtureDir } from '../fixtures/crds/location.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';


describe('rendered custom resources validate against the CRDs', () => {
  const crds = loadCrdsFromDir(crdFixtureDir());
  const validate = (o: { apiVersion: string; kind: string }): string[] => {
    const v = validatorForKind(crds, o.apiVersion, o.kind);
    expect(v, `${o.kind} has a CRD`).toBeDefined();
    return v!(o);
  };

  for (const moved of [false, true]) {
    it(`FlinkDeployments, with the UI ingress${moved ? ', in moved namespaces' : ''}`, async () => {
      const cfg = await loadConfig({ with: ['ui'] });
      if (moved) Object.assign(cfg.namespaces, { job: 'jobs', minio: 'storage', logging: 'obs' });
      const ingress = await loadPatch('flink/ingress-patch.yaml');
      for (const file of ['flink/hello-ha.yaml', 'flink/hello-no-ha.yaml']) {
        const [template] = await loadManifest(file);
        const fd = renderFlinkDeployment(template!, cfg, 'flink-sandbox/hello-job:0123456789ab', ingress);
        expect(validate(fd), file).toEqual([]);
        expect(fd.metadata.namespace).toBe(cfg.namespaces.job);
        expect(fd.spec.image).toBe('flink-sandbox/hello-job:0123456789ab');
        expect(fd.spec.ingress.className).toBe('nginx');
        const env = (fd.spec.podTemplate?.spec?.containers?.[0]?.env ?? []) as Array<{ name: string; value?: string }>;
        const plugins = env.find((e) => e.name === 'ENABLE_BUILT_IN_PLUGINS');
        if (plugins) expect(plugins.value).toBe(s3PluginJar(cfg.components.flink.version));
        if (fd.spec.flinkConfiguration['s3.endpoint']) expect(fd.spec.flinkConfiguration['s3.endpoint']).toBe(`http://minio.${cfg.namespaces.minio}.svc.cluster.local:9000`);
      }
    });
  }

  it('the logging pipeline and the Elastic stack in a moved namespace', async () => {
    const objects = [
      ...(await loadManifest('logging/logging.yaml')).map((o) => (o.kind === 'Logging' ? { ...o, spec: { ...o.spec, controlNamespace: 'obs' } } : o)),
      ...inNamespace(await loadManifest('logging/cluster-output.yaml'), 'obs'),
      ...inNamespace(await loadManifest('logging/flow.yaml'), 'jobs'),
      ...inNamespace([...(await loadManifest('eck/elasticsearch.yaml')), ...(await loadManifest('eck/kibana.yaml'))], 'obs'),
      ...(await loadManifest('cert-manager/readiness-probe.yaml')),
    ];
    for (const o of objects) expect(validate(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
  });
});
