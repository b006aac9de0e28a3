// The Ctrl-C tier (`npm run test:interrupt`): the built CLI signalled at every step of `up` and
// every phase of a scenario, on one simulated sandbox per file. Not part of `npm test` (minutes,
// not seconds); .ci/run runs it after `npm test`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/interrupt/**/*.test.ts'],
    // Two files at once on two cores: each runs one simulation and one CLI at a time.
    maxWorkers: 2,
    // Room for a phase reached slowly on a loaded machine (waitFor gives up after 150 s).
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
