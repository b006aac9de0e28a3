// The arithmetic behind two bench figures: the critical path of the pipeline's `needs` graph,
// and a scenario's floor (fault -> first record of the restarted job) read from its history.
import { describe, expect, it } from 'vitest';
import { criticalPath } from '../../bench/cold-up.ts';
import { floorOf } from '../../bench/scenario-floor.ts';

describe('criticalPath', () => {
  it('is the longest chain of needs, not the sum', () => {
    const needs = { preflight: [], cluster: ['preflight'], minio: ['cluster'], cert: ['cluster'], operator: ['cert'], pipeline: ['minio', 'operator'] };
    const ms = { preflight: 1, cluster: 10, minio: 50, cert: 20, operator: 20, pipeline: 5 };
    expect(criticalPath(ms, needs)).toEqual({ ms: 66, path: ['preflight', 'cluster', 'minio', 'pipeline'] });
  });
});

describe('floorOf', () => {
  const outcome = { scenario: 'kill-x', ok: true, startedAt: new Date(1000).toISOString(), durationMs: 9000, historyFile: '' };
  const rec = (t: number, source: string, attempt = 0): object => ({ t, kind: 'record', source, attempt });

  it('ends at the first record from a pod or attempt not seen before the fault', () => {
    const events = [rec(2000, 'tm-1'), rec(3000, 'tm-1'), { t: 4000, kind: 'fault' }, rec(4100, 'tm-1'), rec(6000, 'tm-2'), rec(7000, 'tm-2')];
    expect(floorOf(outcome, events as never)).toEqual({ scenario: 'kill-x', wallMs: 9000, floorMs: 2000, startMs: 1000, setupMs: 2000, afterMs: 4000 });
  });

  it('ends at the first record after the restore when the same pods go on (a JobManager failover)', () => {
    const events = [rec(2000, 'tm-1'), { t: 4000, kind: 'fault' }, rec(4100, 'tm-1'), { t: 5000, kind: 'restore' }, rec(5500, 'tm-1')];
    expect(floorOf(outcome, events as never).floorMs).toBe(1500);
  });
});
