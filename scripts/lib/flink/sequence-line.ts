// Parses the one log line the hello-world job writes per record (job/.../HelloJob.java,
// SEQ_FORMAT): `SEQ seq=<n> subtask=<i> attempt=<a>`. Lines arrive either as raw text (plain
// log layout, possibly after a timestamp/logger prefix) or as the JSON object the ECS layout
// writes, whose `message` holds that text. A unit test reads the Java format literal and checks
// this parser against it, so the two cannot drift apart.

export interface SequenceRecord {
  seq: number;
  subtask: number;
  attempt: number;
}

/** A line that is ours (it carries the SEQ marker) but does not have the expected shape. */
export interface MalformedLine {
  malformed: string;
}

// The marker that makes a line "ours"; anything after it must match RECORD exactly.
const MARKER = /(?:^|[^A-Za-z0-9_])SEQ(?: |$)/;
const RECORD = /(?:^|[^A-Za-z0-9_])SEQ seq=(\d+) subtask=(\d+) attempt=(\d+)\s*$/;

/**
 * The record in `line`; `{malformed}` when the line carries our marker but is broken (truncated,
 * non-numeric, out of range); undefined for every other line (Flink's own logs, blank lines).
 */
export function parseSequenceLine(line: string): SequenceRecord | MalformedLine | undefined {
  const text = messageOf(line.trim());
  if (text === BROKEN_JSON) return { malformed: line };
  if (text === undefined || !MARKER.test(text)) return undefined;
  const m = RECORD.exec(text);
  if (!m) return { malformed: line };
  const [seq, subtask, attempt] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  // Digits only, so these can only fail by being too large to be exact doubles.
  if (![seq, subtask, attempt].every(Number.isSafeInteger)) return { malformed: line };
  return { seq, subtask, attempt };
}

const BROKEN_JSON = Symbol('broken JSON line carrying the marker');

/** The log message of a line: the `message` field of a JSON line, or the line itself. */
function messageOf(line: string): string | typeof BROKEN_JSON | undefined {
  if (!line.startsWith('{')) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    // A cut-off JSON line (log rotation, a killed pod) that carries the marker is ours, broken.
    return MARKER.test(line) ? BROKEN_JSON : undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const message = (parsed as { message?: unknown }).message;
  return typeof message === 'string' ? message.trim() : undefined;
}
