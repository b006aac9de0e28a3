// A change to a running job that needs a new cluster (parallelism, image, configuration): the
// job is suspended the way its upgrade mode says and deployed again from what that kept.
import type { KubeObject } from '../api-client.ts';
import type { FlinkOps } from './flink-ops.ts';
import { suspendJob } from './flink-suspend.ts';
import type { Status } from './flink-status.ts';

export async function upgradeRunningJob(ops: FlinkOps, fd: KubeObject, s: Status, mode: string, ha: boolean): Promise<void> {
  const carry = await suspendJob(ops, fd, s, mode, ha);
  if (!carry) return;
  await ops.deploy(fd, s, { ...carry, first: false });
}
