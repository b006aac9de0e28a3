// The JUnit XML report CI systems read (Jenkins, GitLab, GitHub test reporters): one testsuite
// for the run, one testcase per claim with the scenario as its class, so a dashboard lists
// "kill-taskmanager › sequence continues after the TaskManager is killed". A claim that did not
// hold is a <failure> with the checker's numbers; a scenario that could not be carried out is an
// <error>, on a testcase every scenario has, so the number of tests stays the same from run to
// run whether or not a scenario broke.
import type { ScenarioOutcome } from '../run.ts';
import type { ReportMeta } from './meta.ts';
import { xmlAttrs, xmlText } from './xml.ts';

/** The testcase each scenario has besides its claims: it carries the scenario's error. */
export const CARRIED_OUT = 'is carried out to a verdict';

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Attribute values lose their line breaks in parsers: the attribute gets the first line, the body all. */
function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function testcase(classname: string, name: string, ms: number, body: string[]): string[] {
  const open = `    <testcase${xmlAttrs({ classname, name, time: seconds(ms) })}`;
  return body.length ? [`${open}>`, ...body, '    </testcase>'] : [`${open}/>`];
}

function scenarioCases(o: ScenarioOutcome): string[] {
  const lines: string[] = [];
  const out = [o.verdict ? `verdict: ${o.verdict.summary}` : 'no verdict: nothing was recorded', `history: ${o.historyFile}`];
  for (const [key, value] of Object.entries(o.facts)) out.push(`${key}: ${value}`);
  const body = [`      <system-out>${xmlText(out.join('\n'))}</system-out>`];
  if (o.error) {
    const text = o.error.hint ? `${o.error.message}\nhint: ${o.error.hint}` : o.error.message;
    body.unshift(`      <error${xmlAttrs({ message: firstLine(o.error.message), type: 'ScenarioError' })}>${xmlText(text)}</error>`);
  }
  // The scenario's own time goes here; claims are judged in an instant afterwards.
  lines.push(...testcase(o.scenario, CARRIED_OUT, o.durationMs, body));
  for (const c of o.claims) {
    const failure = c.ok ? [] : [`      <failure${xmlAttrs({ message: firstLine(c.detail), type: 'ClaimFailed' })}>${xmlText(c.detail)}</failure>`];
    lines.push(...testcase(o.scenario, c.title, 0, failure));
  }
  return lines;
}

export function junitXml(outcomes: ScenarioOutcome[], meta: ReportMeta): string {
  const tests = outcomes.reduce((n, o) => n + 1 + o.claims.length, 0);
  const failures = outcomes.reduce((n, o) => n + o.claims.filter((c) => !c.ok).length, 0);
  const errors = outcomes.filter((o) => o.error).length;
  const time = seconds(outcomes.reduce((ms, o) => ms + o.durationMs, 0));
  const counts = { tests, failures, errors, skipped: 0, time };
  const properties = [['run-id', meta.runId], ['interrupted', String(meta.interrupted)], ...Object.entries(meta.versions).map(([k, v]) => [`version.${k}`, v])];
  if (meta.artifacts) properties.push(['diagnostics', meta.artifacts]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${xmlAttrs({ name: 'flink-sandbox', ...counts })}>`,
    `  <testsuite${xmlAttrs({ name: 'sandbox test', ...counts, timestamp: meta.startedAt.replace(/\.\d+Z$|Z$/, '') })}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property${xmlAttrs({ name, value })}/>`),
    '    </properties>',
    ...outcomes.flatMap(scenarioCases),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
