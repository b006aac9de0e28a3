// The documents of the simulated Elasticsearch and the part of its dynamic mapping that queries
// depend on: a string field is `text` (analysed into lowercase words) with a `.keyword` subfield
// (the exact string, up to ignore_above 256), unless it looks like a date (date_detection, ES's
// default `strict_date_optional_time`); numbers are `long` or `float`. The first value seen fixes
// a field's type, as in ES. Dotted keys (`"log.level"`, as ECS JSON logs write them) and nested
// objects name the same field. Documents become searchable at the next refresh.

export type FieldType = 'text' | 'keyword' | 'date' | 'long' | 'float' | 'boolean';

export interface StoredDoc {
  id: string;
  /** Indexing order: what `_doc` sorts by. */
  seqNo: number;
  source: Record<string, unknown>;
  /** Searchable from this time on (the next refresh). */
  visibleAt: number;
}

/** ignore_above of the `.keyword` subfield dynamic mapping adds to strings. */
const IGNORE_ABOVE = 256;
// strict_date_optional_time: a date, optionally a time with fractions and an offset.
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
// The standard tokenizer, near enough for log messages: runs of letters, digits and `_`, kept
// together across a single `.` or `'` between them (`1.5`, `don't`, `foo.bar`).
const TOKEN = /[\p{L}\p{N}_]+(?:['.][\p{L}\p{N}_]+)*/gu;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The standard analyzer: words, lowercased. */
export function analyze(text: string): string[] {
  return (text.match(TOKEN) ?? []).map((t) => t.toLowerCase());
}

/** Milliseconds since the epoch of a date string ES would accept, or NaN. */
export function parseDate(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || !DATE.test(value)) return Number.NaN;
  // JavaScript keeps milliseconds only, as ES's `date` type does; drop finer digits first.
  let s = value.replace(/[.,](\d{1,3})\d*/, (_m, ms: string) => `.${ms.padEnd(3, '0')}`).replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (/T/.test(s) && !/(Z|[+-]\d{2}:\d{2})$/.test(s)) s += 'Z';
  return Date.parse(s);
}

function leafType(v: unknown): FieldType | undefined {
  if (typeof v === 'string') return DATE.test(v) && !Number.isNaN(parseDate(v)) ? 'date' : 'text';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'float';
  if (typeof v === 'boolean') return 'boolean';
  return undefined;
}

/** Every value at a dotted path, whether the document nests objects or writes dotted keys. */
export function valuesAt(node: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  const walk = (n: unknown, parts: string[]): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x, parts);
      return;
    }
    if (parts.length === 0) {
      if (n !== null && n !== undefined) out.push(n);
      return;
    }
    if (!isObject(n)) return;
    for (let i = 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join('.');
      if (key in n) walk(n[key], parts.slice(i));
    }
  };
  walk(node, path.split('.'));
  return out;
}

export class EsIndex {
  readonly name: string;
  /** What ES calls the index's uuid (22 URL-safe characters). */
  readonly uuid: string;
  readonly docs: StoredDoc[] = [];
  private readonly fields = new Map<string, FieldType>();
  private readonly byId = new Map<string, StoredDoc>();
  private readonly tokens = new WeakMap<StoredDoc, Map<string, string[][]>>();
  private next = 0;

  constructor(name: string) {
    this.name = name;
    this.uuid = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url').slice(0, 22);
  }

  /** Indexes (or replaces) a document; `create` refuses an id that exists. */
  put(source: Record<string, unknown>, opts: { id?: string; create?: boolean; visibleAt: number }): { id: string; result: 'created' | 'updated'; version: number; seqNo: number } {
    const id = opts.id ?? randomId();
    const old = this.byId.get(id);
    if (old && opts.create) throw new Error(`[${id}]: version conflict, document already exists (current version [1])`);
    this.learn(source, '');
    const doc: StoredDoc = { id, seqNo: this.next++, source, visibleAt: opts.visibleAt };
    if (old) this.docs.splice(this.docs.indexOf(old), 1);
    this.docs.push(doc);
    this.byId.set(id, doc);
    return { id, result: old ? 'updated' : 'created', version: 1, seqNo: doc.seqNo };
  }

  /** The mapped type of a field; `x.keyword` is the keyword subfield of text field `x`. */
  typeOf(field: string): FieldType | undefined {
    const direct = this.fields.get(field);
    if (direct) return direct;
    if (field.endsWith('.keyword') && this.fields.get(field.slice(0, -'.keyword'.length)) === 'text') return 'keyword';
    return undefined;
  }

  /** A field's values in a document as the mapping indexes them (keyword: the exact strings). */
  values(doc: StoredDoc, field: string): unknown[] {
    const type = this.typeOf(field);
    if (!type) return [];
    if (type === 'keyword' && !this.fields.has(field)) {
      return valuesAt(doc.source, field.slice(0, -'.keyword'.length)).filter((v) => typeof v === 'string' && v.length <= IGNORE_ABOVE);
    }
    return valuesAt(doc.source, field);
  }

  /** The analysed words of a text field, one list per value (cached: queries ask again and again). */
  words(doc: StoredDoc, field: string): string[][] {
    let perDoc = this.tokens.get(doc);
    if (!perDoc) this.tokens.set(doc, (perDoc = new Map()));
    let words = perDoc.get(field);
    if (!words) perDoc.set(field, (words = this.values(doc, field).map((v) => analyze(String(v)))));
    return words;
  }

  private learn(node: unknown, prefix: string): void {
    if (Array.isArray(node)) {
      for (const x of node) this.learn(x, prefix);
      return;
    }
    if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) this.learn(v, prefix ? `${prefix}.${k}` : k);
      return;
    }
    const type = leafType(node);
    if (type && prefix && !this.fields.has(prefix)) this.fields.set(prefix, type);
  }
}

function randomId(): string {
  // ES's auto-generated ids: 20 URL-safe base64 characters.
  return Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('base64url');
}
