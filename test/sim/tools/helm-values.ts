// Helm's values: chart defaults, then each -f file, then --set / --set-string, merged the
// way helm merges them (maps deep-merge, everything else replaces; null deletes a key).
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ToolExit } from './common.ts';

export type Values = Record<string, unknown>;

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: `over` wins; null in `over` removes the key (helm's coalescing). */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

export function readValuesFile(path: string): Values {
  if (!existsSync(path)) throw new ToolExit(`Error: open ${path}: no such file or directory`);
  try {
    const doc = parse(readFileSync(path, 'utf8')) as unknown;
    if (doc === null || doc === undefined) return {};
    if (!isMap(doc)) throw new Error('values must be a mapping');
    return doc;
  } catch (err) {
    if (err instanceof ToolExit) throw err;
    throw new ToolExit(`Error: failed to parse ${path}: error converting YAML to JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Splits on separators not escaped with a backslash, and not inside {...} lists. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** strvals typing: true/false, null, integers become typed; --set-string keeps strings. */
function typed(raw: string, asString: boolean): unknown {
  if (asString) return unescape(raw);
  if (raw.startsWith('{') && raw.endsWith('}')) return splitUnescaped(raw.slice(1, -1), ',').filter((x) => x !== '').map((x) => typed(x, false));
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^-?(0|[1-9]\d*)$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  return unescape(raw);
}

/** Applies one `--set a.b[0].c=v,x=y` argument to `into`. */
export function applySet(into: Values, arg: string, asString = false): void {
  for (const pair of splitUnescaped(arg, ',')) {
    if (pair === '') continue;
    const eq = pair.search(/(?<!\\)=/);
    if (eq < 0) throw new ToolExit(`Error: failed parsing --set data: key "${pair}" has no value`);
    const path = splitUnescaped(pair.slice(0, eq), '.');
    const value = typed(pair.slice(eq + 1), asString);
    let cur: Values | unknown[] = into;
    for (let i = 0; i < path.length; i++) {
      const m = /^(.*?)((?:\[\d+\])*)$/.exec(path[i]!)!;
      const key = unescape(m[1]!);
      const indexes = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
      const last = i === path.length - 1;
      let holder: Values | unknown[] = cur;
      let slot: string | number = key;
      for (const idx of indexes) {
        const container = holder as Record<string | number, unknown>;
        if (!Array.isArray(container[slot])) container[slot] = [];
        holder = container[slot] as unknown[];
        slot = idx;
      }
      const container = holder as Record<string | number, unknown>;
      if (last) container[slot] = value;
      else {
        if (!isMap(container[slot])) container[slot] = {};
        cur = container[slot] as Values;
      }
    }
  }
}

/** Defaults <- files <- --set <- --set-string, in helm's order. */
export function userValues(files: string[], sets: string[], setStrings: string[]): Values {
  let v: Values = {};
  for (const f of files) v = mergeValues(v, readValuesFile(f));
  const fromSets: Values = {};
  for (const s of sets) applySet(fromSets, s);
  for (const s of setStrings) applySet(fromSets, s, true);
  return mergeValues(v, fromSets);
}
