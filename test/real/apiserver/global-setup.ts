// Runs once before the apiserver tier: compiles the control plane on the first run (it can
// take a quarter of an hour, so it is done here, outside any test's timeout) and hands the
// binaries' paths to the test files, which each start their own control plane.
import type { TestProject } from 'vitest/node';
import { ensureControlPlaneBinaries, type ControlPlaneBinaries } from './binaries.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlaneBinaries: ControlPlaneBinaries;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = performance.now();
  const bins = await ensureControlPlaneBinaries((line) => process.stderr.write(`${line}\n`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`control plane ${bins.version}: ${bins.built ? `built in ${seconds} s` : 'cached'} (${bins.dir})\n`);
  project.provide('controlPlaneBinaries', bins);
}
