// Reads one line of a captured TaskManager log, as `kubectl logs` prints it: optionally headed by
// `--prefix` (`[pod/<pod>/<container>] `) and `--timestamps` (RFC 3339), then either a log4j
// pattern line (`2026-11-24 10:00:00,123 INFO ... - <message>`), an ECS JSON object whose
// `message` is the text, or raw stderr. It finds our job's `SEQ seq=<n> subtask=<i> attempt=<a>`
// and the blog's job's `Number: <n>` / `<K>> Number: <n>`, and the line's time when it has one.
//
// It is the verifier's hot path, so the usual shapes are read with indexOf and char codes into a
// reused object. Whenever that fast path is unsure about a SEQ line, parseSequenceLine (pinned to
// the Java format by its own test) decides, so both always agree.
import { parseSequenceLine } from '../../scripts/lib/flink/sequence-line.ts';

export const NONE = 0; // not a record line
export const SEQ_LINE = 1;
export const NUMBER_LINE = 2;
export const MALFORMED_LINE = 3; // carries a record marker but is broken

/** What parseLogLine found; one object, reused line after line. */
export interface LogLine {
  n: number;
  attempt: number;
  /** The `K>` of the blog's lines; -1 without one. */
  prefix: number;
  /** Milliseconds since the epoch; NaN when the line carries no time. */
  t: number;
}

export function newLogLine(): LogLine {
  return { n: 0, attempt: -1, prefix: -1, t: Number.NaN };
}

const SEQ_FIELDS = ['SEQ seq=', ' subtask=', ' attempt='] as const;
const NUMBER_MARK = 'Number: ';
const MAX_SAFE_DIGITS = 15; // every 15-digit number is an exact double
const seqValues = new Float64Array(3); // seq, subtask, attempt of the line being read

/** The kind of `line` (NONE, SEQ_LINE, NUMBER_LINE, MALFORMED_LINE); the values go into `out`. */
export function parseLogLine(line: string, out: LogLine): number {
  out.t = Number.NaN;
  out.attempt = -1;
  out.prefix = -1;
  let i = 0;
  if (line.startsWith('[pod/')) {
    const end = line.indexOf('] ', 5);
    if (end > 0) i = end + 2;
  }
  const afterTime = readTime(line, i, 'T');
  if (afterTime > i && line.charCodeAt(afterTime) === 32) {
    out.t = timeRead;
    i = afterTime + 1;
  }
  if (line.charCodeAt(i) === 123) return parseJson(i === 0 ? line : line.slice(i), out);
  return parseText(line, i, out);
}

/** A JSON log line: its `message` is the text, its `@timestamp` the time (unless kubectl gave one). */
function parseJson(json: string, out: LogLine): number {
  // Flink's own JSON lines are most of a log: skip them without parsing.
  if (!json.includes('SEQ') && !json.includes(NUMBER_MARK)) return NONE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // Cut off (a killed pod, log rotation): ours if it carries a marker, and then broken.
    const seq = parseSequenceLine(json);
    return seq !== undefined || json.includes(NUMBER_MARK) ? MALFORMED_LINE : NONE;
  }
  if (typeof parsed !== 'object' || parsed === null) return NONE;
  const { message, '@timestamp': stamp } = parsed as { message?: unknown; '@timestamp'?: unknown };
  if (typeof message !== 'string') return NONE;
  if (Number.isNaN(out.t) && typeof stamp === 'string') out.t = Date.parse(stamp);
  return parseText(message.trim(), 0, out);
}

/** Plain text from `i`: a log4j pattern line or raw output. */
function parseText(line: string, i: number, out: LogLine): number {
  const afterTime = readTime(line, i, ' ');
  if (afterTime > i && Number.isNaN(out.t)) out.t = timeRead;
  const seq = line.indexOf('SEQ', i);
  if (seq >= 0) return parseSeq(line, i, seq, out);
  return parseNumber(line, i, out);
}

