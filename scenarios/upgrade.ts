// upgrade: a parallelism change is a stateful upgrade through a savepoint (native mode: suspend +
// deploy over two reconciles). Continuity holds across it.
import { continuity } from './claims.ts';
import { patchJob } from './job-ops.ts';
import type { Scenario } from './scenario.ts';

export const upgrade: Scenario = {
  name: 'upgrade',
  summary: 'change the parallelism (a savepoint upgrade): the sequence continues, nothing lost',
  job: 'hello-ha',
  async act(ctx) {
    const before = ctx.highWater();
    const mark = ctx.restartMark();
    const fd = await ctx.deployment();
    const to = Number(fd?.spec?.job?.parallelism ?? 2) + 1;
    ctx.say(`changing the parallelism to ${to}`);
    ctx.fact('parallelism', String(to));
    ctx.note({ kind: 'fault', name: 'upgrade' });
    await patchJob(ctx, { parallelism: to });
    await ctx.waitForRecovery(mark, before, `the upgraded job to pass ${before}`);
    await ctx.waitForRunning();
  },
  claims: [continuity('the sequence continues across the parallelism upgrade')],
};
