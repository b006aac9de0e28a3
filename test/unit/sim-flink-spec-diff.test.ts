// The simulated operator's spec diff against the @SpecDiff rules of operator 1.15.0: which
// FlinkDeployment changes it ignores, which upgrade the job and which redeploy it from a savepoint.
import { describe, expect, it } from 'vitest';
import { specChangedMessage, specDiff } from '../sim/flink/spec-diff.ts';

const base = {
  image: 'flink-sandbox/hello-job:dev',
  flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' },
  job: { jarURI: 'local:///opt/flink/usrlib/hello-job.jar', parallelism: 2, upgradeMode: 'savepoint', state: 'running' },
};
const withJob = (job: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, any> => ({ ...base, ...rest, job: { ...base.job, ...job } });

describe('simulated Flink operator spec diff', () => {
  it('ignores upgradeMode, initialSavepointPath, allowNonRestoredState, the nonces and kubernetes.operator.* configuration', () => {
    const after = withJob({ upgradeMode: 'last-state', initialSavepointPath: 's3://x', allowNonRestoredState: true, savepointTriggerNonce: 3, checkpointTriggerNonce: 4, autoscalerResetNonce: 5 }, { flinkConfiguration: { ...base.flinkConfiguration, 'kubernetes.operator.jm-deployment.shutdown-ttl': '2 min' } });
    expect(specDiff(base, after).type).toBe('IGNORE');
  });

  it('upgrades on parallelism, state, image or a Flink option, and names each change', () => {
    const diff = specDiff(base, withJob({ parallelism: 4 }, { flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '4' } }));
    expect(diff.type).toBe('UPGRADE');
    expect(specChangedMessage(diff)).toBe('UPGRADE change(s) detected (Diff: FlinkDeploymentSpec[flinkConfiguration.taskmanager.numberOfTaskSlots : 2 -> 4, job.parallelism : 2 -> 4]), starting reconciliation.');
    expect(specDiff(base, withJob({ state: 'suspended' })).type).toBe('UPGRADE');
    expect(specDiff(base, withJob({}, { image: 'other' })).type).toBe('UPGRADE');
  });

  it('redeploys from a savepoint on a new savepointRedeployNonce (a nonce set back to null is ignored), which outranks an upgrade', () => {
    expect(specDiff(base, withJob({ savepointRedeployNonce: 1, parallelism: 4 })).type).toBe('SAVEPOINT_REDEPLOY');
    expect(specDiff(withJob({ savepointRedeployNonce: 1 }), withJob({ savepointRedeployNonce: null })).type).toBe('IGNORE');
  });

  it('compares a field left out as its default (job.state running)', () => {
    const { state: _state, ...job } = base.job;
    expect(specDiff(base, { ...base, job }).type).toBe('IGNORE');
  });
});
