// operator-restart: the operator pod is deleted. Running jobs are not the operator's to run: the
// job keeps going untouched, no restart, no replay.
import { continuity, untouched } from './claims.ts';
import type { Scenario } from './scenario.ts';

export const operatorRestart: Scenario = {
  name: 'operator-restart',
  summary: 'delete the operator pod: the job keeps running untouched',
  job: 'hello-ha',
  async act(ctx) {
    const ns = ctx.config.namespaces.operator;
    const pods = await ctx.kube.list('v1', 'Pod', { namespace: ns, labelSelector: 'app.kubernetes.io/name=flink-kubernetes-operator' });
    const victim = pods.find((p) => !p.metadata.deletionTimestamp);
    if (!victim) throw new Error(`no Flink operator pod in namespace ${ns}`);
    const mark = ctx.restartMark();
    ctx.fact('restart mark', mark);
    ctx.say(`deleting operator pod ${victim.metadata.name}`);
    ctx.note({ kind: 'fault', name: 'operator-restart' });
    await ctx.kube.delete({ apiVersion: 'v1', kind: 'Pod', name: victim.metadata.name, namespace: ns });
    await ctx.waitForSequence(ctx.highWater() + 10, 'the job to run on while the operator restarts');
    ctx.fact('restart mark after', ctx.restartMark());
  },
  claims: [continuity('the sequence runs on with no replay while the operator restarts', { noReplay: true }), untouched()],
};
