// The simulated systems (one folder each: cert-manager/, ingress-nginx/, eck/, logging/, flink/)
// as the generic parts run them. The chart recipes are listed apart, in tools/chart-recipes.ts,
// and the downloadable manifests in tools/downloads.ts, so a fake tool loads only what it serves.
//
// `platformBehaviours`: the systems' own containers, in match order (they go above the generic
// defaults in behaviours.ts; the certgen Jobs must win over the generic Job behaviour).
import type { ImageBehaviour } from './behaviours.ts';
import { certManagerCainjector, certManagerController, certManagerWebhook } from './cert-manager/behaviours.ts';
import { ingressCertgen, ingressController } from './ingress-nginx/behaviours.ts';
import { eckOperatorMain } from './eck/behaviours.ts';
import { loggingOperatorMain } from './logging/behaviours.ts';
import { flinkOperatorMain, flinkOperatorWebhook } from './flink/behaviours.ts';

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
