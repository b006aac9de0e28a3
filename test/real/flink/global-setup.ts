// Runs once before the real-Flink tier: builds what the cache lacks (the job jar, Flink from
// Maven Central, MinIO and mc from the Go module proxy, ZooKeeper when it is the HA backend),
// outside any test's timeout, then starts the one MinIO and the one HA backend every run shares
// (a kube-apiserver for the manifest's kubernetes HA, or ZooKeeper without a control plane: see
// kube-ha.ts), says which, and stops them at the end.
import type { TestProject } from 'vitest/node';
import { describeHa, type RealSandbox, startRealSandbox } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    realSandbox: RealSandbox;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const { sandbox, stop } = await startRealSandbox((line) => process.stderr.write(`${line}\n`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`real sandbox ready in ${seconds} s: MinIO ${sandbox.minio.release} at ${sandbox.minio.endpoint}, work dir ${sandbox.root}\n${describeHa(sandbox.ha)}\n`);
  project.provide('realSandbox', sandbox);
  return stop;
}
