// Chart recipes for the fake helm: each renders the Kubernetes objects its real chart would
// install, from the merged values (chart defaults <- -f files <- --set). Recipes are code,
// not templates: they produce what the real chart produces where the simulated cluster or
// the CLI can see it (names, labels, images, ports, env, webhooks, RBAC), and leave out what
// nothing observes (Prometheus objects, PodDisruptionBudgets, Helm hooks).
//
// Extending: write <system>/chart.ts (helpers in chart-kit.ts) and add it to `charts`, keyed
// by chart name.
import { certManager } from '../cert-manager/chart.ts';
import type { ChartRecipe } from './chart-kit.ts';
import { demo } from './demo-chart.ts';
import { flinkOperator } from '../flink/chart.ts';
import { loggingOperator } from '../logging/chart.ts';

export type { ChartMeta, ChartRecipe, ReleaseInfo } from './chart-kit.ts';
export { chartLabels, fullname } from './chart-kit.ts';

export const charts: Record<string, ChartRecipe> = {
  demo,
  'cert-manager': certManager,
  'flink-kubernetes-operator': flinkOperator,
  'logging-operator': loggingOperator,
};
