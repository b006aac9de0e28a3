// The shape of a pipeline, without running it: its `needs` checked, its waves (what can run in
// parallel), and the subset `--only`/`--skip` select.
import { UsageError } from '../lib/errors.ts';
import type { Step } from './step.ts';

/** Rejects pipelines whose `needs` name unknown steps or form a cycle. */
export function checkPipeline(steps: readonly Step[]): void {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new Error(`duplicate step id ${s.id}`);
    ids.add(s.id);
  }
  for (const s of steps) {
    for (const need of s.needs ?? []) {
      if (!ids.has(need)) throw new Error(`step ${s.id} needs unknown step ${need}`);
    }
  }
  planWaves(steps);
}

/**
 * Groups steps into waves: every step of a wave only needs steps of earlier waves,
 * so the steps of one wave can run in parallel. Used by --dry-run to show the plan.
 */
export function planWaves(steps: readonly Step[]): Step[][] {
  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (s: Step): number => {
    const known = level.get(s.id);
    if (known !== undefined) return known;
    if (visiting.has(s.id)) throw new Error(`pipeline has a cycle through step ${s.id}`);
    visiting.add(s.id);
    let d = 0;
    for (const need of s.needs ?? []) {
      const dep = byId.get(need);
      if (dep) d = Math.max(d, depth(dep) + 1);
    }
    visiting.delete(s.id);
    level.set(s.id, d);
    return d;
  };
  const waves: Step[][] = [];
  for (const s of steps) {
    const d = depth(s);
    (waves[d] ??= []).push(s);
  }
  return waves.filter(Boolean);
}

/**
 * For each step, the longest chain of steps that wait for it (0: nothing does). The engine gives
 * a step's tool processes this priority: what more steps wait for goes first.
 */
export function chainsAfter(steps: readonly Step[]): Map<string, number> {
  const dependents = new Map<string, string[]>();
  for (const s of steps) for (const need of s.needs ?? []) (dependents.get(need) ?? dependents.set(need, []).get(need)!).push(s.id);
  const chain = new Map<string, number>();
  const after = (id: string): number => {
    const known = chain.get(id);
    if (known !== undefined) return known;
    const n = Math.max(0, ...(dependents.get(id) ?? []).map((d) => after(d) + 1));
    chain.set(id, n);
    return n;
  };
  for (const s of steps) after(s.id);
  return chain;
}

/** Keeps `--only` steps (plus nothing else) or drops `--skip` steps; dangling needs are dropped. */
export function selectSteps(steps: readonly Step[], only: string[] | undefined, skip: string[] | undefined): Step[] {
  const known = new Set(steps.map((s) => s.id));
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!known.has(id)) {
      throw new UsageError(`unknown step "${id}"`, {
        hint: `steps of this pipeline: ${[...known].join(', ')}`,
      });
    }
  }
  let kept = steps.filter((s) => (only?.length ? only.includes(s.id) : true) && !(skip ?? []).includes(s.id));
  const keptIds = new Set(kept.map((s) => s.id));
  kept = kept.map((s) => ({ ...s, needs: (s.needs ?? []).filter((n) => keptIds.has(n)) }));
  return kept;
}
