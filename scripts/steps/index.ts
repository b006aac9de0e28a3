// THE pipeline of `sandbox up`, readable at a glance. Each step says what it needs;
// the engine runs everything else in parallel (ECK does not wait for the Flink operator).
import type { SandboxConfig } from '../lib/config.ts';
import { certManagerStep } from './cert-manager.ts';
import { clusterStep } from './cluster.ts';
import { eckOperatorStep, elasticStep } from './eck.ts';
import { flinkOperatorStep } from './flink-operator.ts';
import { jobImageStep } from './job-image.ts';
import { loggingOperatorStep, loggingPipelineStep } from './logging.ts';
import { minioStep } from './minio.ts';
import { preflightStep } from './preflight.ts';
import type { Step } from '../pipeline/step.ts';
import { heimdallStep, ingressStep } from './ui.ts';

export function pipeline(cfg: SandboxConfig): Step[] {
  const steps: Step[] = [];
  steps.push(preflightStep(() => steps));
  steps.push(clusterStep, minioStep, certManagerStep, flinkOperatorStep, jobImageStep);
  if (cfg.profile === 'full') {
    steps.push(eckOperatorStep, elasticStep, loggingOperatorStep, loggingPipelineStep);
  }
  if (cfg.with.includes('ui')) {
    steps.push(ingressStep, heimdallStep);
  }
  return steps;
}
