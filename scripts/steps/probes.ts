// Read-only probes shared by the steps of one run (`kind get clusters`, `helm list`): asked once,
// possibly early (a step's `prefetch`, which the preflight starts beside `docker info`), and the
// answer handed to every step that needs it. A failed answer is never handed on: whoever asks
// after a failure asks again, so a probe started before the cluster existed costs nothing but
// its own process.
import type { RunState, StepContext } from '../pipeline/step.ts';

const answers = new WeakMap<RunState, Map<string, Promise<unknown>>>();

export async function askOnce<T>(ctx: StepContext, key: string, ask: () => Promise<T>): Promise<T> {
  let run = answers.get(ctx.state);
  if (!run) answers.set(ctx.state, (run = new Map()));
  const earlier = run.get(key) as Promise<T> | undefined;
  if (earlier) {
    try {
      return await earlier;
    } catch {
      // asked again below
    }
  }
  const now = ask();
  run.set(key, now);
  now.catch(() => {
    if (run.get(key) === now) run.delete(key);
  });
  return now;
}

/** Starts a probe now for a later askOnce; its failure is left for that caller to meet again. */
export function prefetch(ctx: StepContext, key: string, ask: () => Promise<unknown>): void {
  askOnce(ctx, key, ask).catch(() => undefined);
}
