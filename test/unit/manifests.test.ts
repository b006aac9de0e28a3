// The shipped manifests: they parse, every custom resource is accepted by the real CRD schemas
// (strict: unknown fields rejected), no credentials are written in plain text, and the pins that
// must agree across files (Flink version, log configuration) do.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { crdFixtureDir } from '../fixtures/crds/location.ts';
import { loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifestsDir = path.join(repoRoot, 'manifests');

type Doc = Record<string, unknown>;
interface Loaded {
  file: string;
  docs: Doc[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.relative(manifestsDir, path.join(e.parentPath, e.name)))
    .sort();
}

function load(file: string): Loaded {
  const parsed = parseAllDocuments(readFileSync(path.join(manifestsDir, file), 'utf8'));
  const docs: Doc[] = [];
  for (const d of parsed) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
    const v: unknown = d.toJS();
    if (v !== null && v !== undefined) docs.push(v as Doc);
  }
  return { file, docs };
}

const files = yamlFiles(manifestsDir);
const resources = (): { file: string; doc: Doc }[] =>
  files.flatMap((f) => load(f).docs.filter((d) => typeof d.kind === 'string').map((doc) => ({ file: f, doc })));
const named = (file: string): Doc => {
  const doc = load(file).docs[0];
  if (!doc) throw new Error(`${file} is empty`);
  return doc;
};

// Groups whose kinds come from CRDs: a resource of these groups without a CRD is a mistake.
const CRD_GROUPS = ['flink.apache.org', 'cert-manager.io', 'elasticsearch.k8s.elastic.co', 'kibana.k8s.elastic.co', 'logging.banzaicloud.io'];
const EXPECTED_KINDS = ['FlinkDeployment', 'FlinkStateSnapshot', 'Elasticsearch', 'Kibana', 'Logging', 'FluentbitAgent', 'ClusterOutput', 'Flow', 'Issuer', 'Certificate'];

describe('manifest files', () => {
  it('are all valid YAML, one folder per component', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(() => load(f), f).not.toThrow();
    const folders = new Set(files.map((f) => f.split(path.sep)[0]));
    expect([...folders].sort()).toEqual(['cert-manager', 'eck', 'flink', 'flink-operator', 'logging', 'minio', 'ui']);
  });

  it('contain no plain-text credentials', () => {
    for (const f of files) {
      const text = readFileSync(path.join(manifestsDir, f), 'utf8');
      expect(text, f).not.toMatch(/minio123/);
      expect(text, f).not.toMatch(/^\s*s3\.(secret|access)[.-]key\s*:/m);
      expect(text, f).not.toMatch(/MINIO_ROOT_PASSWORD\s*\n\s*value:/);
    }
    for (const { file, doc } of resources()) {
      for (const env of envVars(doc)) {
        if (/KEY|PASSWORD|SECRET|USER/.test(env.name) && env.name !== 'ENABLE_BUILT_IN_PLUGINS') {
          expect(env.value, `${file}: ${env.name} must come from a Secret`).toBeUndefined();
          expect(env.valueFrom, `${file}: ${env.name}`).toBeDefined();
        }
      }
    }
  });

  it('read MinIO credentials only from the Secret minio-credentials, keys accessKey/secretKey', () => {
    const refs = resources().flatMap(({ doc }) => envVars(doc)).map((e) => e.valueFrom?.secretKeyRef).filter((r) => r?.name === 'minio-credentials');
    expect(refs.length).toBeGreaterThanOrEqual(6);
    for (const r of refs) expect(['accessKey', 'secretKey']).toContain(r?.key);
  });

  it('name the S3 plugin jar of the exact Flink version the job Dockerfile pins', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'job', 'Dockerfile'), 'utf8');
    const flinkVersion = /^ARG FLINK_VERSION=(\d+\.\d+\.\d+)\s*$/m.exec(dockerfile)?.[1];
    expect(flinkVersion).toMatch(/^1\.20\.\d+$/);
    const pom = readFileSync(path.join(repoRoot, 'job', 'pom.xml'), 'utf8');
    expect(/<flink\.version>([^<]+)<\/flink\.version>/.exec(pom)?.[1]).toBe(flinkVersion);
    const plugins = resources()
      .flatMap(({ doc }) => envVars(doc))
      .filter((e) => e.name === 'ENABLE_BUILT_IN_PLUGINS')
      .map((e) => e.value);
    expect(plugins).toEqual(['flink-s3-fs-presto-' + flinkVersion + '.jar']);
  });

  it('carry job/conf/log4j-console.properties verbatim as the log configuration', () => {
    const expected = readFileSync(path.join(repoRoot, 'job', 'conf', 'log4j-console.properties'), 'utf8');
    expect(expected).toMatch(/layout\.type = JsonTemplateLayout/);
    expect(expected).toMatch(/eventTemplateUri = classpath:EcsLayout\.json/);
    for (const f of ['flink/hello-ha.yaml', 'flink/hello-no-ha.yaml']) {
      const spec = named(f).spec as { logConfiguration?: Record<string, string> };
      expect(spec.logConfiguration?.['log4j-console.properties'], f).toBe(expected);
    }
  });

  it('keep the HA variant stateful and the negative control stateless', () => {
    const ha = named('flink/hello-ha.yaml').spec as FlinkSpec;
    expect(ha.job.upgradeMode).toBe('savepoint');
    expect(ha.flinkConfiguration['high-availability.type']).toBe('kubernetes');
    for (const key of ['state.checkpoints.dir', 'state.savepoints.dir', 'high-availability.storageDir']) {
      expect(ha.flinkConfiguration[key], key).toMatch(/^s3:\/\/flink-data\//);
    }
    const noHa = named('flink/hello-no-ha.yaml').spec as FlinkSpec;
    expect(noHa.job.upgradeMode).toBe('stateless');
    expect(Object.keys(noHa.flinkConfiguration).filter((k) => /high-availability|checkpoint|savepoint/.test(k))).toEqual([]);
    expect((named('flink/savepoint.yaml').spec as { jobReference: { name: string } }).jobReference.name).toBe('hello-ha');
  });
});

