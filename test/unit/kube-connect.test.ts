import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxError } from '../../scripts/lib/errors.ts';
import { connectKube } from '../../scripts/lib/kube/connect.ts';

let dir: string;
let deadPort: number;

function kubeconfig(server: string, current = 'kind-flink-sandbox'): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
contexts:
- name: kind-flink-sandbox
  context: { cluster: c1, user: u1 }
- name: other
  context: { cluster: c1, user: u1 }
current-context: ${current}
users:
- name: u1
  user: { token: t }
`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-connect-'));
  // A port that was free a moment ago: nothing listens there, so connecting is refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await writeFile(join(dir, 'config'), kubeconfig(`http://127.0.0.1:${deadPort}`));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<SandboxError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SandboxError);
  return err as SandboxError;
}

describe('connectKube', () => {
  it('names a missing context and lists the known ones', async () => {
    const err = await failure(connectKube({ kubeconfig: join(dir, 'config'), context: 'kind-nope' }));
    expect(err.message).toBe('kube context "kind-nope" not found');
    expect(err.hint).toBe('known contexts: kind-flink-sandbox, other');
  });

  it('says the server is unreachable, quickly, with a hint', async () => {
    const started = performance.now();
    const err = await failure(connectKube({ kubeconfig: join(dir, 'config'), context: 'other' }));
    expect(err.message).toContain(`cannot reach the Kubernetes API at http://127.0.0.1:${deadPort} (connection refused)`);
    expect(err.message).toContain('context other');
    expect(err.hint).toMatch(/cluster running/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('says when there is no kubeconfig at all', async () => {
    const err = await failure(connectKube({ kubeconfig: join(dir, 'absent') }));
    expect(err.message).toMatch(/^no kubeconfig found/);
    expect(err.hint).toMatch(/sandbox up/);
  });

  it('reads $KUBECONFIG when no file is given', async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(dir, 'config');
    try {
      const err = await failure(connectKube({}));
      expect(err.message).toContain('context kind-flink-sandbox');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});

describe('connectKube with a plain-http server', () => {
  it('needs no insecure-skip-tls-verify, like kubectl', async () => {
    const file = join(dir, 'plain-http');
    await writeFile(file, kubeconfig(`http://127.0.0.1:${deadPort}`).replace(', insecure-skip-tls-verify: true', ''));
    const err = await failure(connectKube({ kubeconfig: file }));
    // It got as far as connecting: client-node did not refuse the http:// server.
    expect(err.message).toContain('(connection refused)');
  });
});
