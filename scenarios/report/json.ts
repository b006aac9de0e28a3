// report.json: the whole run as data, for scripts and for later comparison of runs. The outcomes
// are kept exactly as the scenarios returned them (verdicts included), so nothing a reader of the
// JUnit or HTML report sees is missing here.
import type { ScenarioOutcome } from '../run.ts';
import type { ReportMeta, ReportPaths } from './meta.ts';

export interface JsonReport extends ReportMeta {
  ok: boolean;
  /** Scenarios run, passed, failed. */
  counts: { scenarios: number; passed: number; failed: number };
  reports: ReportPaths;
  outcomes: ScenarioOutcome[];
}

export function jsonReport(outcomes: ScenarioOutcome[], meta: ReportMeta, paths: ReportPaths): JsonReport {
  const passed = outcomes.filter((o) => o.ok).length;
  return {
    ok: !meta.interrupted && passed === outcomes.length,
    ...meta,
    counts: { scenarios: outcomes.length, passed, failed: outcomes.length - passed },
    reports: paths,
    outcomes,
  };
}
