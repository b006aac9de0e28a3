// A tool download with a bad checksum: on a machine without kind, `sandbox up` downloads the
// pinned kind; the server answers with a file whose sha256 is not the pinned one. The CLI refuses
// it (nothing is installed into the cache), says which URL and both sums, and once the server
// serves the genuine file a re-run installs it and converges.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { platformKey } from '../../scripts/lib/exec/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startHttp, type LocalHttp } from '../helpers/http.ts';
import { FAKE_BIN_DIR } from '../sim/harness.ts';
import { STEPS, bundleFile, closeSimAfterEach, expectReported, freshSim } from './kit.ts';

closeSimAfterEach();
let server: LocalHttp | undefined;
afterAll(async () => {
  await server?.close();
});

/** A shim that runs one of the simulation's fake tools, needing nothing else on PATH. */
function shim(tool: string): string {
  return `#!/bin/sh\nexec "$SIM_NODE" --no-warnings "${join(dirname(FAKE_BIN_DIR), 'tools', `fake-${tool}.ts`)}" "$@"\n`;
}

it('a kind download whose sha256 is not the pinned one is refused, and a re-run with the genuine file converges', async () => {
  const sim = await freshSim();
  // PATH: docker (the fake), bash (zx runs commands through it) and Node; no kind.
  const bin = join(sim.dir, 'no-kind-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker'), shim('docker'));
  chmodSync(join(bin, 'docker'), 0o755);
  const bash = (process.env.PATH ?? '').split(':').map((d) => join(d, 'bash')).find((p) => existsSync(p));
  symlinkSync(bash!, join(bin, 'bash'));
  const env = { ...sim.env, PATH: `${bin}:${dirname(process.execPath)}` };

  const genuine = shim('kind');
  const tampered = `${genuine}# altered on the way\n`;
  let serve = tampered;
  const requests: string[] = [];
  server = await startHttp((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.end(serve);
  });
  const { os, arch } = platformKey();
  const pinned = createHash('sha256').update(genuine).digest('hex');
  const config = join(sim.dir, 'kind-download.yaml');
  writeFileSync(config, `tools:\n  kind:\n    url: ${server.base}/kind-{os}-{arch}\n    sha256:\n      ${os}-${arch}: ${pinned}\n`);

  const res = await runCli([...STEPS, '--config', config], { env, timeoutMs: 90_000 });
  // The fault fired: the CLI downloaded the tampered file.
  expect(requests).toContain(`GET /kind-${os}-${arch}`);
  const actual = createHash('sha256').update(tampered).digest('hex');
  const { bundle } = expectReported(res, {
    message: new RegExp(`checksum mismatch for ${server.base}/kind-${os}-${arch}: expected sha256 ${pinned}, got ${actual}`),
    hint: /was not installed; re-run, or install kind v[\d.]+ yourself/,
  });
  expect(bundleFile(bundle, 'summary.json')).toMatch(/checksum mismatch/);
  // Nothing of it was kept: no kind in the cache, not even a partial file.
  const cached = join(sim.env.SANDBOX_CACHE_DIR!, 'bin');
  expect(existsSync(cached) ? readdirSync(cached, { recursive: true }).map(String).filter((f) => f.includes('kind')) : []).toEqual([]);
  expect(await sim.calls('kind')).toEqual([]);

  // The server serves the genuine file again: the re-run downloads it, checks it and converges.
  serve = genuine;
  const again = await runCli([...STEPS, '--config', config], { env, timeoutMs: 120_000 });
  expect(again.code, again.stderr).toBe(0);
  expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toHaveLength(1);
});
