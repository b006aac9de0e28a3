// savepoint-redeploy: a manual savepoint (the blog's Listing 2), the job runs on, then it is
// redeployed from that savepoint (`initialSavepointPath` + a new `savepointRedeployNonce`). The
// sequence rewinds exactly to the savepoint position: a declared, expected replay, nothing lost.
import { continuity } from './claims.ts';
import { deleteSnapshot, patchJob, takeSavepoint } from './job-ops.ts';
import type { Scenario } from './scenario.ts';

const SNAPSHOT = 'sandbox-scenario-savepoint';

export const savepointRedeploy: Scenario = {
  name: 'savepoint-redeploy',
  summary: 'take a savepoint, run on, redeploy from it: the sequence rewinds to the savepoint position',
  job: 'hello-ha',
  async act(ctx) {
    ctx.say('taking a savepoint');
    const { path, covers } = await takeSavepoint(ctx, SNAPSHOT);
    ctx.fact('savepoint', path);
    const ahead = ctx.highWater() + 10;
    await ctx.waitForSequence(ahead, 'the job to run on past the savepoint');
    const before = ctx.highWater();
    const mark = ctx.restartMark();
    const nonce = Number((await ctx.deployment())?.spec?.job?.savepointRedeployNonce ?? 0) + 1;
    ctx.say(`redeploying from ${path}`);
    // The redeploy cancels the running job (a fault: what it emitted until then may come again)
    // and restores the older savepoint (a declared rewind down to what it covers).
    ctx.note({ kind: 'expect-rewind', to: covers });
    ctx.note({ kind: 'fault', name: 'savepoint-redeploy' });
    await patchJob(ctx, { initialSavepointPath: path, savepointRedeployNonce: nonce });
    await ctx.waitForRecovery(mark, before, `the redeployed job to pass ${before}`);
  },
  claims: [continuity('the sequence rewinds to the savepoint position and nothing is lost', { rewind: true })],
  async teardown(ctx) {
    // A manual savepoint is the scenario's own: remove it (and, disposeOnDelete, its data).
    await deleteSnapshot(ctx, SNAPSHOT);
  },
};
