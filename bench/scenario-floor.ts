// A scenario's wall time against its floor: the fault's own recovery time in the simulation,
// from the moment the scenario injected it (its `fault` event) to the first record of the
// restarted job (the first record from a pod or attempt not seen before the fault), read from the
// scenario's history. The wall time is the whole `sandbox scenario <name>` run: a fresh job
// deployed and started, the setup (two checkpoints), the act, the settle window the checker needs
// (1.5 x settleSeconds after the act), judging, and the CLI's own start. The parts are reported
// too, so that the ratio says where the rest of the time goes.
import { readFileSync } from 'node:fs';
import { runCli } from '../test/helpers/cli.ts';
import type { Sim } from '../test/sim/harness.ts';

export interface ScenarioFloor {
  scenario: string;
  wallMs: number;
  /** Fault -> first record of the restarted job. */
  floorMs: number;
  /** Scenario start -> the job's first record (delete the old job, deploy, start). */
  startMs: number;
  /** First record -> fault (the setup's checkpoints). */
  setupMs: number;
  /** First record of the restarted job -> the scenario's end (settle, judge, teardown). */
  afterMs: number;
}

interface HistoryEvent {
  t: number;
  kind: string;
  source?: string;
  attempt?: number;
}

interface Outcome {
  scenario: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  historyFile: string;
  error?: { message: string };
}

/** The parts of one scenario run, from its outcome and history. */
export function floorOf(outcome: Outcome, events: HistoryEvent[]): ScenarioFloor {
  const fault = events.find((e) => e.kind === 'fault');
  if (!fault) throw new Error(`${outcome.scenario}: no fault in its history`);
  const records = events.filter((e) => e.kind === 'record').sort((a, b) => a.t - b.t);
  const origin = (e: HistoryEvent): string => `${e.source} ${e.attempt}`;
  const before = new Set(records.filter((e) => e.t <= fault.t).map(origin));
  // The restarted job: a new pod or attempt, or (a JobManager failover keeps the TaskManagers)
  // anything logged after the job was restored.
  const restored = events.find((e) => e.kind === 'restore' && e.t >= fault.t);
  const recovered = records.find((e) => e.t > fault.t && (!before.has(origin(e)) || (restored !== undefined && e.t >= restored.t)));
  if (!recovered || records.length === 0) throw new Error(`${outcome.scenario}: no record of a restarted job after the fault`);
  const started = Date.parse(outcome.startedAt);
  const ended = started + outcome.durationMs;
  return {
    scenario: outcome.scenario,
    wallMs: outcome.durationMs,
    floorMs: recovered.t - fault.t,
    startMs: records[0]!.t - started,
    setupMs: fault.t - records[0]!.t,
    afterMs: ended - recovered.t,
  };
}

export async function scenarioFloors(sim: Sim, names: string[]): Promise<ScenarioFloor[]> {
  const res = await runCli(['scenario', ...names, '--json', '--config', sim.configFile], { env: sim.env, timeoutMs: 600_000 });
  const doc = JSON.parse(res.stdout) as { outcomes: Outcome[] };
  return doc.outcomes.map((o) => {
    if (!o.ok) throw new Error(`scenario ${o.scenario} failed: ${o.error?.message ?? 'a claim did not hold'}`);
    const events = readFileSync(o.historyFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    return floorOf(o, events);
  });
}
