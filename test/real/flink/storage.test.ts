// The storage the real tier stands on: MinIO at the manifests' release, its bucket made by the
// sandbox's own bucket Job script. Credentials are generated as base64url, so one in 64 secrets
// begins with "-": the script must hand it to mc as a value, not as a flag.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { ensureMinio, runMc, startMinio } from './minio.ts';

const sandbox = inject('realSandbox');

it('the bucket Job script creates flink-data and proves it writable with a secret that begins with "-"', async () => {
  const bins = await ensureMinio();
  const dir = await mkdtemp(join(tmpdir(), 'flink-sandbox-minio-'));
  const minio = await startMinio(bins, dir, { accessKey: 'sandbox-dash', secretKey: '-GPRSFyRz0MoybwL9mQPAyk8EyaD8SEy' });
  try {
    expect(await readFile(`${minio.logFile}.bucket`, 'utf8')).toContain('bucket flink-data exists and is writable');
    expect(await runMc(bins.mc, minio.mcHome, ['ls', 'sandbox'])).toContain('flink-data/');
  } finally {
    await minio.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

it('the shared MinIO runs the release the manifests pin', async () => {
  const out = await runMc(sandbox.minio.mcBinary, sandbox.minio.mcHome, ['admin', 'info', 'sandbox', '--json']);
  // The server reports the release's time as its version: RELEASE.2025-09-07T16-13-09Z -> 2025-09-07T16:13:09Z.
  const version = sandbox.minio.release.replace('RELEASE.', '').replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z');
  expect(out).toContain(`"version":"${version}"`);
});
