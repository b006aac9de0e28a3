import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CRD_FIXTURE_DIR } from '../fixtures/crds/location.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { SandboxError } from '../../scripts/lib/errors.ts';
import { describeRef, parseManifests } from '../../scripts/lib/kube/kube.ts';

describe('parseManifests', () => {
  it('reads every document and skips empty ones', () => {
    const objs = parseManifests(`
# leading comment only
---
apiVersion: v1
kind: Namespace
metadata:
  name: flink
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: flink
spec:
  replicas: 2
---
`);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/flink', 'Deployment/web']);
    expect(objs[1].spec.replicas).toBe(2);
  });

  it('returns nothing for an empty text', () => {
    expect(parseManifests('')).toEqual([]);
    expect(parseManifests('# nothing here\n')).toEqual([]);
  });

  it('refuses a document that is not an object, naming it', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n- just\n- a list\n')).toThrow(/document 2/);
    expect(() => parseManifests('kind: ConfigMap\nmetadata: {name: a}\n')).toThrow(SandboxError);
  });

  it('refuses broken YAML with the parser message', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: [unclosed\n')).toThrow(/invalid YAML in document 1/);
  });

  it('names the first bad document, in order, whether it is broken or not an object', () => {
    expect(() => parseManifests('- a list\n---\nkind: [unclosed\n')).toThrow(/^document 1 is not a Kubernetes object/);
    expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [unclosed\n---\n- a list\n')).toThrow(/^invalid YAML in document 2/);
  });

  // Large texts are read with js-yaml (fast), the rest with yaml: both must give the same objects.
  const yamlReading = (text: string): unknown[] => parseAllDocuments(text as string).map((d) => d.toJS()).filter((v) => v !== null);
  const files = [
    ...readdirSync(CRD_FIXTURE_DIR).filter((f) => f.endsWith('.yaml')).map((f) => join(CRD_FIXTURE_DIR, f)),
    ...readdirSync(join(REPO_ROOT, 'manifests'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(REPO_ROOT, 'manifests', f)),
  ];
  it.each(files.map((f) => [f.slice(REPO_ROOT.length + 1), f]))('reads %s as the yaml library does', (_, file) => {
    const text = readFileSync(file, 'utf8');
    const docs = yamlReading(text);
    const objects = docs.every((d) => d && typeof d === 'object' && 'apiVersion' in d && 'kind' in d && 'metadata' in d);
    // A patch under manifests/ (a fragment, not an object) is refused the same way by both.
    if (objects) expect(parseManifests(text)).toEqual(docs);
    else expect(() => parseManifests(text)).toThrow(/^document \d+ (is not a Kubernetes object|lacks apiVersion, kind or metadata.name)$/);
  });

  it('reads what js-yaml refuses or reads otherwise as the yaml library does', () => {
    const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
    // A YAML 1.1 document: `yes` is true there.
    expect(parseManifests(`%YAML 1.1\n---\n${head}data: {k: yes}\n`)[0].data).toEqual({ k: true });
    // A tag js-yaml does not know, and a complex key.
    expect(parseManifests(`${head}binaryData: {b: !!binary aGVsbG8=}\n`)[0].binaryData.b).toEqual((yamlReading(`b: !!binary aGVsbG8=\n`)[0] as { b: unknown }).b);
    expect(parseManifests(`${head}data:\n  ? [a, b]\n  : c\n`)[0].data).toEqual({ '[ a, b ]': 'c' });
    // YAML 1.2's core schema in both: no timestamps, no merge keys, no 1.1 booleans or octals.
    expect(parseManifests(`${head}data: {d: 2001-12-14, y: yes, o: 0777, x: 0x1f, m: {<<: {k: 1}}}\n`)[0].data).toEqual({ d: '2001-12-14', y: 'yes', o: 777, x: 31, m: { '<<': { k: 1 } } });
  });
});

describe('describeRef', () => {
  it('names namespaced and cluster-scoped objects', () => {
    expect(describeRef({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cert-manager', namespace: 'cert-manager' })).toBe('Deployment cert-manager/cert-manager');
    expect(describeRef({ apiVersion: 'v1', kind: 'Namespace', name: 'flink' })).toBe('Namespace flink');
  });
});
