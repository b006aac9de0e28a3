import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../scripts/lib/kube/kube.ts';
import { conditionCheck, jsonPath, jsonPathCheck, podProblem, podsReadyCheck, rolloutCheck } from '../../scripts/lib/wait/checks.ts';

const obj = (kind: string, rest: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'ns', generation: 2 }, ...rest });

describe('jsonPath', () => {
  const doc = {
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] },
    metadata: { labels: { 'app.kubernetes.io/name': 'minio' } },
  };
  it('follows fields, indexes, filters and escaped dots', () => {
    expect(jsonPath(doc, '.status.phase')).toBe('Running');
    expect(jsonPath(doc, '{.status.phase}')).toBe('Running');
    expect(jsonPath(doc, '.status.conditions[1].type')).toBe('Ready');
    expect(jsonPath(doc, '.status.conditions[?(@.type=="Ready")].status')).toBe('False');
    expect(jsonPath(doc, '.metadata.labels.app\\.kubernetes\\.io/name')).toBe('minio');
    expect(jsonPath(doc, '.status.missing.deeper')).toBeUndefined();
  });
  it('refuses what it cannot read', () => {
    expect(() => jsonPath(doc, 'status phase')).toThrow(/unsupported JSONPath/);
  });
  it('matches a value, a set of values, or a predicate', () => {
    const o = obj('Pod', { status: doc.status });
    expect(jsonPathCheck(o, '.status.phase', 'Running')).toEqual({ ok: true, seen: '.status.phase=Running' });
    expect(jsonPathCheck(o, '.status.phase', ['Pending', 'Failed']).ok).toBe(false);
    expect(jsonPathCheck(o, '.status.conditions', (v) => Array.isArray(v) && v.length === 2).ok).toBe(true);
    expect(jsonPathCheck(undefined, '.status.phase', 'Running')).toEqual({ ok: false, seen: 'object not found' });
  });
});

describe('conditionCheck', () => {
  it('reports the condition with its reason, and stale generations', () => {
    const o = obj('Certificate', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Issuing', message: 'in progress' }] } });
    expect(conditionCheck(o, 'Ready', 'True')).toEqual({ ok: false, seen: 'Ready=False (Issuing: in progress)' });
    const stale = obj('Certificate', { status: { conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }] } });
    expect(conditionCheck(stale, 'Ready', 'True')).toEqual({ ok: false, seen: 'Ready=True, for an older generation' });
    expect(conditionCheck(obj('X', { status: {} }), 'Ready', 'True').seen).toBe('no conditions yet');
  });
});

describe('rolloutCheck', () => {
  it('waits for the controller to observe the generation, then for every replica', () => {
    const d = (status: object): KubeObject => obj('Deployment', { spec: { replicas: 2 }, status });
    expect(rolloutCheck(d({ observedGeneration: 1 })).ok).toBe(false);
    expect(rolloutCheck(d({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }))).toEqual({
      ok: false,
      seen: '2/2 updated, 2/2 available, 1 old replica(s) terminating',
    });
    expect(rolloutCheck(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).ok).toBe(true);
  });
  it('fails at once when the deployment exceeded its progress deadline', () => {
    const d = obj('Deployment', { spec: {}, status: { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x-1" has timed out progressing.' }] } });
    expect(rolloutCheck(d).fail).toMatch(/progress deadline/);
  });
  it('knows StatefulSets and DaemonSets', () => {
    expect(rolloutCheck(obj('StatefulSet', { spec: { replicas: 1 }, status: { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1 } })).ok).toBe(true);
    expect(rolloutCheck(obj('DaemonSet', { status: { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 } }))).toEqual({
      ok: false,
      seen: '2/2 updated, 1/2 available',
    });
  });
});

describe('podsReadyCheck', () => {
  const pod = (name: string, ready: boolean, extra: object = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
  });
  it('names the problem of a pod that is not ready, image included', () => {
    const stuck = pod('web-2', false, {
      containerStatuses: [{ name: 'web', image: 'nginx:nope', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:nope"' } } }],
    });
    expect(podProblem(stuck)).toBe('web ImagePullBackOff: Back-off pulling image "nginx:nope" (image nginx:nope)');
    const r = podsReadyCheck([pod('web-1', true), stuck], 1);
    expect(r.ok).toBe(false);
    expect(r.seen).toContain('1/2 ready; web-2: web ImagePullBackOff');
  });
  it('ignores pods being deleted and finished pods, and honours min', () => {
    const gone = { ...pod('old', false), metadata: { name: 'old', deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const done = pod('job', false, { phase: 'Succeeded' });
    expect(podsReadyCheck([pod('a', true), gone, done], 1).ok).toBe(true);
    expect(podsReadyCheck([pod('a', true)], 2).ok).toBe(false);
    expect(podsReadyCheck([], 1).seen).toBe('no pods');
  });
});
