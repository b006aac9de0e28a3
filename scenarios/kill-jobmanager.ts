// kill-jobmanager: the JobManager pod is deleted. Its Deployment starts a new one, which finds the
// job in the Kubernetes HA metadata (ConfigMaps + s3://flink-data/ha) and restores it from the
// last completed checkpoint: the same claims as for a TaskManager.
import { killScenario } from './faults.ts';

export const killJobmanager = killScenario('jobmanager', {
  summary: 'delete the JobManager pod: Kubernetes HA recovers the job from its last checkpoint, 0 lost, 0 resets',
  claim: 'sequence continues after the JobManager is killed',
});
