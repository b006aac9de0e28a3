// kill-jobmanager: the JobManager pod is deleted. Its Deployment starts a new one, which finds the
// job in the Kubernetes HA metadata (ConfigMaps + s3://flink-data/ha) and restores it from the
// last completed checkpoint: the same claims as for a TaskManager.
import { continuity, recovered } from './claims.ts';
import { killOne } from './faults.ts';
import type { Scenario } from './scenario.ts';

export const killJobmanager: Scenario = {
  name: 'kill-jobmanager',
  summary: 'delete the JobManager pod: Kubernetes HA recovers the job from its last checkpoint, 0 lost, 0 resets',
  job: 'hello-ha',
  async setup(ctx) {
    // Two checkpoints: a recovery then has an older one it must not pick.
    await ctx.waitForCheckpoint();
    await ctx.waitForCheckpoint();
  },
  async act(ctx) {
    await killOne(ctx, 'jobmanager', 'kill-jobmanager');
  },
  claims: [continuity('sequence continues after the JobManager is killed'), recovered('kill-jobmanager')],
};
