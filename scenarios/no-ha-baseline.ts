// no-ha-baseline: the negative control. The job without HA or checkpoints loses its state when a
// TaskManager is killed, so the sequence starts over. The scenario passes only because the
// checker reports that reset: a checker that missed it would fail here.
import { resetDetected } from './claims.ts';
import { killOne } from './faults.ts';
import type { Scenario } from './scenario.ts';

export const noHaBaseline: Scenario = {
  name: 'no-ha-baseline',
  summary: 'the job without HA or checkpoints, TaskManager killed: the checker must report the reset',
  job: 'hello-no-ha',
  async act(ctx) {
    ctx.note({ kind: 'expect-reset' });
    await killOne(ctx, 'taskmanager', 'kill-taskmanager');
  },
  claims: [resetDetected()],
};
