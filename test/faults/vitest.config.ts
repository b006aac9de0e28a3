// The fault matrix (`npm run test:faults`): every fault of issue 11 through the built CLI against
// test/sim, each with its message, exit code, diagnostics bundle and a converging re-run. Its own
// tier so `npm test` does not grow; `npm run test:faults` builds first.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // As in npm test: the files mostly wait on the simulated clock, so three run at once on 2 cores.
    maxWorkers: 3,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
