// What every report says about the run besides the outcomes.

export interface ReportMeta {
  /** Also the folder names: `.sandbox/runs/<run-id>/` (histories) and `.sandbox/reports/<run-id>/`. */
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** The sandbox's own version and the pinned versions the scenarios ran against. */
  versions: Record<string, string>;
  /** Ctrl-C stopped the run: the scenarios not reached are absent, not passed. */
  interrupted: boolean;
  /** The diagnostics bundle written after a failure. */
  artifacts?: string;
}

/** Where the three reports of a run are. */
export interface ReportPaths {
  dir: string;
  junit: string;
  json: string;
  html: string;
}