describe('custom resources against the real CRDs', () => {
  const crds = loadCrdsFromDir(crdFixtureDir());

  it('every custom resource in manifests/ is accepted, unknown fields rejected', () => {
    const seen = new Set<string>();
    for (const { file, doc } of resources()) {
      const apiVersion = String(doc.apiVersion);
      const kind = String(doc.kind);
      const validate = validatorForKind(crds, apiVersion, kind);
      if (!validate) {
        expect(CRD_GROUPS, `${file}: ${kind} has no CRD`).not.toContain(apiVersion.split('/')[0]);
        continue;
      }
      expect(validate(doc), `${file}: ${kind}`).toEqual([]);
      seen.add(kind);
    }
    expect([...seen].sort()).toEqual([...EXPECTED_KINDS].sort());
  });

  it('the FlinkDeployment with the ingress patch merged is accepted too', () => {
    const base = named('flink/hello-ha.yaml');
    const patch = parseYaml(readFileSync(path.join(manifestsDir, 'flink', 'ingress-patch.yaml'), 'utf8')) as { spec: Doc };
    const merged = { ...base, spec: { ...(base.spec as Doc), ...patch.spec } };
    const validate = validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkDeployment');
    expect(validate?.(merged)).toEqual([]);
  });

  it('would catch a typo in a manifest (the check is not vacuous)', () => {
    const base = named('flink/hello-ha.yaml');
    const broken = { ...base, spec: { ...(base.spec as Doc), job: { ...((base.spec as Doc).job as Doc), upgradMode: 'savepoint' } } };
    const validate = validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkDeployment');
    expect(validate?.(broken)).toEqual(['.spec.job.upgradMode: field not declared in schema']);
  });
});

interface FlinkSpec {
  flinkConfiguration: Record<string, string>;
  job: { upgradeMode: string };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

/** Every container env entry anywhere in a resource (Deployments, Jobs, pod templates). */
function envVars(node: unknown): EnvVar[] {
  if (Array.isArray(node)) return node.flatMap(envVars);
  if (node === null || typeof node !== 'object') return [];
  const obj = node as Record<string, unknown>;
  const own = Array.isArray(obj.env) ? (obj.env as EnvVar[]) : [];
  return [...own, ...Object.entries(obj).filter(([k]) => k !== 'env').flatMap(([, v]) => envVars(v))];
}
