// kill-taskmanager: a TaskManager pod is deleted mid-run (Kubernetes would do the same on a node
// failure). Flink restarts the job from its last completed checkpoint on a replacement
// TaskManager: nothing is lost, nothing resets, and what is replayed lies inside the window from
// that checkpoint to the last number seen before the kill.
import { continuity, recovered } from './claims.ts';
import { killOne } from './faults.ts';
import type { Scenario } from './scenario.ts';

export const killTaskmanager: Scenario = {
  name: 'kill-taskmanager',
  summary: 'delete a TaskManager pod: recovery from the last checkpoint, 0 lost, 0 resets, replays inside the window',
  job: 'hello-ha',
  async setup(ctx) {
    // Two checkpoints: a recovery then has an older one it must not pick.
    await ctx.waitForCheckpoint();
    await ctx.waitForCheckpoint();
  },
  async act(ctx) {
    await killOne(ctx, 'taskmanager', 'kill-taskmanager');
  },
  claims: [continuity('sequence continues after the TaskManager is killed'), recovered('kill-taskmanager')],
};
