// Writes the three reports of a `sandbox test` run into one folder: junit.xml for CI, report.json
// for scripts, report.html for people.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioOutcome } from '../run.ts';
import { reportHtml } from './html.ts';
import { jsonReport } from './json.ts';
import { junitXml } from './junit.ts';
import type { ReportMeta, ReportPaths } from './meta.ts';
import { DEFAULT_PLOT_LIMITS, readPlotSeries, type PlotLimits } from './plot-data.ts';

export function reportPaths(dir: string): ReportPaths {
  return { dir, junit: join(dir, 'junit.xml'), json: join(dir, 'report.json'), html: join(dir, 'report.html') };
}

export async function writeReports(dir: string, outcomes: ScenarioOutcome[], meta: ReportMeta, limits: PlotLimits = DEFAULT_PLOT_LIMITS): Promise<ReportPaths> {
  const paths = reportPaths(dir);
  await mkdir(dir, { recursive: true });
  // One history at a time: each can be long, and only its plot points are kept.
  const scenarios = [];
  for (const outcome of outcomes) scenarios.push({ outcome, series: await readPlotSeries(outcome.historyFile, limits) });
  await writeFile(paths.junit, junitXml(outcomes, meta));
  await writeFile(paths.json, `${JSON.stringify(jsonReport(outcomes, meta, paths), null, 2)}\n`);
  await writeFile(paths.html, reportHtml(scenarios, meta));
  return paths;
}
