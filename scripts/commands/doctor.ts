// `sandbox doctor`: every check with its fix; exit 1 when any check fails.
import { SandboxError } from '../lib/errors.ts';
import { pipeline } from '../steps/index.ts';
import { requiredMemoryMiB } from '../steps/preflight.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

const MARK = { ok: '✔', warn: '!', fail: '✖' } as const;

export async function doctor(opts: GlobalOptions): Promise<void> {
  const cfg = await configFrom(opts);
  const { runDoctorChecks } = await import('./doctor-checks.ts');
  const needMiB = requiredMemoryMiB(pipeline(cfg), cfg);
  const checks = await runDoctorChecks(cfg, { profileMemoryBytes: needMiB * 1024 ** 2 });
  const failed = checks.filter((c) => c.status === 'fail');
  emit(opts, { ok: failed.length === 0, profile: cfg.profile, checks }, () =>
    checks
      .map((c) => `${MARK[c.status]} ${c.title}: ${c.detail}${c.fix && c.status !== 'ok' ? `\n    fix: ${c.fix}` : ''}`)
      .join('\n'),
  );
  if (failed.length) {
    // The checks were printed above; the error only sets the exit code and a summary.
    throw new SandboxError(`${failed.length} check(s) failed: ${failed.map((c) => c.title).join(', ')}`, {
      hint: failed[0]!.fix,
      data: { checks },
    });
  }
}
