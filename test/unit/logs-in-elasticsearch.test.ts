// The claims of the logs-in-elasticsearch scenario, judged on the facts its act writes and the
// checker's verdict over the pod logs: a number Elasticsearch lacks fails only when the pod logs
// have it, duplicates never fail, and a run that never read the index says so.
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../scenarios/checker/verdict.ts';
import { esOnlyGaps, formatIntervals, jobManagerArrives, noGapBeyondPodLogs, parseIntervals, recordsArrive } from '../../scenarios/logs-in-elasticsearch.ts';
import type { ClaimInput } from '../../scenarios/scenario.ts';

function input(facts: Record<string, string>, lost: [number, number][] = [], lowest = 1): ClaimInput {
  const verdict = { sequences: [{ id: 'SEQ', origin: 1, lowest, highest: 500, distinct: 500, lost, unseen: [], duplicates: [] }] } as unknown as Verdict;
  return { verdict, facts, checkpoints: 3 };
}

const read = { 'es waited': '2.0', 'es mark': '300', 'es records': '410', 'es duplicates': '12', 'es jobmanager lines': '40', 'es checkpoint lines': '9' };

describe('logs-in-elasticsearch claims', () => {
  it('carries number sets as interval text both ways', () => {
    expect(formatIntervals([[1, 40], [44, 44], [46, 500]])).toBe('1..40, 44, 46..500');
    expect(parseIntervals('1..40, 44, 46..500')).toEqual([[1, 40], [44, 44], [46, 500]]);
    expect(parseIntervals(undefined)).toEqual([]);
  });

  it('passes with the index holding 1.. past the mark; duplicates are only reported', () => {
    const ok = input({ ...read, 'es seen': '1..398' });
    expect(recordsArrive().check(ok)).toEqual({ ok: true, detail: '410 record lines, 1..398, past 300 (the pod logs\' mark) after 2.0s' });
    expect(jobManagerArrives().check(ok)).toEqual({ ok: true, detail: '40 JobManager lines, 9 of them completed checkpoints' });
    const gap = noGapBeyondPodLogs().check(ok);
    expect(gap.ok).toBe(true);
    expect(gap.detail).toContain('12 record lines seen twice or more');
  });

  it('names the numbers Elasticsearch lacks but the pod logs have, and leaves out what the pod logs lack too', () => {
    const lossy = input({ ...read, 'es seen': '1..9, 13..120, 131..398' }, [[125, 126]]);
    expect(esOnlyGaps(lossy)).toEqual([[10, 12], [121, 124], [127, 130]]);
    const verdict = noGapBeyondPodLogs().check(lossy);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toContain('missing in fluentd but in the pod logs: 10..12, 121..124, 127..130 (11 numbers)');
    // The job's own first numbers missing from the index count too.
    expect(esOnlyGaps(input({ ...read, 'es seen': '4..398' }))).toEqual([[1, 3]]);
  });

  it('fails when the index stays short of the mark or has no JobManager line', () => {
    const short = input({ ...read, 'es seen': '1..200', 'es jobmanager lines': '0' });
    expect(recordsArrive().check(short)).toEqual({ ok: false, detail: '410 record lines, 1..200: the pod logs had reached 300, still missing after 2.0s' });
    expect(jobManagerArrives().check(short).ok).toBe(false);
    expect(recordsArrive().check(input({ ...read, 'es seen': '' })).detail).toBe('no record line in fluentd after 2.0s (the pod logs had reached 300)');
  });

  it('says "not measured" when the scenario stopped before reading the index', () => {
    for (const claim of [recordsArrive(), jobManagerArrives(), noGapBeyondPodLogs()]) {
      expect(claim.check(input({}))).toEqual({ ok: false, detail: 'not measured: the scenario stopped before it read the fluentd index' });
    }
  });
});
