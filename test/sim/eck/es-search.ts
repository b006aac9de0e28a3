// `_search` and `_count` of the simulated Elasticsearch over one or more indices: the query,
// `sort` (fields, `_doc`, `_score`; dates sort and report as epoch milliseconds; text fields are
// refused as ES refuses them), `from`/`size` within index.max_result_window, `search_after`,
// `track_total_hits` and `_source` includes. Answers have ES's shape.
import { type EsIndex, type StoredDoc, isObject, parseDate } from './es-index.ts';
import { EsError, compileQuery } from './es-query.ts';

const MAX_RESULT_WINDOW = 10_000;

interface SortKey {
  field: string;
  desc: boolean;
  unmappedType?: string;
}

interface Hit {
  index: EsIndex;
  doc: StoredDoc;
  sort: (number | string | null)[];
}

function phaseError(cause: EsError): EsError {
  // A shard-level failure surfaces wrapped, with the cause as root_cause.
  return new EsError(cause.status, 'search_phase_execution_exception', 'all shards failed', { phase: 'query', grouped: true, root_cause: [{ type: cause.type, reason: cause.message }], caused_by: { type: cause.type, reason: cause.message } });
}

function sortKeys(sort: unknown): SortKey[] {
  if (sort === undefined) return [];
  return (Array.isArray(sort) ? sort : [sort]).map((s): SortKey => {
    if (typeof s === 'string') return { field: s, desc: s === '_score' };
    if (!isObject(s) || Object.keys(s).length !== 1) throw new EsError(400, 'parsing_exception', 'malformed sort format, within the sort array, an object should only contain the field name');
    const [field, how] = Object.entries(s)[0]!;
    const order = typeof how === 'string' ? how : isObject(how) ? String(how.order ?? (field === '_score' ? 'desc' : 'asc')) : 'asc';
    return { field, desc: order === 'desc', unmappedType: isObject(how) && typeof how.unmapped_type === 'string' ? how.unmapped_type : undefined };
  });
}

function checkSortable(index: EsIndex, key: SortKey): void {
  if (key.field === '_doc' || key.field === '_score') return;
  const type = index.typeOf(key.field);
  if (type === 'text') {
    throw phaseError(new EsError(400, 'illegal_argument_exception', `Fielddata is disabled on [${key.field}] in [${index.name}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${key.field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`));
  }
  if (!type && !key.unmappedType) throw phaseError(new EsError(400, 'query_shard_exception', `No mapping found for [${key.field}] in order to sort on`, { index: index.name }));
}

function sortValue(index: EsIndex, doc: StoredDoc, key: SortKey): number | string | null {
  if (key.field === '_doc') return doc.seqNo;
  if (key.field === '_score') return 1;
  const type = index.typeOf(key.field);
  const values = index.values(doc, key.field).map((v) => (type === 'date' ? parseDate(v) : type === 'keyword' ? String(v) : type === 'boolean' ? (v === true || v === 'true' ? 1 : 0) : Number(v)));
  if (values.length === 0) return null;
  // Several values: the smallest sorts ascending, the largest descending (ES's default mode).
  return values.reduce((a, b) => ((key.desc ? b > a : b < a) ? b : a));
}

function compare(a: (number | string | null)[], b: (number | string | null)[], keys: SortKey[]): number {
  for (let i = 0; i < keys.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    // Missing values sort last in either order.
    if (x === null) return 1;
    if (y === null) return -1;
    const c = x < y ? -1 : 1;
    return keys[i]!.desc ? -c : c;
  }
  return 0;
}

