// suspend-resume: `spec.job.state: suspended` stops the job with a savepoint (upgradeMode
// savepoint); lifecycle SUSPENDED, the path in upgradeSavepointPath and in an UPGRADE
// FlinkStateSnapshot; `state: running` restores from it. The sequence continues right after the
// savepoint position: no gap, no replay.
import { continuity, fact } from './claims.ts';
import { resume, suspend, upgradeSnapshot } from './job-ops.ts';
import type { Scenario } from './scenario.ts';

export const suspendResume: Scenario = {
  name: 'suspend-resume',
  summary: 'suspend (savepoint) and resume: the sequence continues right after the savepoint position',
  job: 'hello-ha',
  async act(ctx) {
    ctx.say('suspending the job');
    const path = await suspend(ctx);
    ctx.fact('upgradeSavepointPath', path);
    ctx.fact('upgrade snapshot', (await upgradeSnapshot(ctx, path))?.metadata.name ?? '');
    const before = ctx.highWater();
    ctx.say(`resuming from ${path}`);
    await resume(ctx);
    await ctx.waitForSequence(before, `the resumed job to pass ${before}`);
  },
  claims: [
    fact('the suspend leaves an upgrade savepoint in status.jobStatus.upgradeSavepointPath', 'upgradeSavepointPath'),
    fact('the operator records it as an UPGRADE FlinkStateSnapshot', 'upgrade snapshot'),
    continuity('the sequence continues right after the savepoint position', { noReplay: true }),
  ],
};
