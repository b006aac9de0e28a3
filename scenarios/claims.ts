// The claims scenarios assess, each a sentence a reader can check and the numbers behind it.
// Most read the checker's verdict; a few read facts the scenario noted while acting (a path the
// operator wrote, whether the job restarted).
import type { Claim, ClaimInput, ClaimResult } from './scenario.ts';

function counts(input: ClaimInput): string {
  const c = input.verdict.counts;
  return `${c.records} records, ${c.lost} lost, ${c.resets} resets, ${c.replayed} replayed inside replay windows, ${c.duplicates - c.replayed} duplicates outside them`;
}

function failures(input: ClaimInput): string {
  return input.verdict.findings
    .filter((f) => f.fail)
    .map((f) => f.message)
    .join('; ');
}

/**
 * Nothing lost, no reset, replays only inside their windows, the job live after every fault.
 * `noReplay`: not even a replay (a resume from a savepoint continues right after it).
 */
export function continuity(title: string, opts: { noReplay?: boolean; rewind?: boolean } = {}): Claim {
  return {
    title,
    check(input): ClaimResult {
      const v = input.verdict;
      const replayed = v.counts.replayed;
      const ok = v.valid === true && v.counts.lost === 0 && v.counts.resets === 0 && !(opts.noReplay && replayed > 0);
      const why = v.valid !== true ? (failures(input) || v.summary) : opts.noReplay && replayed > 0 ? `${replayed} numbers were seen again, but none should be` : '';
      return { ok, detail: `${counts(input)}${why ? ` - ${why}` : ''}` };
    },
  };
}

/** At least `n` checkpoints completed while the scenario ran. */
export function checkpointsCompleted(n: number): Claim {
  return {
    title: n === 1 ? 'a checkpoint completes' : `${n} checkpoints complete`,
    check: (input) => ({ ok: input.checkpoints >= n, detail: `${input.checkpoints} checkpoints completed` }),
  };
}

/** After the fault, the sequence passed its pre-fault mark within the deadline. */
export function recovered(fault: string): Claim {
  return {
    title: `the job recovers after ${fault} and passes its pre-fault mark`,
    check(input) {
      const checks = input.verdict.liveness.filter((l) => l.after.startsWith(fault));
      if (checks.length === 0) return { ok: false, detail: `no liveness check after ${fault} in the verdict` };
      const bad = checks.filter((l) => l.status !== 'passed');
      const took = checks.map((l) => (l.tookMs === undefined ? '?' : `${(l.tookMs / 1000).toFixed(1)}s`)).join(', ');
      return bad.length ? { ok: false, detail: bad.map((l) => `mark ${l.mark}: ${l.status} (deadline ${l.deadlineMs / 1000}s)`).join('; ') } : { ok: true, detail: `passed the mark ${took} after the fault` };
    },
  };
}

/** A fact the scenario noted is there (non-empty), e.g. a savepoint path the operator wrote. */
export function fact(title: string, key: string): Claim {
  return {
    title,
    check: (input) => {
      const value = input.facts[key];
      return value ? { ok: true, detail: `${key}: ${value}` } : { ok: false, detail: `${key} was empty` };
    },
  };
}

/** The job did not restart: no new pod, container or task attempt, no restore logged. */
export function untouched(): Claim {
  return {
    title: 'the job is not restarted',
    check: (input) => {
      const before = input.facts['restart mark'];
      const after = input.facts['restart mark after'];
      return before !== undefined && before === after
        ? { ok: true, detail: 'same pods, same attempts, no restore' }
        : { ok: false, detail: `the job restarted (origins/restores ${before} -> ${after})` };
    },
  };
}

/** The negative control: the checker must see the state loss. */
export function resetDetected(): Claim {
  return {
    title: 'the checker reports the reset (state lost without checkpoints)',
    check: (input) => {
      const resets = input.verdict.counts.resets;
      return resets > 0 ? { ok: true, detail: `${resets} reset reported: ${input.verdict.findings.find((f) => f.kind === 'reset')?.message ?? ''}` } : { ok: false, detail: `no reset reported (${counts(input)}): the checker missed the state loss` };
    },
  };
}
