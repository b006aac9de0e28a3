// Check-then-act for manifests: a live object holds the desired one when every declared
// field matches; what the server adds does not count. Examples first, then properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsDesired, firstDifference } from '../../scripts/lib/kube/desired.ts';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'minio', namespace: 'minio', labels: { app: 'minio' } },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { name: 'minio', image: 'quay.io/minio/minio:RELEASE.2025', args: ['server', '/data'], ports: [{ containerPort: 9000 }] },
        ],
      },
    },
  },
};

/** The same Deployment as the API server returns it: defaults, status, bookkeeping added. */
const live = {
  ...deployment,
  metadata: { ...deployment.metadata, uid: 'abc', resourceVersion: '42', managedFields: [{ manager: 'sandbox' }], labels: { app: 'minio', extra: 'x' } },
  spec: {
    ...deployment.spec,
    progressDeadlineSeconds: 600,
    template: {
      spec: {
        restartPolicy: 'Always',
        containers: [{ ...deployment.spec.template.spec.containers[0]!, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 9000, protocol: 'TCP' }] }],
      },
    },
  },
  status: { readyReplicas: 1 },
};

describe('containsDesired', () => {
  it('holds when the live object only adds fields the server or controllers set', () => {
    expect(containsDesired(deployment, live)).toBe(true);
    expect(firstDifference(deployment, live)).toBeUndefined();
  });

  it('accepts a number where the server normalised it to a string, but not the other way', () => {
    expect(containsDesired({ memory: 512 }, { memory: '512' })).toBe(true);
    expect(containsDesired({ port: 8080 }, { port: '8080' })).toBe(true);
    expect(containsDesired({ port: '8080' }, { port: 8080 })).toBe(false);
    expect(containsDesired({ memory: 512 }, { memory: '512Mi' })).toBe(false);
    expect(containsDesired({ flag: true }, { flag: 'true' })).toBe(false);
  });

  it('tells null, a missing field and a falsy value apart', () => {
    expect(containsDesired({ a: null }, { a: null })).toBe(true);
    expect(containsDesired({ a: null }, {})).toBe(false);
    expect(containsDesired({ a: 0 }, { a: null })).toBe(false);
    expect(containsDesired({ a: false }, { a: false })).toBe(true);
    expect(containsDesired({}, { anything: 1 })).toBe(true);
  });

  it("counts a zero value the server drops (Go's omitempty) as in place, and only when the field is absent", () => {
    // kube-apiserver returns an env entry's `value: ""` without `value`.
    const env = [{ name: 'HEIMDALL_SERVER', value: '' }];
    expect(containsDesired({ env }, { env: [{ name: 'HEIMDALL_SERVER' }] })).toBe(true);
    for (const zero of ['', false, 0, [], {}]) expect(containsDesired({ a: zero }, {})).toBe(true);
    expect(containsDesired({ a: '' }, { a: 'set' })).toBe(false);
    expect(containsDesired({ a: false }, { a: true })).toBe(false);
    expect(containsDesired({ a: [] }, { a: ['x'] })).toBe(false);
    expect(containsDesired({ a: 'x' }, {})).toBe(false);
    expect(firstDifference({ env: [{ name: 'A', value: '' }] }, { env: [{ name: 'B' }] })).toBe('.env[0].name: want "A", live "B"');
  });

  it('needs lists of the same length, element by element in order', () => {
    expect(containsDesired({ args: ['a', 'b'] }, { args: ['a', 'b'] })).toBe(true);
    expect(containsDesired({ args: ['a', 'b'] }, { args: ['a', 'b', 'c'] })).toBe(false);
    expect(containsDesired({ args: ['a', 'b'] }, { args: ['b', 'a'] })).toBe(false);
    expect(containsDesired({ args: [] }, { args: [] })).toBe(true);
    // Objects inside lists may carry extra fields, like any object.
    expect(containsDesired([{ name: 'x' }], [{ name: 'x', uid: 1 }])).toBe(true);
    // Nested lists.
    expect(containsDesired({ m: [[1, 2], [3]] }, { m: [[1, 2], [3]] })).toBe(true);
    expect(containsDesired({ m: [[1, 2], [3]] }, { m: [[1, 2], [3, 4]] })).toBe(false);
    expect(containsDesired({ m: [[1]] }, { m: [['1']] })).toBe(true);
  });

  it('refuses a shape mismatch: a list for a mapping, a mapping for a list, a scalar for either', () => {
    expect(containsDesired({ a: 1 }, [1])).toBe(false);
    expect(containsDesired([1], { 0: 1, length: 1 })).toBe(false);
    expect(containsDesired({ a: { b: 1 } }, { a: 'b=1' })).toBe(false);
    expect(containsDesired({ a: 1 }, null)).toBe(false);
    expect(containsDesired({ a: 1 }, undefined)).toBe(false);
  });
});

