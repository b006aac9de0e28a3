// The simulated systems, one folder each (cert-manager/, ingress-nginx/, eck/, logging/, flink/),
// and what of them the generic parts run. The chart recipes are listed apart, in
// tools/chart-recipes.ts, and the downloadable manifests in tools/downloads.ts, so a fake tool
// loads only what it serves.
//
// `platformBehaviours`: the systems' own containers, in match order (they go above the generic
// defaults in controllers/behaviours.ts; the certgen Jobs must win over the generic Job
// behaviour).
//
// The operators, started by default with the simulated control plane (controllers/index.ts):
// ECK, the logging operator and the Flink Kubernetes Operator. Each acts only through the API and
// only while its own workload has a Ready pod; installing the operator (helm / manifests, or a
// test creating the workload) is what turns it on. Their pods' behaviours (Elasticsearch,
// Kibana, fluent-bit, fluentd, Flink JobManager / TaskManager) are put in front of the kubelet's
// registry by `registerOperatorBehaviours` (controllers/behaviours.ts).
//
// Inspecting the Flink job model from a test: `flinkWorld(sim.url).model(ns, name)` (flink/job.ts).
import type { ImageBehaviour } from './controllers/behaviours.ts';
import type { ControllerContext } from './controllers/context.ts';
import { certManagerCainjector, certManagerController, certManagerWebhook } from './cert-manager/behaviours.ts';
import { eckBehaviours, eckOperatorMain } from './eck/behaviours.ts';
import { startEck } from './eck/operator.ts';
import { flinkOperatorMain, flinkOperatorWebhook } from './flink/behaviours.ts';
import { flinkBehaviours } from './flink/cluster.ts';
import { startFlinkOperator } from './flink/operator.ts';
import { ingressCertgen, ingressController } from './ingress-nginx/behaviours.ts';
import { loggingOperatorMain } from './logging/behaviours.ts';
import { fluentbitBehaviour } from './logging/fluentbit.ts';
import { fluentdBehaviour } from './logging/fluentd.ts';
import { startLoggingOperator } from './logging/operator.ts';

export { ECK_WORKLOAD } from './eck/operator.ts';
export { FLINK_WORKLOAD } from './flink/operator.ts';
export { LOGGING_WORKLOAD } from './logging/operator.ts';
export { flinkWorld, type FlinkJobModel, type RestoreRecord, type Snapshot } from './flink/job.ts';

export const platformBehaviours: ImageBehaviour[] = [
  certManagerController,
  certManagerCainjector,
  certManagerWebhook,
  flinkOperatorWebhook,
  flinkOperatorMain,
  loggingOperatorMain,
  eckOperatorMain,
  ingressCertgen,
  ingressController,
];

export type OperatorStarter = (ctx: ControllerContext) => { stop(): Promise<void> };

/** The operators that startControllers runs unless told otherwise. */
export const operatorControllers: OperatorStarter[] = [startEck, startLoggingOperator, startFlinkOperator];

/** Container behaviours of the pods these operators create. */
export const operatorBehaviours: ImageBehaviour[] = [...eckBehaviours, fluentbitBehaviour, fluentdBehaviour, ...flinkBehaviours];
