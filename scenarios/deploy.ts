// deploy: the blog's Listing 1 with our job. The HA job reaches RUNNING, a checkpoint completes on
// MinIO, and the sequence advances with nothing lost.
import { checkpointsCompleted, continuity } from './claims.ts';
import type { Scenario } from './scenario.ts';

export const deploy: Scenario = {
  name: 'deploy',
  summary: 'deploy the HA job: it reaches RUNNING, a checkpoint completes, the sequence advances',
  job: 'hello-ha',
  async act(ctx) {
    ctx.say('waiting for a checkpoint to complete');
    await ctx.waitForCheckpoint();
    await ctx.waitForSequence(ctx.highWater() + 5, 'the sequence to advance after the checkpoint');
  },
  claims: [checkpointsCompleted(1), continuity('the sequence advances from 1 with nothing lost')],
};
