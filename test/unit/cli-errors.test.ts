// Bugs stay bugs: `sandbox up` with a step that hits a TypeError prints the TypeError's stack and
// asks for a report; a step that fails with a user error prints its hint and no stack. Both run
// the real cli.ts in-process, with the pipeline replaced by one fake step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SandboxError } from '../../scripts/lib/errors.ts';
import { resetInterrupt } from '../../scripts/lib/services.ts';
import type { Step } from '../../scripts/pipeline/step.ts';

const fault = vi.hoisted(() => ({ apply: (): void => undefined }));

vi.mock('../../scripts/steps/index.ts', () => ({
  pipeline: (): Step[] => [{ id: 'broken', title: 'Broken step', plan: () => [], apply: async () => fault.apply() }],
}));

const { main } = await import('../../scripts/cli.ts');

let stateDir: string;
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'cli-errors-'));
  vi.stubEnv('SANDBOX_STATE_DIR', stateDir);
  vi.stubEnv('CI', '1');
});
afterAll(() => {
  // `up` listens for Ctrl-C; the test's process must not keep that listener.
  resetInterrupt();
  vi.unstubAllEnvs();
  rmSync(stateDir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

/** Runs `sandbox <args>` in-process; returns the exit code and what went to stderr. */
async function sandbox(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  // The plain renderer's progress lines are not what this test is about.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await main(['node', 'sandbox', ...args]);
  vi.restoreAllMocks();
  return { code, stderr };
}

describe('errors at the command line', () => {
  it('a TypeError in a step is a bug: exit 1, its stack, and "please report"', async () => {
    fault.apply = () => {
      const missing = undefined as unknown as { items: string[] };
      missing.items.push('x');
    };
    const { code, stderr } = await sandbox('up');
    expect(code).toBe(1);
    expect(stderr).toContain('please report');
    expect(stderr).toMatch(/TypeError: Cannot read properties of undefined/);
    // The stack reaches the line of the step that broke (this file), not only the engine.
    expect(stderr).toMatch(/\n\s+at .*cli-errors\.test\.ts:\d+/);
    expect(stderr).not.toContain('hint:');
  });

  it('a user error in a step prints its hint and no stack', async () => {
    fault.apply = () => {
      throw new SandboxError('the widget is missing', { hint: 'install the widget' });
    };
    const { code, stderr } = await sandbox('up');
    expect(code).toBe(1);
    expect(stderr).toContain('✖ Broken step failed: the widget is missing');
    expect(stderr).toContain('hint: install the widget');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain('please report');
  });

  it('the class of an error picks the exit code: an unknown step is a usage error, exit 64, with its hint', async () => {
    const { code, stderr } = await sandbox('up', '--only', 'nonexistent');
    expect(code).toBe(64);
    expect(stderr).toContain('hint: steps of this pipeline: broken');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
