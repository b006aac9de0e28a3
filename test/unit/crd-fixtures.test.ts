// The CRD fixtures in test/fixtures/crds: each names the release pinned in scripts/lib/config.ts,
// none keeps a prose description, and the generator, run as `npm run fixtures:crds` runs it,
// turns a small made-up upstream CRD into exactly the expected schema-only file.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaults } from '../../scripts/lib/config.ts';
import { CRD_FIXTURE_DIR, crdFixtureFile } from '../fixtures/crds/location.ts';
import { crdSources, sourceUrl, type CrdSource } from '../fixtures/crds/sources.ts';

const run = promisify(execFile);

/** The header's `# key: value` lines. */
function header(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^# ([a-z0-9 ]+): (.+)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Paths (a.b.c) of every `description` whose value is text, i.e. prose rather than a field. */
function proseDescriptions(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => proseDescriptions(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === 'description' && typeof v === 'string' ? [`${at}.${k}`] : proseDescriptions(v, `${at}.${k}`)));
}

describe('the CRD fixtures', () => {
  const pins = {
    flinkOperator: defaults.components.flinkOperator.version,
    eck: defaults.components.eck.version,
    loggingOperator: defaults.components.loggingOperator.version,
    certManager: defaults.components.certManager.version,
  };

  it.each(crdSources())('$file names the pinned release of $component and its upstream file', async (src) => {
    const h = header(await readFile(crdFixtureFile(src.file), 'utf8'));
    expect(h.release).toBe(pins[src.component]);
    expect(h.repository).toBe(src.repository);
    expect(h.path).toBe(src.path);
    expect(h.tag).toContain(pins[src.component]);
    expect(h['upstream sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('cover every pinned component, and the download URLs are built from the pins', () => {
    const sources = crdSources();
    expect(new Set(sources.map((s) => s.component))).toEqual(new Set(Object.keys(pins)));
    expect(sources.map(sourceUrl)).toContain(
      `https://raw.githubusercontent.com/apache/flink-kubernetes-operator/release-${pins.flinkOperator}/helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml`,
    );
    // Other pins give other URLs: nothing is hard-wired to today's versions.
    const bumped = crdSources({ ...defaults.components, eck: { ...defaults.components.eck, version: '9.9.9' } });
    expect(bumped.find((s) => s.component === 'eck')).toMatchObject({ tag: 'v9.9.9', release: '9.9.9' });
  });

  it.each(crdSources())('$file holds CustomResourceDefinitions without prose descriptions', async (src) => {
    const docs = parseAllDocuments(await readFile(crdFixtureFile(src.file), 'utf8'));
    const crds = docs.map((d) => d.toJS() as { kind?: string }).filter((o) => o !== null);
    expect(crds.length).toBeGreaterThan(0);
    expect(crds.every((o) => o.kind === 'CustomResourceDefinition')).toBe(true);
    expect(proseDescriptions(crds)).toEqual([]);
  });

  it('a missing fixture fails with the command that regenerates it', () => {
    expect(() => crdFixtureFile('flink-nothing.yaml')).toThrow(/npm run fixtures:crds -- --from <dir>/);
  });
});

describe('the generator (npm run fixtures:crds)', () => {
  const flinkPin = defaults.components.flinkOperator.version;
  const eckPin = defaults.components.eck.version;
  let from: string;
  let out: string;

  // A made-up upstream CRD: descriptions on the schema, on nested and array schemas and on a
  // printer column; a FIELD named `description`; a default that holds a `description` key; and
  // what must survive: enums, defaults, required, formats, patterns, bounds, CEL, x-kubernetes-*.
  const upstream = `# upstream comment, dropped
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size, description: How big it is.}
    schema:
      openAPIV3Schema:
        description: A widget.
        type: object
        properties:
          spec:
            description: |-
              What the widget should be.
              Two lines of prose.
            type: object
            required: [size]
            x-kubernetes-validations:
            - {rule: self.size <= 10, message: too big}
            properties:
              description:
                description: The widget's own description field.
                type: string
                maxLength: 140
              size: {type: integer, format: int32, minimum: 1, maximum: 9223372036854775807, default: 3}
              colour: {type: string, enum: [red, green], pattern: '^[a-z]+$'}
              labels:
                type: object
                additionalProperties: {type: string, description: one label}
                x-kubernetes-map-type: atomic
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  description: one part
                  type: object
                  properties:
                    name: {type: string}
              meta:
                type: object
                default: {description: 'kept, as defaults are data'}
                x-kubernetes-preserve-unknown-fields: true
              port:
                anyOf: [{type: integer}, {type: string, description: a named port}]
                x-kubernetes-int-or-string: true
`;

  const expected = (sha: string): string => `# Generated by \`npm run fixtures:crds\` (test/fixtures/crds/generate.ts); do not edit.
# repository: apache/flink-kubernetes-operator
# path: helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml
# tag: release-${flinkPin}
# release: ${flinkPin}
# upstream sha256: ${sha}
# Schema only: every prose description is stripped; all else is as upstream.
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required:
            - size
            x-kubernetes-validations:
            - rule: self.size <= 10
              message: too big
            properties:
              description:
                type: string
                maxLength: 140
              size:
                type: integer
                format: int32
                minimum: 1
                maximum: 9223372036854775807
                default: 3
              colour:
                type: string
                enum:
                - red
                - green
                pattern: ^[a-z]+$
              labels:
                type: object
                additionalProperties:
                  type: string
                x-kubernetes-map-type: atomic
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys:
                - name
                items:
                  type: object
                  properties:
                    name:
                      type: string
              meta:
                type: object
                default:
                  description: kept, as defaults are data
                x-kubernetes-preserve-unknown-fields: true
              port:
                anyOf:
                - type: integer
                - type: string
                x-kubernetes-int-or-string: true
`;

  beforeAll(async () => {
    from = await mkdtemp(join(tmpdir(), 'crd-upstream-'));
    out = await mkdtemp(join(tmpdir(), 'crd-fixtures-'));
    // The mirror holds the made-up CRD under every fixture name, as a real mirror would hold each upstream file.
    await Promise.all(crdSources().map((s: CrdSource) => writeFile(join(from, s.file), upstream)));
  });

  afterAll(async () => {
    await Promise.all([from, out].map((d) => d && rm(d, { recursive: true, force: true })));
  });

  it('writes the stripped CRD with its header, and a second run changes nothing', async () => {
    const generator = join(CRD_FIXTURE_DIR, 'generate.ts');
    const first = await run(process.execPath, ['--no-warnings', generator, '--from', from, '--out', out]);
    expect(first.stdout.trim().split('\n')).toHaveLength(crdSources().length);
    const text = await readFile(join(out, 'flink-flinkdeployments.yaml'), 'utf8');
    expect(text).toBe(expected(createHash('sha256').update(upstream).digest('hex')));

    await run(process.execPath, ['--no-warnings', generator, '--from', from, '--out', out]);
    expect(await readFile(join(out, 'flink-flinkdeployments.yaml'), 'utf8')).toBe(text);
  });

  it('refuses a file that is not a CRD, and says what the mirror must hold when a file is missing', async () => {
    const generator = join(CRD_FIXTURE_DIR, 'generate.ts');
    await writeFile(join(from, 'eck-all-crds.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await expect(run(process.execPath, ['--no-warnings', generator, '--from', from, '--out', out])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('eck-all-crds.yaml: expected only apiextensions.k8s.io/v1 CustomResourceDefinitions, found v1 ConfigMap'),
    });
    await rm(join(from, 'eck-all-crds.yaml'));
    await expect(run(process.execPath, ['--no-warnings', generator, '--from', from, '--out', out])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`hint: the --from folder must hold elastic/cloud-on-k8s v${eckPin} config/crds/v1/all-crds.yaml as eck-all-crds.yaml`),
    });
  });
});
