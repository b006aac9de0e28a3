// Resuming a suspended job: from the savepoint its suspend recorded (savepoint mode), from the
// HA data it kept (last-state, same job id; the recorded savepoint when HA is gone), or from
// nothing (stateless).
import type { KubeObject } from '../api-client.ts';
import { hasHaData } from './flink-ha.ts';
import type { FlinkOps } from './flink-ops.ts';
import type { Status } from './flink-status.ts';

export async function resumeJob(ops: FlinkOps, fd: KubeObject, s: Status, mode: string, ha: boolean): Promise<void> {
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  let restorePath: string | undefined;
  let keepJobId: string | undefined;
  if (mode === 'savepoint') restorePath = s.jobStatus.upgradeSavepointPath;
  else if (mode === 'last-state') {
    keepJobId = s.jobStatus.jobId;
    if (!(ha && (await hasHaData(ops.api, ns, name)))) restorePath = s.jobStatus.upgradeSavepointPath;
  }
  await ops.deploy(fd, s, { restorePath, keepJobId, first: false });
}
