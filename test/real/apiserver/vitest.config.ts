// The apiserver tier (`npm run test:apiserver`): tests against a real kube-apiserver and etcd
// built from source. Not part of `npm test`, because its first run needs Go and compiles for
// minutes; .ci/run runs it after `npm test`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    include: ['test/real/apiserver/**/*.test.ts'],
    globalSetup: ['test/real/apiserver/global-setup.ts'],
    // One file at a time: each starts its own control plane, and the machines have two cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
