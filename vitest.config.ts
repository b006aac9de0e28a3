import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The real-cluster tier runs only when asked for (SANDBOX_E2E=1): it needs Docker and registries.
    include: process.env.SANDBOX_E2E ? ['test/e2e/**/*.e2e.test.ts'] : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