function parseSeq(line: string, from: number, at: number, out: LogLine): number {
  fast: {
    const before = at > from ? line.charCodeAt(at - 1) : 32;
    if (isWordChar(before)) break fast;
    let p = at;
    const values = seqValues;
    for (let f = 0; f < 3; f++) {
      if (!line.startsWith(SEQ_FIELDS[f]!, p)) break fast;
      p += SEQ_FIELDS[f]!.length;
      const start = p;
      let value = 0;
      for (let c = line.charCodeAt(p); c >= 48 && c <= 57; c = line.charCodeAt(++p)) value = value * 10 + (c - 48);
      if (p === start || p - start > MAX_SAFE_DIGITS) break fast;
      values[f] = value;
    }
    if (!onlySpaceAfter(line, p)) break fast;
    out.n = values[0]!;
    out.attempt = values[2]!;
    return SEQ_LINE;
  }
  // Anything unusual: the parser pinned to the Java format decides.
  const r = parseSequenceLine(from === 0 ? line : line.slice(from));
  if (r === undefined) return parseNumber(line, from, out);
  if ('malformed' in r) return MALFORMED_LINE;
  out.n = r.seq;
  out.attempt = r.attempt;
  return SEQ_LINE;
}

/** The blog's PrintSink output: `Number: <n>`, or `<K>> Number: <n>` with parallelism, at the start of the text. */
function parseNumber(line: string, i: number, out: LogLine): number {
  let p = i;
  let c = line.charCodeAt(p);
  if (c >= 48 && c <= 57) {
    let prefix = 0;
    for (; c >= 48 && c <= 57; c = line.charCodeAt(++p)) prefix = prefix * 10 + (c - 48);
    if (c !== 62 || line.charCodeAt(p + 1) !== 32 || p - i > MAX_SAFE_DIGITS) return NONE;
    out.prefix = prefix;
    p += 2;
  }
  if (!line.startsWith(NUMBER_MARK, p)) return NONE;
  p += NUMBER_MARK.length;
  const start = p;
  let n = 0;
  for (c = line.charCodeAt(p); c >= 48 && c <= 57; c = line.charCodeAt(++p)) n = n * 10 + (c - 48);
  if (p === start || p - start > MAX_SAFE_DIGITS || !onlySpaceAfter(line, p)) return MALFORMED_LINE;
  out.n = n;
  return NUMBER_LINE;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function onlySpaceAfter(line: string, p: number): boolean {
  for (; p < line.length; p++) {
    const c = line.charCodeAt(p);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** The time readTime last read, in ms since the epoch (a module slot, so that reading allocates nothing). */
let timeRead = Number.NaN;

function digits(line: string, p: number, count: number): number {
  let value = 0;
  for (let k = 0; k < count; k++) {
    const c = line.charCodeAt(p + k);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

/**
 * Reads `YYYY-MM-DD<sep>HH:MM:SS[.,]fraction][Z|±HH:MM]` at `p` into timeRead; returns the index
 * after it, or `p` when there is none. kubectl writes RFC 3339 with `T` and a zone; log4j's
 * pattern writes a space and a comma and no zone, read as UTC (only the order of lines matters).
 */
function readTime(line: string, p: number, sep: string): number {
  if (line.charCodeAt(p + 4) !== 45 || line.charCodeAt(p + 7) !== 45 || line[p + 10] !== sep || line.charCodeAt(p + 13) !== 58 || line.charCodeAt(p + 16) !== 58) return p;
  const y = digits(line, p, 4);
  const mo = digits(line, p + 5, 2);
  const d = digits(line, p + 8, 2);
  const h = digits(line, p + 11, 2);
  const mi = digits(line, p + 14, 2);
  const s = digits(line, p + 17, 2);
  if (y < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || s < 0) return p;
  let q = p + 19;
  let ms = 0;
  const dot = line.charCodeAt(q);
  if (dot === 46 || dot === 44) {
    q++;
    let scale = 100;
    for (let c = line.charCodeAt(q); c >= 48 && c <= 57; c = line.charCodeAt(++q)) {
      ms += (c - 48) * scale;
      scale /= 10;
    }
  }
  let offset = 0;
  const zone = line.charCodeAt(q);
  if (zone === 90) q++;
  else if ((zone === 43 || zone === 45) && line.charCodeAt(q + 3) === 58) {
    const oh = digits(line, q + 1, 2);
    const om = digits(line, q + 4, 2);
    if (oh < 0 || om < 0) return p;
    offset = (zone === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
    q += 6;
  }
  timeRead = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(ms) - offset;
  return q;
}
