// The verdict for people (text) and for programs (JSON). JUnit and HTML come with the CI harness.
import type { Interval } from './intervals.ts';
import type { Verdict } from './verdict.ts';

const span = ([from, to]: Interval): string => (from === to ? `${from}` : `${from}..${to}`);
const spans = (list: Interval[], max = 8): string => (list.length ? list.slice(0, max).map(span).join(', ') + (list.length > max ? ` … (${list.length - max} more)` : '') : '-');

const HEADLINE = { true: '✔ VALID', false: '✖ INVALID', unknown: '? UNKNOWN' } as const;

/** Several lines: the verdict, every finding with the fault it follows, then each sequence. */
export function renderText(v: Verdict): string {
  const out = [`${HEADLINE[String(v.valid) as keyof typeof HEADLINE]}: ${v.summary.replace(/^(valid|invalid|unknown): /, '')}`];
  const c = v.counts;
  out.push(
    `  ${c.records} records in ${c.sequences} sequence${c.sequences === 1 ? '' : 's'}: ${c.lost} lost, ${c.unseen} unseen (in flight), ${c.duplicates} duplicates${v.history ? ` (${c.replayed} inside replay windows or after a reset)` : ''}, ${c.resets} resets, ${c.malformed} malformed, ${c.unexpected} impossible`,
  );
  const failures = v.findings.filter((f) => f.fail);
  const notes = v.findings.filter((f) => !f.fail);
  if (failures.length) out.push('', 'problems:', ...failures.map((f) => `  ✖ ${f.message}`));
  if (notes.length) out.push('', 'notes:', ...notes.map((f) => `  · ${f.message}`));
  if (!v.history && v.counts.duplicates > 0) {
    out.push('', 'Without a history (--history) no checkpoint times are known: a replay cannot be told from a duplicate, so duplicates are reported, not failed.');
  }
  out.push('', 'sequences:');
  for (const s of v.sequences) {
    const prefixes = s.prefixes ? `, printed as ${s.prefixes.map((p) => `${p}>`).join(' then ')}` : '';
    out.push(`  ${s.id}: ${s.lowest}..${s.highest}, ${s.distinct} distinct${prefixes}; lost ${spans(s.lost)}; unseen ${spans(s.unseen)}; repeated ${spans(s.duplicates)}`);
  }
  if (v.replayWindows.length) {
    out.push('', 'replay windows (from the history):', ...v.replayWindows.map((w) => `  ${w.sequence} ${w.from}..${w.to} after ${w.after}`));
  }
  if (v.liveness.length) {
    out.push(
      '',
      'liveness:',
      ...v.liveness.map((l) => `  after ${l.after}: ${l.status}${l.tookMs === undefined ? '' : ` in ${(l.tookMs / 1000).toFixed(1)} s`} (mark ${l.mark ?? '-'}, deadline ${(l.deadlineMs / 1000).toFixed(0)} s)`),
    );
  }
  if (v.malformedSamples.length) out.push('', 'malformed lines:', ...v.malformedSamples.map((s) => `  ${s.source}: ${s.text}`));
  if (v.unexpectedSamples.length) out.push('', 'impossible values:', ...v.unexpectedSamples.map((s) => `  ${s.source}: ${s.text}`));
  return out.join('\n');
}

/** The verdict as one JSON document. */
export function renderJson(v: Verdict): string {
  return JSON.stringify(v, null, 2);
}
