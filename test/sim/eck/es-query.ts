// The query DSL of the simulated Elasticsearch, the subset log searches use: match_all,
// match_none, match, match_phrase, term, terms, ids, range (dates with `now-15m` math), exists
// and bool (must, filter, should, must_not, minimum_should_match). Text fields are matched on
// their analysed words, keyword fields on the exact string, as ES does; a field no document has
// matches nothing. Relevance is not modelled: every hit scores 1.
import { type EsIndex, type StoredDoc, analyze, isObject, parseDate } from './es-index.ts';

/** An error as ES reports it: HTTP status, `type` and `reason`. */
export class EsError extends Error {
  readonly status: number;
  readonly type: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, type: string, reason: string, extra: Record<string, unknown> = {}) {
    super(reason);
    this.status = status;
    this.type = type;
    this.extra = extra;
  }
}

export type Predicate = (doc: StoredDoc) => boolean;

function parsingError(reason: string): EsError {
  return new EsError(400, 'parsing_exception', reason, { line: 1, col: 1 });
}

/** `{field: value}` or `{field: {<key>: value, ...}}`: the field and its options. */
function fieldClause(kind: string, body: unknown, key: string): { field: string; value: unknown; opts: Record<string, unknown> } {
  if (!isObject(body)) throw parsingError(`[${kind}] query malformed, no start_object after query name`);
  const entries = Object.entries(body).filter(([k]) => k !== 'boost' && k !== '_name');
  if (entries.length !== 1) throw parsingError(`[${kind}] query doesn't support multiple fields, found [${entries.map(([k]) => k).join('] and [')}]`);
  const [field, raw] = entries[0]!;
  return isObject(raw) ? { field, value: raw[key], opts: raw } : { field, value: raw, opts: {} };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, H: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };

/** A date bound: ISO text, epoch milliseconds, or `now` with +/- math (rounding is not modelled). */
function dateBound(v: unknown, now: number): number {
  if (typeof v === 'number') return v;
  const text = String(v);
  const math = /^now((?:[+-]\d+[smhHdwMy])*)(?:\/[smhHdwMy])?$/.exec(text);
  if (math) {
    let t = now;
    for (const [, sign, n, unit] of math[1]!.matchAll(/([+-])(\d+)([smhHdwMy])/g)) t += (sign === '-' ? -1 : 1) * Number(n) * UNITS[unit!]!;
    return t;
  }
  const ms = parseDate(text);
  if (Number.isNaN(ms)) throw new EsError(400, 'parse_exception', `failed to parse date field [${text}] with format [strict_date_optional_time||epoch_millis]`);
  return ms;
}

/** Does one indexed value equal the query value, compared the way the field's type compares? */
function sameValue(index: EsIndex, field: string, indexed: unknown, wanted: unknown): boolean {
  switch (index.typeOf(field)) {
    case 'date':
      return parseDate(indexed) === dateBound(wanted, Date.now());
    case 'long':
    case 'float':
      return Number(indexed) === Number(wanted);
    case 'boolean':
      return String(indexed) === String(wanted);
    default:
      return String(indexed) === String(wanted);
  }
}

function containsRun(words: string[], run: string[]): boolean {
  if (run.length === 0) return false;
  for (let i = 0; i + run.length <= words.length; i++) if (run.every((w, j) => words[i + j] === w)) return true;
  return false;
}

function match(index: EsIndex, body: unknown, phrase: boolean): Predicate {
  const { field, value, opts } = fieldClause(phrase ? 'match_phrase' : 'match', body, 'query');
  if (value === undefined || value === null) throw parsingError(`No text specified for text query`);
  if (index.typeOf(field) !== 'text') return (doc) => index.values(doc, field).some((v) => sameValue(index, field, v, value));
  const words = analyze(String(value));
  if (phrase) return (doc) => index.words(doc, field).some((w) => containsRun(w, words));
  const all = String(opts.operator ?? 'or').toLowerCase() === 'and';
  return (doc) => {
    const seen = new Set(index.words(doc, field).flat());
    return words.length > 0 && (all ? words.every((w) => seen.has(w)) : words.some((w) => seen.has(w)));
  };
}

