// The continuity checker: what scenarios, `sandbox verify` and the CI harness use.
export { Checker, type CheckerOptions, type CheckerProgress, NUMBER, SEQ } from './checker.ts';
export * from './history.ts';
export { feedInputs, type FileStats, type Inputs } from './inputs.ts';
export { renderJson, renderText } from './render.ts';
export type * from './verdict.ts';