describe('firstDifference', () => {
  it('names the path of a changed scalar with both values', () => {
    const changed = { ...live, spec: { ...live.spec, replicas: 3 } };
    expect(firstDifference(deployment, changed)).toBe('.spec.replicas: want 1, live 3');
  });

  it('indexes into lists, nested ones included', () => {
    const image = structuredClone(live);
    image.spec.template.spec.containers[0]!.image = 'minio:old';
    expect(firstDifference(deployment, image)).toBe('.spec.template.spec.containers[0].image: want "quay.io/minio/minio:RELEASE.2025", live "minio:old"');
    expect(firstDifference({ m: [[1, 2], [3, 5]] }, { m: [[1, 2], [3, 4]] })).toBe('.m[1][1]: want 5, live 4');
  });

  it('reports a list of another length, or no list at all', () => {
    expect(firstDifference({ args: ['a', 'b'] }, { args: ['a'] })).toBe('.args (list of 2, live has 1)');
    expect(firstDifference({ args: ['a'] }, { args: { 0: 'a' } })).toBe('.args (list of 1, live has none)');
    expect(firstDifference(['a'], [])).toBe('. (list of 1, live has 0)');
  });

  it('reports a missing field as live undefined, and the first of several differences in order', () => {
    expect(firstDifference({ metadata: { labels: { app: 'x' } } }, { metadata: {} })).toBe('.metadata.labels: want {"app":"x"}, live undefined');
    expect(firstDifference({ a: 1, b: 2 }, { a: 9, b: 9 })).toBe('.a: want 1, live 9');
    expect(firstDifference(1, 2)).toBe('.: want 1, live 2');
  });

  it('shortens long values to keep the message one line', () => {
    const long = 'x'.repeat(500);
    const msg = firstDifference({ data: long }, { data: 'y' })!;
    expect(msg.length).toBeLessThan(200);
    expect(msg.startsWith('.data: want "xxx')).toBe(true);
  });
});

/** Adds `extra`'s keys to every mapping inside `value`, never replacing a key that is there. */
function withExtras(value: unknown, extra: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => withExtras(v, extra));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  // defineProperty, so that a generated "__proto__" key stays a plain own key.
  const set = (k: string, v: unknown): void => void Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(extra)) set(k, v);
  for (const [k, v] of Object.entries(value)) set(k, withExtras(v, extra));
  return out;
}

describe('containsDesired: properties', () => {
  it('every JSON value contains itself (and a deep copy of itself)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        expect(containsDesired(x, x)).toBe(true);
        expect(containsDesired(x, structuredClone(x))).toBe(true);
        expect(firstDifference(x, structuredClone(x))).toBeUndefined();
      }),
    );
  });

  it('stays true when the live object has extra keys at any depth', () => {
    const mapping = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.jsonValue(), mapping, (x, extra) => {
        expect(containsDesired(x, withExtras(x, extra))).toBe(true);
      }),
    );
  });

  it('fails, with a path, when one more element is appended to a list somewhere', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), (list, added) => {
        const desired = { spec: { items: list } };
        const changed = { spec: { items: [...list, added] } };
        expect(containsDesired(desired, changed)).toBe(false);
        expect(firstDifference(desired, changed)).toBe(`.spec.items (list of ${list.length}, live has ${list.length + 1})`);
      }),
    );
  });

  it('names a path from the root (jq-like, ".a[0]", "[1].b") for any two values that differ', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (a, b) => {
        const diff = firstDifference(a, b);
        if (containsDesired(a, b)) expect(diff).toBeUndefined();
        else expect(diff).toMatch(/^[.[]/);
      }),
    );
  });
});
