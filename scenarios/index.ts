// The scenarios, in the order `sandbox test` runs them (and the menu lists them).
import { deploy } from './deploy.ts';
import { killJobmanager } from './kill-jobmanager.ts';
import { killTaskmanager } from './kill-taskmanager.ts';
import { logsInElasticsearch } from './logs-in-elasticsearch.ts';
import { noHaBaseline } from './no-ha-baseline.ts';
import { operatorRestart } from './operator-restart.ts';
import { savepointRedeploy } from './savepoint-redeploy.ts';
import type { Scenario } from './scenario.ts';
import { suspendResume } from './suspend-resume.ts';
import { upgrade } from './upgrade.ts';

export const SCENARIOS: readonly Scenario[] = [deploy, killTaskmanager, killJobmanager, suspendResume, upgrade, savepointRedeploy, operatorRestart, logsInElasticsearch, noHaBaseline];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
