// Every command that takes --json prints exactly one JSON document on stdout, whether it
// succeeds or fails; a failure's document has the same `error` shape in every command, and the
// human-readable text goes to stderr.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runOpen, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

interface JsonError {
  message: string;
  causes: string[];
  hint?: string;
  exitCode: number;
}

/** The one document on stdout; JSON.parse refuses two documents or stray text around one. */
function documentOf(res: CliResult): { ok: boolean; error?: JsonError } & Record<string, unknown> {
  try {
    return JSON.parse(res.stdout) as { ok: boolean; error?: JsonError };
  } catch (err) {
    throw new Error(`stdout is not one JSON document (exit ${res.code}):\n${res.stdout}\n--- stderr:\n${res.stderr}`, { cause: err });
  }
}

function expectFailureDocument(res: CliResult): JsonError {
  expect(res.code, res.stderr).not.toBe(0);
  const doc = documentOf(res);
  expect(doc.ok).toBe(false);
  expect(doc.error).toEqual(
    expect.objectContaining({ message: expect.any(String), causes: expect.any(Array), hint: expect.any(String), exitCode: res.code }),
  );
  expect(doc.error!.message).not.toBe('');
  // A person still reads the failure, on stderr.
  expect(res.stderr).toMatch(/✖|error:/);
  return doc.error!;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('--json when the command fails', () => {
  let dir: string;
  let env: Record<string, string | undefined>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-json-'));
    // No Docker daemon, no kubeconfig: what a fresh or broken machine has.
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      DOCKER_HOST: 'unix:///nonexistent.sock',
      KUBECONFIG: '/nonexistent',
      SANDBOX_STATE_DIR: join(dir, 'state'),
      SANDBOX_CACHE_DIR: join(dir, 'cache'),
      CI: 'true',
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[], RegExp]> = [
    ['doctor', ['doctor', '--json'], /check\(s\) failed/],
    ['status', ['status', '--json'], /no sandbox cluster reachable/],
    ['up', ['up', '--json'], /Preflight: Docker and resources failed/],
    ['up --dry-run', ['up', '--dry-run', '--only', 'no-such-step', '--json'], /unknown step "no-such-step"/],
    ['open', ['open', 'kibana', '--json'], /kubeconfig/],
    ['down', ['down', '--config', '/nonexistent/sandbox.yaml', '--json'], /cannot read config file/],
    ['a bad flag', ['up', '--profile', 'huge', '--json'], /argument 'huge' is invalid/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: one document with ok false and the error`, async () => {
      const res = await runCli(args, { env, timeoutMs: 30_000 });
      const error = expectFailureDocument(res);
      expect(error.message).toMatch(message);
    });
  }

  it('doctor: the checks and the error in the same document', async () => {
    const res = await runCli(['doctor', '--json'], { env, timeoutMs: 30_000 });
    const doc = documentOf(res);
    expect(doc.checks).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'docker.reachable', status: 'fail' })]));
    expect(doc.error?.message).toMatch(/Docker daemon/);
  });

  it('up: the step records and the error in the same document', async () => {
    const res = await runCli(['up', '--json'], { env, timeoutMs: 30_000 });
    const doc = documentOf(res);
    expect((doc.steps as Array<{ id: string; outcome: string }>).slice(0, 2)).toEqual([
      expect.objectContaining({ id: 'preflight', outcome: 'failed' }),
      expect.objectContaining({ id: 'cluster', outcome: 'blocked' }),
    ]);
    expect(doc.error?.causes.join('\n')).toMatch(/Docker/);
  });
});

describe('--json when the command succeeds', () => {
  let sim: Sim;
  let doctorConfig: string;
  beforeAll(async () => {
    sim = await startSim();
    // Doctor passes on any machine: free host ports (kind and helm are the simulation's).
    doctorConfig = join(sim.dir, 'doctor.yaml');
    writeFileSync(
      doctorConfig,
      `cluster:\n  ingressHttpPort: ${await freePort()}\n  ingressHttpsPort: ${await freePort()}\n`,
    );
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** Runs a command expected to succeed and returns its one document. */
  async function ok(args: string[], timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const res = await runCli(args, { env: sim.env, timeoutMs });
    expect(res.code, res.stderr).toBe(0);
    const doc = documentOf(res);
    expect(doc.ok).toBe(true);
    expect(doc.error).toBeUndefined();
    return doc;
  }

  it('doctor, up --dry-run, up, status, open and down each print one document with ok true', async () => {
    expect((await ok(['doctor', '--config', doctorConfig, '--json'])).checks).toEqual(expect.any(Array));
    expect((await ok(['up', '--dry-run', '--json'])).waves).toEqual(expect.any(Array));
    const up = await ok(['up', '--config', sim.configFile, '--profile', 'minimal', '--json'], 150_000);
    expect((up.steps as Array<{ outcome: string }>).every((s) => s.outcome === 'done')).toBe(true);
    expect((await ok(['status', '--json'])).components).toEqual(expect.any(Array));

    // open keeps running: its document is written at once, and Ctrl-C ends it.
    const open = await runOpen('minio', sim.env);
    expect(open.code, open.stderr).toBe(0);
    expect(documentOf(open)).toEqual(expect.objectContaining({ ok: true, ui: 'minio', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) }));

    expect((await ok(['down', '--json'])).deleted).toEqual(['kind cluster flink-sandbox']);
    expect((await ok(['down', '--json'])).deleted).toEqual([]);
  }, 300_000);
});
