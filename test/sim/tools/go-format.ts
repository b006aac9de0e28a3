// Go-flavoured formatting the real tools use in their output: time.Duration strings
// ("5m0s"), Go's time.Time String() ("2026-11-03 10:00:00.123456789 +0000 UTC"), and the
// small subset of text/template that `--format` / `--template` flags need in practice:
// literal text, `{{.Field.Sub}}`, `{{json .}}` and `{{json .Field}}`.

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration, in milliseconds; undefined when invalid. */
export function parseDuration(s: string): number | undefined {
  if (/^\d+$/.test(s)) return s === '0' ? 0 : undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** time.Duration.String() for whole milliseconds: "5m0s", "1h2m3s", "1.5s", "300ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/** Go's time.Time.String() in UTC: what `helm list` prints as UPDATED. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const nanos = `${pad(d.getUTCMilliseconds(), 3)}000000`;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${nanos} +0000 UTC`;
}

function lookup(data: unknown, path: string): unknown {
  if (path === '.' || path === '') return data;
  let cur: unknown = data;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(show).join(' ')}]` : `map[${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

/** Renders a Go template subset; throws on what it does not understand (like a parse error). */
export function renderGoTemplate(template: string, data: unknown): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_all, expr: string) => {
    const json = /^json\s+(\S+)$/.exec(expr);
    if (json) return JSON.stringify(lookup(data, json[1]!) ?? null);
    if (/^\.[\w.]*$/.test(expr) || expr === '.') return show(lookup(data, expr));
    throw new Error(`template: :1: function "${expr.split(/\s+/)[0]}" not defined`);
  });
}
