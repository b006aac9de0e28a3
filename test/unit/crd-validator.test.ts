// The CRD validator against the real upstream CRDs (test/fixtures/crds) and against a
// small synthetic CRD that exercises the schema extensions none of those CRDs use.
import { describe, expect, it } from 'vitest';
import { crdFixtureDir } from '../fixtures/crds/location.ts';
import { compileCrdValidator, loadCrdsFromDir, validatorForKind } from '../sim/api/crd-validator.ts';


function flinkDeployment(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      image: 'flink-sandbox/hello-job:dev',
      flinkVersion: 'v1_20',
      serviceAccount: 'flink',
      flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' },
      jobManager: { resource: { memory: '1024m', cpu: 0.5 } },
      taskManager: { resource: { memory: '1024m', cpu: 0.5 } },
      podTemplate: {
        spec: {
          containers: [{ name: 'flink-main-container', env: [{ name: 'ENABLE_BUILT_IN_PLUGINS', value: 'x.jar' }] }],
        },
      },
      job: { jarURI: 'local:///opt/flink/usrlib/hello-job.jar', parallelism: 2, upgradeMode: 'savepoint', state: 'running' },
      ...spec,
    },
  };
}

describe('validating against the real CRDs', () => {
  const crds = loadCrdsFromDir(crdFixtureDir());
  const flink = (): ((o: object) => string[]) => {
    const v = validatorForKind(crds, 'flink.apache.org/v1beta1', 'FlinkDeployment');
    if (!v) throw new Error('FlinkDeployment CRD not found');
    return v;
  };

  it('loads every CRD from the multi-document files', () => {
    const kinds = crds.map((c) => (c as { spec: { names: { kind: string } } }).spec.names.kind);
    expect(kinds).toEqual(expect.arrayContaining(['FlinkDeployment', 'FlinkStateSnapshot', 'Elasticsearch', 'Kibana', 'Logging', 'Flow', 'Issuer']));
  });

  it('accepts a valid FlinkDeployment', () => {
    expect(flink()(flinkDeployment())).toEqual([]);
  });

  it('rejects an undeclared spec field, naming it', () => {
    expect(flink()(flinkDeployment({ foo: 1 }))).toEqual(['.spec.foo: field not declared in schema']);
  });

  it('rejects undeclared fields deep inside the pod template, with array indices in the path', () => {
    const fd = flinkDeployment({
      podTemplate: { spec: { containers: [{ name: 'flink-main-container', evn: [] }] } },
    });
    expect(flink()(fd)).toEqual(['.spec.podTemplate.spec.containers[0].evn: field not declared in schema']);
  });

  it('rejects a value outside an enum, listing the supported values', () => {
    const errors = flink()(flinkDeployment({ job: { jarURI: 'local:///x.jar', upgradeMode: 'bogus' } }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\.spec\.job\.upgradeMode: Unsupported value: "bogus": supported values: .*"savepoint"/);
  });

  it('rejects a wrong type', () => {
    const errors = flink()(flinkDeployment({ job: { jarURI: 'local:///x.jar', parallelism: 'two' } }));
    expect(errors).toEqual(['.spec.job.parallelism: Invalid value: "two": must be of type integer']);
  });

  it('accepts anything under x-kubernetes-preserve-unknown-fields', () => {
    const fd = flinkDeployment({ flinkConfiguration: { anything: { nested: [1, true] }, 'a.b': 3 } });
    expect(flink()(fd)).toEqual([]);
    const es = validatorForKind(crds, 'elasticsearch.k8s.elastic.co/v1', 'Elasticsearch');
    const doc = {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: 'quickstart' },
      spec: { version: '8.19.0', nodeSets: [{ name: 'default', count: 1, config: { 'node.store.allow_mmap': false }, podTemplate: { made: { up: 1 } } }] },
    };
    expect(es?.(doc)).toEqual([]);
  });

  it('reports a missing required field', () => {
    const es = validatorForKind(crds, 'elasticsearch.k8s.elastic.co/v1', 'Elasticsearch');
    const doc = { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', metadata: { name: 'q' }, spec: { nodeSets: [{ name: 'default', count: 1 }] } };
    expect(es?.(doc)).toEqual(['.spec.version: Required value']);
  });

  it('refuses a version the CRD does not serve and a kind from another CRD', () => {
    const v = flink();
    expect(v({ ...flinkDeployment(), apiVersion: 'flink.apache.org/v9' })[0]).toMatch(/^\.apiVersion: .*serves flink\.apache\.org\/v1beta1/);
    expect(v({ ...flinkDeployment(), kind: 'FlinkSessionJob' })[0]).toMatch(/^\.kind: /);
  });

  it('returns undefined for kinds no CRD defines', () => {
    expect(validatorForKind(crds, 'apps/v1', 'Deployment')).toBeUndefined();
    expect(validatorForKind(crds, 'flink.apache.org/v1beta1', 'Nope')).toBeUndefined();
  });
});

// A CRD written for this test: every extension the validator honours, in one schema.
const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { kind: 'Widget', plural: 'widgets' },
    scope: 'Namespaced',
    versions: [
      { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size', 'mode'],
                properties: {
                  size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  mode: { type: 'string', default: 'fast', enum: ['fast', 'slow'] },
                  note: { type: 'string', nullable: true, pattern: '^[a-z]+$' },
                  ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 },
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  anything: { type: 'object', additionalProperties: true },
                  empty: { type: 'object' },
                  tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                  template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

describe('schema extensions', () => {
  const validate = compileCrdValidator(widgetCrd);
  const widget = (spec: Record<string, unknown>): object => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec });

  it('accepts integers and strings for int-or-string, nothing else', () => {
    expect(validate(widget({ size: 3 }))).toEqual([]);
    expect(validate(widget({ size: '3Gi' }))).toEqual([]);
    expect(validate(widget({ size: true }))).toEqual(['.spec.size: Invalid value: true: must be of type integer or string']);
  });

  it('treats a required field with a default as present (defaulting runs first)', () => {
    expect(validate(widget({}))).toEqual(['.spec.size: Required value']);
  });

  it('accepts null for a nullable field and checks its pattern otherwise', () => {
    expect(validate(widget({ size: 1, note: null }))).toEqual([]);
    expect(validate(widget({ size: 1, note: 'Bad!' }))).toEqual([".spec.note: Invalid value: \"Bad!\": should match '^[a-z]+$'"]);
  });

  it('translates OpenAPI boolean exclusiveMinimum', () => {
    expect(validate(widget({ size: 1, ratio: 0.5 }))).toEqual([]);
    expect(validate(widget({ size: 1, ratio: 0 }))).toHaveLength(1);
    expect(validate(widget({ size: 1, ratio: 2 }))[0]).toMatch(/^\.spec\.ratio: Invalid value: 2: /);
  });

  it('validates map values by the additionalProperties schema, and allows anything with true', () => {
    expect(validate(widget({ size: 1, labels: { a: 'b' }, anything: { x: [1] } }))).toEqual([]);
    expect(validate(widget({ size: 1, labels: { a: 1 } }))).toEqual(['.spec.labels.a: Invalid value: 1: must be of type string']);
  });

  it('closes an object declared without properties', () => {
    expect(validate(widget({ size: 1, empty: {} }))).toEqual([]);
    expect(validate(widget({ size: 1, empty: { x: 1 } }))).toEqual(['.spec.empty.x: field not declared in schema']);
  });

  it('reports duplicates in a set list', () => {
    expect(validate(widget({ size: 1, tags: ['a', 'b', 'a'] }))[0]).toMatch(/^\.spec\.tags\[\d\]: Duplicate value: "a"/);
  });

  it('allows apiVersion, kind and metadata in an embedded resource, but nothing else undeclared', () => {
    const template = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { free: { form: 1 } } };
    expect(validate(widget({ size: 1, template }))).toEqual([]);
    expect(validate(widget({ size: 1, template: { ...template, status: {} } }))).toEqual(['.spec.template.status: field not declared in schema']);
  });

  it('rejects undeclared top-level fields but not apiVersion/kind/metadata', () => {
    expect(validate({ ...widget({ size: 1 }), extra: 1 } as object)).toEqual(['.extra: field not declared in schema']);
  });

  it('refuses versions that are not served', () => {
    expect(validate({ apiVersion: 'example.com/v1alpha1', kind: 'Widget', spec: {} })[0]).toMatch(/^\.apiVersion: .*serves example\.com\/v1$/);
  });
});

