// kill-taskmanager: a TaskManager pod is deleted mid-run (Kubernetes would do the same on a node
// failure). Flink restarts the job from its last completed checkpoint on a replacement
// TaskManager: nothing is lost, nothing resets, and what is replayed lies inside the window from
// that checkpoint to the last number seen before the kill.
import { killScenario } from './faults.ts';

export const killTaskmanager = killScenario('taskmanager', {
  summary: 'delete a TaskManager pod: recovery from the last checkpoint, 0 lost, 0 resets, replays inside the window',
  claim: 'sequence continues after the TaskManager is killed',
});