function pickSource(source: Record<string, unknown>, spec: unknown): Record<string, unknown> | undefined {
  if (spec === undefined || spec === true) return source;
  if (spec === false) return undefined;
  const includes = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? spec.map(String) : isObject(spec) && spec.includes !== undefined ? [spec.includes].flat().map(String) : undefined;
  if (!includes) return source;
  const wanted = includes.map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  const out: Record<string, unknown> = {};
  const walk = (node: Record<string, unknown>, into: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (wanted.some((re) => re.test(path))) into[k] = v;
      else if (isObject(v)) {
        const sub: Record<string, unknown> = {};
        walk(v, sub, path);
        if (Object.keys(sub).length) into[k] = sub;
      }
    }
  };
  walk(source, out, '');
  return out;
}

function num(v: unknown, name: string, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new EsError(400, 'illegal_argument_exception', `[${name}] parameter cannot be negative, found [${String(v)}]`);
  return n;
}

function matching(indices: EsIndex[], query: unknown, now: number): { index: EsIndex; doc: StoredDoc }[] {
  const out: { index: EsIndex; doc: StoredDoc }[] = [];
  for (const index of indices) {
    let p;
    try {
      p = compileQuery(index, query, now);
    } catch (err) {
      throw err instanceof EsError && err.type !== 'parsing_exception' ? phaseError(err) : err;
    }
    for (const doc of index.docs) if (doc.visibleAt <= now && p(doc)) out.push({ index, doc });
  }
  return out;
}

export function count(indices: EsIndex[], body: Record<string, unknown>, now = Date.now()): Record<string, unknown> {
  const n = matching(indices, body.query, now).length;
  return { count: n, _shards: { total: indices.length, successful: indices.length, skipped: 0, failed: 0 } };
}

export function search(indices: EsIndex[], body: Record<string, unknown>, now = Date.now()): Record<string, unknown> {
  const started = Date.now();
  const size = num(body.size, 'size', 10);
  const from = num(body.from, 'from', 0);
  const keys = sortKeys(body.sort);
  const after = body.search_after;
  if (after !== undefined) {
    if (!Array.isArray(after)) throw new EsError(400, 'parsing_exception', '[search_after] must be an array');
    if (keys.length === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: [search_after] requires a sort;');
    if (after.length !== keys.length) throw new EsError(400, 'illegal_argument_exception', `search_after has ${after.length} value(s) but sort has ${keys.length}.`);
    if (from > 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: [from] parameter must be set to 0 when [search_after] is used;');
  }
  if (from + size > MAX_RESULT_WINDOW) {
    throw phaseError(new EsError(400, 'illegal_argument_exception', `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`));
  }
  for (const index of indices) for (const k of keys) checkSortable(index, k);

  const found = matching(indices, body.query, now);
  let hits: Hit[] = found.map(({ index, doc }) => ({ index, doc, sort: keys.map((k) => sortValue(index, doc, k)) }));
  if (keys.length) hits.sort((a, b) => compare(a.sort, b.sort, keys) || a.doc.seqNo - b.doc.seqNo);
  if (Array.isArray(after)) hits = hits.filter((h) => compare(h.sort, after.map((v) => (typeof v === 'number' || typeof v === 'string' ? v : null)), keys) > 0);
  const page = hits.slice(from, from + size);
  const scored = keys.length === 0 || keys.some((k) => k.field === '_score');
  const track = body.track_total_hits;
  const total = track === true || found.length <= (typeof track === 'number' ? track : MAX_RESULT_WINDOW) ? { value: found.length, relation: 'eq' } : { value: typeof track === 'number' ? track : MAX_RESULT_WINDOW, relation: 'gte' };
  return {
    took: Date.now() - started,
    timed_out: false,
    _shards: { total: indices.length, successful: indices.length, skipped: 0, failed: 0 },
    hits: {
      ...(track === false ? {} : { total }),
      max_score: scored && page.length ? 1 : null,
      hits: page.map((h) => {
        const source = pickSource(h.doc.source, body._source);
        return { _index: h.index.name, _id: h.doc.id, _score: scored ? 1 : null, ...(source ? { _source: source } : {}), ...(keys.length ? { sort: h.sort } : {}) };
      }),
    },
  };
}
