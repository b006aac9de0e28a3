// Generated credentials never leave the cluster unasked: a full simulated `sandbox test` (which
// stands the full profile up first), a failing run with its diagnostics bundle, `up`, `status` and
// `verify` with --json, and every file they leave in the state dir (run records, histories,
// reports, bundles) are searched for the MinIO credentials and the Elasticsearch password, plain
// and base64. Only `sandbox open` prints a login, because that is what it is asked for. And every
// port-forward is bound to 127.0.0.1: reachable there, refused on the machine's other addresses.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOpen, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
const outputs: Array<{ what: string; res: CliResult }> = [];
const run = async (args: string[], timeoutMs = 240_000): Promise<CliResult> => {
  const res = await runCli([...args, '--config', sim.configFile], { env: sim.env, timeoutMs });
  outputs.push({ what: `sandbox ${args.join(' ')}`, res });
  return res;
};

beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim?.close();
});

async function secretValues(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [ns, name] of [['minio', 'minio-credentials'], ['logging', 'quickstart-es-elastic-user']] as const) {
    const secret = await sim.kube.get(`/api/v1/namespaces/${ns}/secrets/${name}`);
    expect(secret, `${ns}/${name}`).toBeDefined();
    for (const [key, b64] of Object.entries((secret!.data ?? {}) as Record<string, string>)) {
      const plain = Buffer.from(b64, 'base64').toString();
      // The access key is a user name, too short to be a secret on its own; the rest must be long.
      if (key === 'accessKey') continue;
      expect(plain.length, `${name}.${key} is too short to search for`).toBeGreaterThanOrEqual(12);
      values[`${name}.${key}`] = plain;
      values[`${name}.${key} (base64)`] = b64;
    }
  }
  return values;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('secrets', () => {
  it('appear in no output and no file of a full up + test run, a failing run, its bundle, up, status and verify', async () => {
    const tested = await run(['test', 'deploy', 'logs-in-elasticsearch', '--profile', 'full', '--json']);
    expect(tested.code, tested.stderr.slice(-3000)).toBe(0);
    // A failing run leaves a diagnostics bundle (objects, events, logs of every namespace).
    await sim.patchFaults({ flink: { garbageLines: 25 } });
    const failed = await run(['test', 'deploy', '--json']);
    await sim.patchFaults({ flink: null });
    expect(failed.code, failed.stderr.slice(-2000)).toBe(1);
    const bundle = (JSON.parse(failed.stdout) as { error: { artifacts: string } }).error.artifacts;
    expect(bundle.startsWith(sim.env.SANDBOX_STATE_DIR!)).toBe(true);
    await run(['up', '--profile', 'full', '--json', '--verbose']);
    await run(['status', '--json']);
    await run(['status']);
    const history = filesUnder(join(sim.env.SANDBOX_STATE_DIR!, 'runs')).find((f) => f.endsWith('history.jsonl'));
    expect(history).toBeDefined();
    await run(['verify', '--json', '--history', history!]);

    const secrets = await secretValues();
    const files = filesUnder(sim.env.SANDBOX_STATE_DIR!);
    // The bundle and the reports are there to be searched (the test would pass vacuously otherwise).
    expect(files.filter((f) => f.startsWith(bundle)).length).toBeGreaterThan(3);
    expect(files.some((f) => f.endsWith('report.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('report.html'))).toBe(true);
    const leaks: string[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      for (const { what, res } of outputs) if ((res.stdout + res.stderr).includes(value)) leaks.push(`${name} in the output of ${what}`);
      for (const f of files) if (readFileSync(f, 'latin1').includes(value)) leaks.push(`${name} in ${f}`);
    }
    expect(leaks).toEqual([]);
  }, 400_000);

  it('sandbox open prints the login it is asked for, on a port-forward bound to 127.0.0.1 only', async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    const reach = (host: string, port: number): Promise<boolean> =>
      new Promise((resolve) => {
        const s = connect({ host, port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
    const reachable: Record<string, boolean> = {};
    const res = await runOpen('minio', sim.env, async (out) => {
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1]);
      for (const host of ['127.0.0.1', ...others]) reachable[host] = await reach(host, port);
    });
    expect(res.code, res.stderr).toBe(0);
    const info = JSON.parse(res.stdout) as { url: string; password: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(info.password).toBe((await secretValues())['minio-credentials.secretKey']);
    expect(reachable['127.0.0.1']).toBe(true);
    for (const host of others) expect(reachable[host], `port-forward reachable on ${host}`).toBe(false);
  }, 60_000);

  it('every listening socket the CLI opens names 127.0.0.1', () => {
    // Port-forwards are the CLI's only servers; a listen() without a host would bind every address.
    // doctor's host-port check is left out: it binds the address the ingress will use, and closes at once.
    const sources = filesUnder(join(REPO_ROOT, 'scripts')).filter((f) => f.endsWith('.ts') && !f.endsWith('doctor-checks.ts'));
    const listens = sources.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\.listen\(([^)]*)\)/g)].map((m) => ({ f, args: m[1]! })));
    expect(listens.length).toBeGreaterThan(0);
    for (const { f, args } of listens) expect(args, f).toContain("'127.0.0.1'");
  });
});
