// Signals sent to the Flink processes of the simulated pods, from the `flink` fault knobs
// (faults.ts): `killProcesses` (SIGKILL, as `kill -9` inside the container or the OOM killer
// would send it) for JobManagers and TaskManagers, and `freezeTaskManagers` (SIGSTOP for a while,
// then SIGCONT). A pod deletion is not one of these: the kubelet always sends SIGTERM first, even
// with a grace period of 0, and Flink then shuts down on its own (cluster.ts).
// Each knob entry is used by the first process it names and then removed from the knobs, so that
// a replacement process (a restarted container keeps its pod's name) is not hit again.
import type { ContainerContext } from '../controllers/behaviours.ts';
import { matchesAny, patchFaults } from '../faults.ts';

export type ProcessSignal = { kind: 'kill' } | { kind: 'freeze'; seconds: number };

const ACTOR = 'flink-process';

/** The signal a knob sends to this pod's process now, if any; the entry is used up. */
export async function takeSignal(ctx: ContainerContext, canFreeze: boolean): Promise<ProcessSignal | undefined> {
  const knobs = (await ctx.faults()).flink;
  if (!knobs) return undefined;
  const pod = ctx.pod.metadata.name ?? '';
  const kills = knobs.killProcesses ?? [];
  const kill = kills.find((p) => matchesAny(pod, [p]));
  if (kill !== undefined) {
    const rest = kills.filter((p) => p !== kill);
    await useUp(ctx, { killProcesses: rest.length ? rest : null });
    return { kind: 'kill' };
  }
  const freezes = canFreeze ? (knobs.freezeTaskManagers ?? []) : [];
  const freeze = freezes.find((f) => matchesAny(pod, [f.pod]));
  if (freeze) {
    const rest = freezes.filter((f) => f !== freeze);
    await useUp(ctx, { freezeTaskManagers: rest.length ? rest : null });
    return { kind: 'freeze', seconds: freeze.seconds };
  }
  return undefined;
}

/** Removes a used entry (a server that does not answer cannot stop the signal). */
async function useUp(ctx: ContainerContext, patch: Record<string, unknown>): Promise<void> {
  await patchFaults(ctx.api.url, ACTOR, { flink: patch }).catch(() => undefined);
}
