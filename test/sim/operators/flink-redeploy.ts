// savepointRedeployNonce with initialSavepointPath: the running job is cancelled without a
// savepoint, cluster and HA data go, and the job starts again from that savepoint.
import type { KubeObject } from '../api-client.ts';
import type { FlinkOps } from './flink-ops.ts';
import { recordSuspended } from './flink-suspend.ts';
import type { Status } from './flink-status.ts';

export async function redeployFromSavepoint(ops: FlinkOps, fd: KubeObject, s: Status, wasRunning: boolean, wantRunning: boolean): Promise<void> {
  const ns = fd.metadata.namespace!;
  const name = fd.metadata.name!;
  if (wasRunning) {
    ops.world.model(ns, name).runtime?.cancel();
    await ops.teardown(ns, name, true);
    s.jobStatus.state = 'FINISHED';
    s.jobManagerDeploymentStatus = 'MISSING';
  }
  if (!wantRunning) return recordSuspended(ops, fd, s);
  await ops.deploy(fd, s, { restorePath: fd.spec?.job?.initialSavepointPath, first: false });
}
