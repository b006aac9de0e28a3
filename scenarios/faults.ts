// Faults the scenarios inject, each written to the history before it happens (so the checker
// knows which findings follow which fault) and followed by the liveness wait.
import { describeRef } from '../scripts/lib/kube/kube.ts';
import { deploymentRef, jobPods } from './job.ts';
import { continuity, recovered } from './claims.ts';
import type { Scenario, ScenarioContext } from './scenario.ts';

/** Deletes the job's oldest pod of this component, then waits until the sequence passes its pre-fault mark. */
export async function killOne(ctx: ScenarioContext, component: 'jobmanager' | 'taskmanager', fault: string): Promise<void> {
  const ref = deploymentRef(ctx.job.name, ctx.job.namespace);
  const [victim] = await jobPods(ctx.kube, ref, component);
  if (!victim) throw new Error(`no ${component} pod of ${describeRef(ref)} to kill`);
  const before = ctx.highWater();
  const mark = ctx.restartMark();
  ctx.say(`deleting ${component} pod ${victim.metadata.name} at sequence ${before}`);
  ctx.fact(`${fault} pod`, victim.metadata.name);
  ctx.note({ kind: 'fault', name: fault });
  await ctx.kube.delete({ apiVersion: 'v1', kind: 'Pod', name: victim.metadata.name, namespace: ctx.job.namespace });
  // Records still in flight from before the fault can pass the mark too: wait for the restarted job's own.
  ctx.say(`waiting for the restarted job to pass ${before}`);
  await ctx.waitForRecovery(mark, before, `the restarted job to pass its pre-fault value ${before} after ${fault}`);
}

/** A scenario that deletes one pod of the HA job once two checkpoints completed, and claims continuity. */
export function killScenario(component: 'jobmanager' | 'taskmanager', text: { summary: string; claim: string }): Scenario {
  const fault = `kill-${component}`;
  return {
    name: fault,
    summary: text.summary,
    job: 'hello-ha',
    async setup(ctx) {
      // Two checkpoints: a recovery then has an older one it must not pick.
      await ctx.waitForCheckpoint();
      await ctx.waitForCheckpoint();
    },
    act: (ctx) => killOne(ctx, component, fault),
    claims: [continuity(text.claim), recovered(fault)],
  };
}
