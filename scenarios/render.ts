// Outcomes as a person reads them on a terminal: each scenario, its claims with the numbers
// behind them, and where its history is.
import type { ScenarioOutcome } from './run.ts';

export function outcomesText(outcomes: ScenarioOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    lines.push(`${o.ok ? '✓' : '✖'} ${o.scenario} (${(o.durationMs / 1000).toFixed(1)}s)`);
    if (o.error) lines.push(`    ✖ could not be carried out: ${o.error.message}${o.error.hint ? `\n      hint: ${o.error.hint}` : ''}`);
    for (const c of o.claims) lines.push(`    ${c.ok ? '✓' : '✖'} ${c.title}: ${c.detail}`);
    lines.push(`    history: ${o.historyFile}`);
  }
  const passed = outcomes.filter((o) => o.ok).length;
  lines.push('', `${passed} of ${outcomes.length} scenarios passed`);
  return lines.join('\n');
}
