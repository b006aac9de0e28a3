// The simulated operators, started by default with the simulated control plane
// (controllers/index.ts): ECK, the logging operator and the Flink Kubernetes Operator. Each acts
// only through the API and only while its own workload has a Ready pod; installing the operator
// (helm / manifests, or a test creating the workload) is what turns it on.
// Their container behaviours (Elasticsearch, Kibana, fluent-bit, fluentd, Flink JobManager /
// TaskManager) are put in front of the kubelet's registry by `registerOperatorBehaviours`.
//
// Inspecting the Flink job model from a test: `flinkWorld(sim.url).model(ns, name)` (flink-job.ts).
import { imageBehaviours, type ImageBehaviour } from '../behaviours.ts';
import type { ControllerContext } from '../controllers/context.ts';
import { eckBehaviours } from '../eck/behaviours.ts';
import { startEck } from '../eck/operator.ts';
import { flinkBehaviours } from './flink-cluster.ts';
import { startFlinkOperator } from './flink-operator.ts';
import { fluentbitBehaviour } from '../logging/fluentbit.ts';
import { fluentdBehaviour } from '../logging/fluentd.ts';
import { startLoggingOperator } from '../logging/operator.ts';

export { ECK_WORKLOAD } from '../eck/operator.ts';
export { FLINK_WORKLOAD } from './flink-operator.ts';
export { LOGGING_WORKLOAD } from '../logging/operator.ts';
export { flinkWorld, type FlinkJobModel, type RestoreRecord, type Snapshot } from './flink-job.ts';

export type OperatorStarter = (ctx: ControllerContext) => { stop(): Promise<void> };

/** The operators that startControllers runs unless told otherwise. */
export const operatorControllers: OperatorStarter[] = [startEck, startLoggingOperator, startFlinkOperator];

/** Container behaviours of the pods these operators create. */
export const operatorBehaviours: ImageBehaviour[] = [...eckBehaviours, fluentbitBehaviour, fluentdBehaviour, ...flinkBehaviours];

/**
 * Puts the operators' behaviours first in the kubelet's registry: they match only non-init
 * containers of pods these operators (or Flink) create, by their labels, so no image-based
 * behaviour can take those pods over. Idempotent.
 */
export function registerOperatorBehaviours(): void {
  const missing = operatorBehaviours.filter((b) => !imageBehaviours.includes(b));
  if (missing.length) imageBehaviours.unshift(...missing);
}
