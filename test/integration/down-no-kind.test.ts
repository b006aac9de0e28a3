// `down` on a machine without kind (not on PATH, not cached): with no sandbox cluster it has
// nothing to delete and says so, without downloading kind; when Docker holds the cluster's
// node containers it fetches kind and deletes the cluster. `doctor` says when a missing tool
// cannot be downloaded from here.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { platformKey } from '../../scripts/lib/exec/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startHttp, type LocalHttp } from '../helpers/http.ts';
import { FAKE_BIN_DIR, startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
let kindServer: LocalHttp;
const kindRequests: string[] = [];
/** The simulation's environment with a PATH that has Docker (the fake) and Node, and no kind. */
let env: Record<string, string>;
let config: string;

beforeAll(async () => {
  sim = await startSim();
  const bin = join(sim.dir, 'no-kind-bin');
  mkdirSync(bin);
  // A shim of the fake docker that needs nothing else on PATH.
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\nexec "$SIM_NODE" --no-warnings "${join(dirname(FAKE_BIN_DIR), 'tools', 'fake-docker.ts')}" "$@"\n`);
  chmodSync(join(bin, 'docker'), 0o755);
  // zx runs every command through bash, found on PATH.
  const bash = (process.env.PATH ?? '').split(':').map((d) => join(d, 'bash')).find((p) => existsSync(p));
  symlinkSync(bash!, join(bin, 'bash'));
  env = { ...sim.env, PATH: `${bin}:${dirname(process.execPath)}` };
  // What the kind download serves: a kind that is the simulation's fake, pinned by its sha256.
  const kind = `#!/bin/sh\nexec "$SIM_NODE" --no-warnings "${join(dirname(FAKE_BIN_DIR), 'tools', 'fake-kind.ts')}" "$@"\n`;
  kindServer = await startHttp((req, res) => {
    kindRequests.push(`${req.method} ${req.url}`);
    res.end(kind);
  });
  const { os, arch } = platformKey();
  config = join(sim.dir, 'kind-download.yaml');
  writeFileSync(
    config,
    `tools:\n  kind:\n    url: ${kindServer.base}/kind-{os}-{arch}\n    sha256:\n      ${os}-${arch}: ${createHash('sha256').update(kind).digest('hex')}\n`,
  );
});
afterAll(async () => {
  await kindServer?.close();
  await sim?.close();
});

it('with no cluster: nothing to delete, exit 0, and kind is not downloaded', async () => {
  const res = await runCli(['down', '--config', config], { env, timeoutMs: 30_000 });
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout.trim()).toBe('✔ nothing to delete: no kind cluster named flink-sandbox');
  expect(kindRequests).toEqual([]);
});

it('with Docker down: nothing to delete, exit 0, and it says why and what to do once Docker is back', async () => {
  await sim.patchFaults({ docker: { down: true } });
  try {
    const res = await runCli(['down', '--config', config, '--json'], { env, timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { deleted: string[]; note: string };
    expect(doc.deleted).toEqual([]);
    expect(doc.note).toMatch(/Docker is not reachable.*start Docker and run `sandbox down` again/);
    expect(kindRequests).toEqual([]);
  } finally {
    await sim.patchFaults({ docker: null });
  }
});

it('with the cluster\'s node containers in Docker: downloads kind, deletes the cluster', async () => {
  expect((await sim.tool('kind', ['create', 'cluster', '--name', 'flink-sandbox'])).code).toBe(0);
  const res = await runCli(['down', '--config', config], { env, timeoutMs: 60_000 });
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toContain('deleted kind cluster flink-sandbox');
  expect(kindRequests).toEqual([`GET /kind-${platformKey().os}-${platformKey().arch}`]);
  expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'delete')).toHaveLength(1);
  expect(await sim.kube.list('/api/v1/nodes')).toEqual([]);
});

it('doctor fails a missing tool that cannot be downloaded from here, instead of promising a download', async () => {
  // helm is missing too, and nothing listens where it would come from.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const offline = join(sim.dir, 'offline.yaml');
  writeFileSync(offline, `tools:\n  helm:\n    url: http://127.0.0.1:${port}/helm-{version}-{os}-{arch}.tar.gz\n`);
  const res = await runCli(['doctor', '--config', offline, '--json'], { env, timeoutMs: 30_000 });
  const doc = JSON.parse(res.stdout) as { checks: Array<{ id: string; status: string; detail: string; fix?: string }> };
  expect(doc.checks.find((c) => c.id === 'tool.helm')).toEqual({
    id: 'tool.helm',
    title: 'helm',
    status: 'fail',
    detail: `not on PATH, and v4.3.0 cannot be downloaded: connection refused by 127.0.0.1:${port} (the server is down or unreachable)`,
    fix: `install helm v4.3.0 yourself and put it on PATH, or run where 127.0.0.1:${port} is reachable`,
  });
  expect(res.code).toBe(1);
});
