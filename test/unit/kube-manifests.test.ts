import { describe, expect, it } from 'vitest';
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
});

describe('describeRef', () => {
  it('names namespaced and cluster-scoped objects', () => {
    expect(describeRef({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cert-manager', namespace: 'cert-manager' })).toBe('Deployment cert-manager/cert-manager');
    expect(describeRef({ apiVersion: 'v1', kind: 'Namespace', name: 'flink' })).toBe('Namespace flink');
  });
});
