// Bad input through the built CLI: unknown commands, flags and scenario names, broken config
// files, a broken kind-config.yaml, damaged histories, random bytes and pathological lines to
// `verify` (fuzzed). Each must end in one clear sentence, a hint and its exit code: never a
// stack trace, never a hang, and `verify` must stream (a file larger than its heap still works).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.ts';

let dir: string;
let env: Record<string, string>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-bad-input-'));
  // No cluster and no kubeconfig: bad input must be refused before anything is touched.
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KUBECONFIG: join(dir, 'no-kubeconfig'),
    SANDBOX_STATE_DIR: join(dir, 'state'),
    SANDBOX_CACHE_DIR: join(dir, 'cache'),
    CI: 'true',
    NO_COLOR: '1',
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** A user error: the exit code, a message, a hint, and no stack trace. */
function expectUserError(res: CliResult, code: number, message: RegExp): void {
  expect(res.code, res.stderr + res.stdout).toBe(code);
  expect(res.stderr).toMatch(message);
  expect(res.stderr).toMatch(/hint:|--help/);
  expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(res.stderr).not.toContain('please report');
}

describe('the command line', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['up', '--frobnicate'], /unknown option '--frobnicate'/],
    [['up', '--profile', 'huge'], /argument 'huge' is invalid/],
    [['scenario', 'no-such-scenario'], /unknown scenario: no-such-scenario/],
    [['test', 'kill-taskmanager', 'no-such'], /unknown scenario: no-such/],
  ])('sandbox %j: exit 64 with what is wrong', async (args, message) => {
    expectUserError(await runCli(args, { env }), 64, message);
  });

  it('with --json the refusal is still one JSON document with exit code 64', async () => {
    const res = await runCli(['status', '--json', '--frobnicate'], { env });
    expect(res.code).toBe(64);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, error: { exitCode: 64, message: "unknown option '--frobnicate'" } });
  });
});

describe('a config file', () => {
  it.each([
    ['wrong type', 'timeouts:\n  stepSeconds: soon\n', /timeouts\.stepSeconds/, /got timeouts\.stepSeconds: "soon"/],
    ['unknown key', 'cluster:\n  nmae: x\n', /unknown config key "cluster\.nmae"/, /allowed here/],
    ['out of range', 'cluster:\n  ingressHttpPort: 70000\n', /cluster\.ingressHttpPort/, /from 1 to 65535/],
    ['a bad name', 'cluster:\n  name: Not_A_Name\n', /cluster\.name/, /got cluster\.name: "Not_A_Name"/],
    ['not YAML', 'timeouts: [1, 2\n', /not valid YAML/, /hint:/],
    ['not a mapping', '- 1\n- 2\n', /config/, /hint:/],
  ])('%s: refused with exit 64 naming the key', async (name, content, message, hint) => {
    const res = await runCli(['up', '--dry-run', '--config', file(`${name.replace(/ /g, '-')}.yaml`, content)], { env });
    expectUserError(res, 64, message);
    expect(res.stderr).toMatch(hint);
  });
});

