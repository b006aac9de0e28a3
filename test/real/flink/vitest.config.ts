// The real-Flink tier (`npm run test:flink`): the hello-world job in real Flink 1.20 processes on
// a real MinIO and ZooKeeper, faults injected for real, verdicts from the product's checker. Not
// part of `npm test`: its first run needs Java 17, Maven and Go, and builds for minutes.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    include: ['test/real/flink/**/*.test.ts'],
    globalSetup: ['test/real/flink/global-setup.ts'],
    // One run at a time: each starts a JobManager and TaskManagers, and the machines have two cores.
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
