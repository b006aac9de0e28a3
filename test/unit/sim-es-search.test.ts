// The simulated Elasticsearch's search, on documents shaped like the logging pipeline's: the
// query types the sandbox uses, sorting and paging, and the refusals ES gives (text fields cannot
// be sorted, the result window is bounded, search_after needs a matching sort).
import { describe, expect, it } from 'vitest';
import { EsIndex } from '../sim/eck/es-index.ts';
import { EsError } from '../sim/eck/es-query.ts';
import { count, search } from '../sim/eck/es-search.ts';

function doc(seq: number, pod: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stream: 'stdout',
    'log.level': 'INFO',
    message: `SEQ seq=${seq} subtask=${seq % 2} attempt=0`,
    kubernetes: { pod_name: pod, namespace_name: 'default', labels: { app: 'hello-ha', component: 'taskmanager' } },
    '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    ...extra,
  };
}

function index(): EsIndex {
  const i = new EsIndex('fluentd');
  for (let s = 1; s <= 30; s++) i.put(doc(s, s <= 15 ? 'hello-ha-taskmanager-1-1' : 'hello-ha-taskmanager-1-2'), { visibleAt: 0 });
  i.put({ message: 'Completed checkpoint 3 for job 00ab (1048 bytes)', kubernetes: { pod_name: 'hello-ha-5d9f', labels: { component: 'jobmanager' } } }, { visibleAt: 0 });
  return i;
}

type Hits = { hits: { total: { value: number; relation: string }; hits: { _id: string; _source: Record<string, any>; sort?: unknown[] }[] } };

function seqs(r: Record<string, unknown>): number[] {
  return (r as unknown as Hits).hits.hits.map((h) => Number(/seq=(\d+)/.exec(h._source.message)![1]));
}

describe('simulated Elasticsearch search', () => {
  it('match_phrase finds the words in order on the analysed message; term needs the exact keyword', () => {
    const i = index();
    expect(count([i], { query: { match_phrase: { message: 'SEQ seq=' } } }).count).toBe(30);
    expect(count([i], { query: { match_phrase: { message: 'seq=7 subtask=1' } } }).count).toBe(1);
    expect(count([i], { query: { match_phrase: { message: 'subtask seq' } } }).count).toBe(0);
    expect(count([i], { query: { match: { message: 'completed checkpoint' } } }).count).toBe(1);
    // The text field holds lowercased words; the .keyword subfield the exact string.
    expect(count([i], { query: { term: { 'kubernetes.labels.app': 'hello-ha' } } }).count).toBe(0);
    expect(count([i], { query: { term: { 'kubernetes.labels.app.keyword': 'hello-ha' } } }).count).toBe(30);
    expect(count([i], { query: { terms: { 'kubernetes.pod_name.keyword': ['hello-ha-taskmanager-1-2', 'hello-ha-5d9f'] } } }).count).toBe(16);
    // Dotted keys and nested objects name the same field.
    expect(count([i], { query: { term: { 'log.level.keyword': 'INFO' } } }).count).toBe(30);
  });

  it('bool combines clauses; range compares dates, including now-math; exists looks for the field', () => {
    const i = index();
    const bool = { bool: { filter: [{ match_phrase: { message: 'SEQ seq=' } }, { range: { '@timestamp': { gte: '2026-01-01T00:00:10Z', lt: '2026-01-01T00:00:20Z' } } }], must_not: [{ match_phrase: { message: 'seq=12' } }] } };
    expect(count([i], { query: bool }).count).toBe(9);
    expect(count([i], { query: { range: { '@timestamp': { gte: 'now-1d' } } } }).count).toBe(0);
    expect(count([i], { query: { exists: { field: '@timestamp' } } }).count).toBe(30);
    expect(count([i], { query: { bool: { should: [{ match_phrase: { message: 'seq=1 ' } }, { match_phrase: { message: 'Completed checkpoint' } }] } } }).count).toBe(2);
  });

  it('sorts by a date (reported in epoch ms) and pages with search_after or from/size', () => {
    const i = index();
    const q = { query: { match_phrase: { message: 'SEQ seq=' } }, sort: [{ '@timestamp': 'desc' }], size: 5 };
    const first = search([i], q) as unknown as Hits;
    expect(seqs(first as unknown as Record<string, unknown>)).toEqual([30, 29, 28, 27, 26]);
    expect(first.hits.hits[0]!.sort).toEqual([Date.UTC(2026, 0, 1, 0, 0, 30)]);
    const next = search([i], { ...q, search_after: first.hits.hits.at(-1)!.sort });
    expect(seqs(next)).toEqual([25, 24, 23, 22, 21]);
    expect(seqs(search([i], { ...q, sort: ['_doc'], from: 10, size: 3 }))).toEqual([11, 12, 13]);
    expect((search([i], { ...q, size: 0 }) as unknown as Hits).hits.total).toEqual({ value: 30, relation: 'eq' });
  });

  it('returns only the _source fields asked for', () => {
    const r = search([index()], { query: { match_phrase: { message: 'seq=3 ' } }, _source: ['message', 'kubernetes.pod_name'] }) as unknown as Hits;
    expect(r.hits.hits[0]!._source).toEqual({ message: 'SEQ seq=3 subtask=1 attempt=0', kubernetes: { pod_name: 'hello-ha-taskmanager-1-1' } });
  });

  it('refuses what ES refuses, with its error types', () => {
    const i = index();
    const refusal = (body: Record<string, unknown>): { status: number; type: string; message: string; cause?: string } => {
      try {
        search([i], body);
      } catch (err) {
        if (!(err instanceof EsError)) throw err;
        return { status: err.status, type: err.type, message: err.message, cause: (err.extra.caused_by as { reason?: string } | undefined)?.reason };
      }
      throw new Error('no refusal');
    };
    expect(refusal({ sort: [{ message: 'asc' }] })).toMatchObject({ status: 400, type: 'search_phase_execution_exception', cause: expect.stringContaining('Fielddata is disabled on [message]') });
    expect(refusal({ from: 9995, size: 10 })).toMatchObject({ status: 400, cause: expect.stringContaining('Result window is too large') });
    expect(refusal({ sort: ['_doc'], search_after: [1, 2] })).toMatchObject({ type: 'illegal_argument_exception', message: 'search_after has 2 value(s) but sort has 1.' });
    expect(refusal({ sort: [{ nope: 'asc' }] })).toMatchObject({ cause: 'No mapping found for [nope] in order to sort on' });
    expect(refusal({ query: { fuzzy_thing: {} } })).toMatchObject({ type: 'parsing_exception', message: 'unknown query [fuzzy_thing]' });
  });

  it('shows documents only after the refresh that follows their indexing', () => {
    const i = new EsIndex('fluentd');
    i.put({ message: 'later' }, { visibleAt: 1000 });
    expect(count([i], {}, 999).count).toBe(0);
    expect(count([i], {}, 1000).count).toBe(1);
  });
});
