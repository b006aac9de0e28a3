// The platform's container behaviours, in match order (they go above the generic defaults in
// ../behaviours.ts; the certgen Jobs must win over the generic Job behaviour).
import type { ImageBehaviour } from '../behaviours.ts';
import { certManagerCainjector, certManagerController, certManagerWebhook } from '../cert-manager/behaviours.ts';
import { ingressCertgen, ingressController } from '../ingress-nginx/behaviours.ts';
import { eckOperatorMain } from '../eck/behaviours.ts';
import { loggingOperatorMain } from '../logging/behaviours.ts';
import { flinkOperatorMain, flinkOperatorWebhook } from '../flink/behaviours.ts';

export { DEFAULT_WEBHOOK_WARMUP_MS } from '../controllers/behaviour-kit.ts';

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