/** term/terms: the value as given, against the indexed terms (a text field's lowercased words). */
function termMatches(index: EsIndex, field: string, wanted: unknown[]): Predicate {
  if (index.typeOf(field) === 'text') return (doc) => index.words(doc, field).some((w) => wanted.some((x) => w.includes(String(x))));
  return (doc) => index.values(doc, field).some((v) => wanted.some((x) => sameValue(index, field, v, x)));
}

function range(index: EsIndex, body: unknown, now: number): Predicate {
  if (!isObject(body) || Object.keys(body).length !== 1) throw parsingError('[range] query doesn\'t support multiple fields');
  const [field, raw] = Object.entries(body)[0]!;
  if (!isObject(raw)) throw parsingError(`[range] query malformed, no start_object after query name`);
  const type = index.typeOf(field);
  const toNumber = (v: unknown): number => (type === 'date' ? dateBound(v, now) : Number(v));
  const asKey = (v: unknown): number | string => (type === 'date' ? parseDate(v) : type === 'long' || type === 'float' ? Number(v) : String(v));
  const bound = (v: unknown): number | string => (type === 'date' || type === 'long' || type === 'float' ? toNumber(v) : String(v));
  const checks: ((x: number | string) => boolean)[] = [];
  if (raw.gte !== undefined) checks.push((x) => x >= bound(raw.gte));
  if (raw.gt !== undefined) checks.push((x) => x > bound(raw.gt));
  if (raw.lte !== undefined) checks.push((x) => x <= bound(raw.lte));
  if (raw.lt !== undefined) checks.push((x) => x < bound(raw.lt));
  return (doc) => index.values(doc, field).some((v) => checks.every((c) => c(asKey(v))));
}

function clauses(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function bool(index: EsIndex, body: unknown, now: number): Predicate {
  if (!isObject(body)) throw parsingError('[bool] query malformed');
  const must = [...clauses(body.must), ...clauses(body.filter)].map((q) => compileQuery(index, q, now));
  const should = clauses(body.should).map((q) => compileQuery(index, q, now));
  const mustNot = clauses(body.must_not).map((q) => compileQuery(index, q, now));
  const minShould = body.minimum_should_match !== undefined ? Number(body.minimum_should_match) : must.length === 0 && should.length > 0 ? 1 : 0;
  return (doc) =>
    must.every((p) => p(doc)) && !mustNot.some((p) => p(doc)) && (minShould === 0 || should.filter((p) => p(doc)).length >= minShould);
}

/** A query (the `query` of a search or count) as a predicate over one index's documents. */
export function compileQuery(index: EsIndex, query: unknown, now = Date.now()): Predicate {
  if (query === undefined) return () => true;
  if (!isObject(query) || Object.keys(query).length !== 1) throw parsingError('[_na] query malformed, must start with start_object');
  const [kind, body] = Object.entries(query)[0]!;
  switch (kind) {
    case 'match_all':
      return () => true;
    case 'match_none':
      return () => false;
    case 'match':
      return match(index, body, false);
    case 'match_phrase':
      return match(index, body, true);
    case 'term': {
      const { field, value } = fieldClause('term', body, 'value');
      return termMatches(index, field, [value]);
    }
    case 'terms': {
      if (!isObject(body)) throw parsingError('[terms] query malformed');
      const [field, values] = Object.entries(body).find(([k]) => k !== 'boost') ?? [];
      if (!field || !Array.isArray(values)) throw parsingError(`[terms] query does not support [${field}]`);
      return termMatches(index, field, values);
    }
    case 'ids': {
      const ids = new Set(clauses(isObject(body) ? body.values : undefined).map(String));
      return (doc) => ids.has(doc.id);
    }
    case 'exists': {
      const field = isObject(body) ? String(body.field ?? '') : '';
      if (!field) throw parsingError('[exists] must be provided with a [field]');
      return (doc) => index.values(doc, field).length > 0;
    }
    case 'range':
      return range(index, body, now);
    case 'bool':
      return bool(index, body, now);
    default:
      throw new EsError(400, 'parsing_exception', `unknown query [${kind}]`, { line: 1, col: 1 });
  }
}