// The validator checks each object against the part of the schema its data reaches; this proves
// that part gives the messages the whole schema gives, in the same order, valid or not.
describe('checking against the part of the schema the data reaches', () => {
  const crds = loadCrdsFromDir(crdFixtureDir());
  const crdOf = (kind: string): object => crds.find((c) => (c as { spec: { names: { kind: string } } }).spec.names.kind === kind)!;
  const flow = (spec: Record<string, unknown>): object => ({ apiVersion: 'logging.banzaicloud.io/v1beta1', kind: 'Flow', metadata: { name: 'f' }, spec });
  const issuer = (spec: Record<string, unknown>): object => ({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'i' }, spec });
  const widget = (spec: Record<string, unknown>): object => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec });
  const cases: [string, object, object[]][] = [
    [
      'Flow',
      crdOf('Flow'),
      [
        flow({ filters: [{ tag_normaliser: {} }, { parser: { remove_key_name_field: true, parse: { type: 'json', time_key: '@timestamp' } } }], match: [{ select: { labels: { component: 'jobmanager' } } }], globalOutputRefs: ['es-output'] }),
        flow({ filters: [{ tag_normaliser: { x: 1 } }, { parser: { parse: { type: 7, nope: true } } }], match: [{ select: { labels: { a: 1 } } }, { exclude: 'x' }], globalOutputRefs: 'es-output', extra: {} }),
        flow({ match: [], filters: [{}, { unknownFilter: {} }], localOutputRefs: [1, 'a', null] }),
        // Elements with different fields, in another order than the schema's, each with an error.
        flow({ filters: [{ record_modifier: { x: 1 } }, { tag_normaliser: { y: 2 }, parser: 3 }, { grep: 'g', concat: [] }] }),
        { ...flow({}), status: { active: 'yes', problems: [1], problemsCount: '2' } },
      ],
    ],
    [
      'Issuer',
      crdOf('Issuer'),
      [
        issuer({ selfSigned: {} }),
        issuer({ ca: { secretName: 1, crlDistributionPoints: 'x' }, selfSigned: { crlDistributionPoints: [1] }, acme: { server: 'x' } }),
        issuer({ vault: { server: 'https://v', path: 'p', auth: { kubernetes: { role: 'r', mountPath: 3, secretRef: { name: 'n' } } } }, venafi: {} }),
      ],
    ],
    [
      'Widget',
      widgetCrd,
      [
        widget({ size: 1 }),
        widget({ size: true, mode: 'medium', note: 'ABC', ratio: 0, labels: { a: 'x', b: 2, c: null }, tags: ['a', 'a', 3], empty: { x: 1 } }),
        widget({ size: '1', template: { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { free: 1 }, status: {} }, anything: { deep: { er: [1] } } }),
        { ...widget({ size: 1 }), extra: 1 },
      ],
    ],
  ];
  it.each(cases)('gives the whole schema\'s messages for %s objects', (_, crd, objects) => {
    const part = compileCrdValidator(crd);
    const whole = compileCrdValidator(crd, { wholeSchema: true });
    let invalid = 0;
    for (const o of objects) {
      const expected = whole(o);
      if (expected.length > 0) invalid++;
      expect(part(o), JSON.stringify(o)).toEqual(expected);
    }
    expect(invalid).toBeGreaterThanOrEqual(2);
  });
});
