// The shell seam: arguments stay values, output goes to onLine, failures and timeouts read
// well, and Ctrl-C kills the child together with what it started.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InterruptedError, SandboxError, TimeoutError } from '../../scripts/lib/errors.ts';
import { CommandError, probe, run } from '../../scripts/lib/exec/sh.ts';
import { alive } from '../helpers/process.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-sh-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run', () => {
  it('passes arguments as values, never through the shell', async () => {
    const marker = join(dir, 'pwned');
    const tricky = ['a b', `$(touch ${marker})`, '; rm -rf /', "it's", '*'];
    const { stdout } = await run('/usr/bin/printf', ['%s\\n', ...tricky]);
    expect(stdout.split('\n').slice(0, -1)).toEqual(tricky);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it('streams every stdout and stderr line to onLine', async () => {
    const lines: string[] = [];
    const { stdout, stderr } = await run('/bin/sh', ['-c', 'echo one; echo two >&2; printf three'], { onLine: (l) => lines.push(l) });
    expect(stdout).toBe('one\nthree');
    expect(stderr).toBe('two\n');
    expect(lines.sort()).toEqual(['one', 'three', 'two']);
  });

  it('feeds input, sets env and cwd', async () => {
    const { stdout } = await run('/bin/sh', ['-c', 'cat; echo "$GREETING"; pwd'], { input: 'from stdin\n', env: { GREETING: 'hello' }, cwd: dir });
    expect(stdout.split('\n')).toEqual(['from stdin', 'hello', dir, '']);
  });

  it('throws a CommandError naming the command, exit code and last stderr lines', async () => {
    const err = await run('/bin/sh', ['-c', 'echo progress; echo "boom: it broke" >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    const e = err as CommandError;
    expect(e.message).toBe('sh -c "echo progress; echo \\"boom: it broke\\" >&2; exit 3" failed (exit 3): boom: it broke');
    expect(e.code).toBe(3);
    expect(e.stdout).toBe('progress\n');
    expect(e.stderr).toBe('boom: it broke\n');
  });

  it('kills a command that runs too long and says what it was waiting for', async () => {
    const started = Date.now();
    const err = await run('/bin/sh', ['-c', 'echo waiting for the API; sleep 30'], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/did not finish within 300ms/);
    expect((err as TimeoutError).lastSeen).toBe('waiting for the API');
  });

  it('Ctrl-C (the signal) kills the child and its children', async () => {
    const pidFile = join(dir, 'pid');
    const ac = new AbortController();
    const pending = run('/bin/sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`], { signal: ac.signal });
    let grandchild = 0;
    for (let i = 0; i < 100 && !grandchild; i++) {
      await new Promise((r) => setTimeout(r, 20));
      grandchild = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    }
    expect(alive(grandchild)).toBe(true);
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect(err).toBeInstanceOf(InterruptedError);
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });
});

describe('probe', () => {
  it('reports failure without throwing', async () => {
    expect(await probe('/bin/sh', ['-c', 'echo no >&2; exit 7'])).toEqual({ ok: false, code: 7, stdout: '', stderr: 'no\n' });
    expect(await probe('/bin/sh', ['-c', 'echo yes'])).toEqual({ ok: true, code: 0, stdout: 'yes\n', stderr: '' });
    const missing = await probe(join(dir, 'no-such-tool'), ['version']);
    expect(missing.ok).toBe(false);
    expect(missing.code).toBe(127);
  });

  it('answers ok:false with code null when it times out', async () => {
    const res = await probe('/bin/sh', ['-c', 'sleep 30'], { timeoutMs: 200 });
    expect(res).toMatchObject({ ok: false, code: null });
  });
});