describe('kind-config.yaml', () => {
  let pkg: string;
  beforeAll(() => {
    // A copy of the package whose kind-config.yaml the test may break (the CLI reads the file
    // from the package it runs from); the rest is linked.
    pkg = join(dir, 'package');
    mkdirSync(pkg);
    for (const f of ['package.json', 'bin']) cpSync(join(REPO_ROOT, f), join(pkg, f), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    for (const f of ['manifests', 'node_modules', 'job']) symlinkSync(join(REPO_ROOT, f), join(pkg, f));
  });

  // `up` checks the file before its first step, so the plan (--dry-run) is refused the same way.
  const upWith = async (kindConfig: string, args: string[] = ['--dry-run']): Promise<CliResult> => {
    writeFileSync(join(pkg, 'kind-config.yaml'), kindConfig);
    return runCli(['up', ...args], { env, bin: join(pkg, 'bin', 'sandbox.js') });
  };

  it('the shipped file passes the check', async () => {
    const res = await upWith(readFileSync(join(REPO_ROOT, 'kind-config.yaml'), 'utf8'));
    expect(res.code, res.stderr).toBe(0);
  });

  it.each([
    ['not YAML', 'nodes: [\n', /kind-config\.yaml is not valid YAML/],
    ['no nodes', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n', /must have required property 'nodes'/],
    ['nodes not a list', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: worker\n', /nodes must be array/],
    ['no control plane', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: worker\n', /a node with role control-plane/],
    ['a bad port', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n    extraPortMappings:\n      - containerPort: 80\n        hostPort: http\n', /nodes\.0\.extraPortMappings\.0\.hostPort must be integer/],
    ['another kind', 'kind: Pod\napiVersion: v1\nnodes: []\n', /kind must be "Cluster"/],
  ])('%s: up refuses it with exit 64 before its first step', async (_name, content, message) => {
    const res = await upWith(content);
    expectUserError(res, 64, message);
    expect(res.stderr).toContain('kind-config.yaml');
  });

  it('a real up stops there too, before any step starts', async () => {
    const res = await upWith('nodes: [\n', ['--only', 'cluster']);
    expectUserError(res, 64, /kind-config\.yaml is not valid YAML/);
    expect(res.stdout + res.stderr).not.toContain('Kubernetes cluster');
  });
});

describe('verify', () => {
  it('a damaged history: exit 2 naming the line, with a hint', async () => {
    const history = file('history.jsonl', '{"t":1,"kind":"record","seq":1,"subtask":0,"attempt":0,"source":"a"}\n{"t":2,"kind":"rec');
    const res = await runCli(['verify', '--history', history], { env });
    expectUserError(res, 2, /history\.jsonl:2: not a history event: not JSON/);
  });

  it('a history of the wrong shape: exit 2', async () => {
    expectUserError(await runCli(['verify', '--history', file('shape.jsonl', '[1,2,3]\n')], { env }), 2, /shape\.jsonl:1: not a history event/);
  });

  it('random bytes and pathological lines (fuzzed): a verdict or a clear refusal, one JSON document, never a crash', async () => {
    const pathological = fc.constantFrom(
      `SEQ seq=${'9'.repeat(5000)} subtask=0 attempt=0`,
      'SEQ seq=-1 subtask=0 attempt=0',
      'SEQ seq=1e400 subtask=0 attempt=0',
      'SEQ seq=NaN subtask=x attempt=',
      `1> Number: ${'1'.repeat(400)}`,
      '{"message":"SEQ seq=1 subtask=0 attempt=0"',
      '\u0000\u0001\u0002',
      'x'.repeat(200_000),
      '\ud800',
    );
    const content = fc.oneof(
      fc.uint8Array({ maxLength: 4000 }),
      fc.array(fc.oneof(pathological, fc.string({ unit: 'binary', maxLength: 80 }), fc.nat().map((n) => `SEQ seq=${n} subtask=0 attempt=0`)), { maxLength: 40 }).map((lines) => lines.join('\n')),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(content, async (bytes) => {
        const res = await runCli(['verify', '--json', file(`fuzz-${run++}.log`, bytes)], { env, timeoutMs: 20_000 });
        expect([0, 1, 2], res.stderr).toContain(res.code);
        expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
        const doc = JSON.parse(res.stdout) as { ok: boolean };
        expect(typeof doc.ok).toBe('boolean');
      }),
      { numRuns: 12 },
    );
  }, 60_000);

  it('streams: a 27 MB log of mixed bad lines is judged within a 24 MB heap', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) {
      const shape = i % 4;
      lines.push(shape === 0 ? `SEQ seq=${i} subtask=0 attempt=0 ${'y'.repeat(40)}` : shape === 1 ? `\u0000\u00ff garbage ${'z'.repeat(60)}` : shape === 2 ? `SEQ seq=${'9'.repeat(80)} subtask=1 attempt=0` : `  1> Number: ${i}`);
    }
    const big = file('big.log', `${lines.join('\n')}\n`);
    // An out-of-memory abort exits 134; holding the file would need more than this heap.
    const res = await runCli(['verify', big], { env: { ...env, NODE_OPTIONS: '--max-old-space-size=24' }, timeoutMs: 40_000 });
    expect(res.code, res.stderr.slice(0, 2000)).toBe(1);
    expect(res.stdout).toMatch(/INVALID: no valid records, 200000 malformed record lines/);
  }, 60_000);
});
