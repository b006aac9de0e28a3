// Cold `up --profile full` against the critical path of its dependency graph and against the
// blog's order (one component after another). Each component takes what FACTS.md section 10
// publishes for it, scaled by the simulation's clock (1 s -> 20 ms, test/sim/time-scale.ts):
// `kind create cluster` 12-17 s (15 s), cert-manager "often > 120 s on cold machines because of
// image pulls" (its images take 120 s to pull), Elasticsearch "1-2 min per node plus readiness"
// (its image takes 90 s). Components without a published figure keep the simulation's own times.
//
// Fresh simulations with the same timings: in one, `up` runs the whole pipeline; in the next,
// every step runs alone, in the pipeline's order, which is the blog's; in a third, the whole
// pipeline runs again. The wall time is the mean of the two whole runs, which come before and
// after the lone runs, so that a load on the machine that rises or falls during the bench (other
// processes share its cores) weighs on both sides alike; both whole runs are kept. The lone runs give
// each step's own duration; the critical path is the longest chain of `needs` over them, the
// sequential sum their total. Wall times are the pipeline's own (from `up --json`), so the CLI's
// start, the same for both, is left out of both; it is reported beside them.
// A step is timed as the pipeline runs it: after its needs, in the same process. The lone run is
// `up --only <needs>,<step>`: the needs are in place by then and only check that, and the step
// starts with what they leave in the process (the Kubernetes client loaded and connected, the
// tools found), as in the pipeline, where that is paid once, not once per step.
// The CPU of both runs is measured too (the CLI and every tool it starts, from /proc's counters
// of reaped children; the simulation, which runs in this process): on a machine with few cores
// it, not the waits, decides how close to the critical path the pipeline can come.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { runCli } from '../test/helpers/cli.ts';
import { startSim, type Sim } from '../test/sim/harness.ts';
import { SIM_TIME_SCALE } from '../test/sim/time-scale.ts';

/** Published durations (FACTS.md section 10), in real seconds. */
export const PUBLISHED_SECONDS = { kindCreate: 15, certManagerPull: 120, elasticsearchPull: 90 } as const;

interface StepRecord {
  id: string;
  outcome: string;
  ms: number;
  needs: string[];
}

interface UpReport {
  ok: boolean;
  ms: number;
  steps: StepRecord[];
}

export interface ColdUpResult {
  profile: string;
  /** The pipeline's wall time in one `up`: the mean of the runs before and after the lone runs. */
  wallMs: number;
  /** The pipeline's wall time in each of those two runs. */
  wholeRunsMs: [number, number];
  /** The same `up`'s process wall time (with the CLI's start and its last writes), the mean of the two. */
  processMs: number;
  /** Each step's duration when run alone. */
  stepMs: Record<string, number>;
  needs: Record<string, string[]>;
  criticalPathMs: number;
  criticalPath: string[];
  sequentialMs: number;
  /** CPU used by a whole run (the mean of the two) and by the lone runs together: the CLI with its tools, and the simulation (ms). */
  cpu: { whole: CpuSplit; alone: CpuSplit; cores: number };
  /** The machine's 1-minute load average when each run ended: whole, lone, whole (other processes share the cores). */
  loadAverage: { whole: [number, number]; alone: number };
  /** Scaled durations given to the simulation, wall ms. */
  scaled: { kindCreateMs: number; certManagerPullMs: number; elasticsearchPullMs: number };
}

export interface CpuSplit {
  cliAndToolsMs: number;
  simulationMs: number;
}

/** CPU of this process's reaped children (the CLI and what it started), from /proc (Linux). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command: state is field 3, so cutime and cstime (16 and 17) are at 13 and 14; in clock ticks (100/s).
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** CPU used while `run` runs: by the processes it starts and by this process (the simulation). */
async function measured<T>(run: () => Promise<T>): Promise<{ value: T; cpu: CpuSplit }> {
  const children = childrenCpuMs();
  const self = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(self);
  return { value, cpu: { cliAndToolsMs: childrenCpuMs() - children, simulationMs: Math.round((used.user + used.system) / 1000) } };
}

const scaled = {
  kindCreateMs: PUBLISHED_SECONDS.kindCreate * 1000 * SIM_TIME_SCALE,
  certManagerPullMs: PUBLISHED_SECONDS.certManagerPull * 1000 * SIM_TIME_SCALE,
  elasticsearchPullMs: PUBLISHED_SECONDS.elasticsearchPull * 1000 * SIM_TIME_SCALE,
};

function timedSim(): Promise<Sim> {
  return startSim({
    timing: {
      pullMsByImage: [
        { image: 'quay\\.io/jetstack/cert-manager-', ms: scaled.certManagerPullMs },
        { image: 'elasticsearch/elasticsearch', ms: scaled.elasticsearchPullMs },
      ],
    },
  });
}

async function up(sim: Sim, extra: string[]): Promise<{ report: UpReport; processMs: number }> {
  const res = await runCli(['up', '--profile', 'full', '--config', sim.configFile, '--json', ...extra], {
    env: { ...sim.env, SIM_KIND_CREATE_MS: String(scaled.kindCreateMs) },
    timeoutMs: 600_000,
  });
  if (res.code !== 0) throw new Error(`up ${extra.join(' ')} failed (${res.code}):\n${res.stderr.slice(-3000)}`);
  return { report: JSON.parse(res.stdout) as UpReport, processMs: res.ms };
}

/** The longest chain of `needs`, by the steps' durations. */
export function criticalPath(stepMs: Record<string, number>, needs: Record<string, string[]>): { ms: number; path: string[] } {
  const memo = new Map<string, { ms: number; path: string[] }>();
  const longest = (id: string): { ms: number; path: string[] } => {
    const known = memo.get(id);
    if (known) return known;
    let best = { ms: 0, path: [] as string[] };
    for (const n of needs[id] ?? []) {
      const p = longest(n);
      if (p.ms > best.ms) best = p;
    }
    const mine = { ms: best.ms + (stepMs[id] ?? 0), path: [...best.path, id] };
    memo.set(id, mine);
    return mine;
  };
  return Object.keys(stepMs)
    .map(longest)
    .reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, path: [] as string[] });
}

interface WholeRun {
  report: UpReport;
  processMs: number;
  cpu: CpuSplit;
  load: number;
}

async function wholeRun(): Promise<WholeRun> {
  const sim = await timedSim();
  try {
    const run = await measured(() => up(sim, []));
    return { ...run.value, cpu: run.cpu, load: Math.round(loadavg()[0]! * 10) / 10 };
  } finally {
    await sim.close();
  }
}

export async function coldUp(): Promise<ColdUpResult> {
  const before = await wholeRun();
  const order = before.report.steps;
  const alone = await timedSim();
  const stepMs: Record<string, number> = {};
  let aloneCpu: CpuSplit;
  try {
    const runs = await measured(async () => {
      for (const step of order) {
        const run = await up(alone, ['--only', [...step.needs, step.id].join(',')]);
        const recs = run.report.steps;
        const rec = recs.find((s) => s.id === step.id);
        if (!rec || rec.outcome !== 'done') throw new Error(`up --only ${step.id}: outcome ${rec?.outcome ?? 'missing'}`);
        // The needs were done by the earlier lone runs: each only checks (the preflight has nothing to check and runs again).
        const redone = recs.filter((s) => s.id !== step.id && s.outcome !== 'already' && s.id !== 'preflight');
        if (redone.length) throw new Error(`up --only ${step.id}: its needs were not in place (${redone.map((s) => `${s.id} ${s.outcome}`).join(', ')})`);
        stepMs[step.id] = rec.ms;
      }
    });
    aloneCpu = runs.cpu;
  } finally {
    await alone.close();
  }
  const aloneLoad = Math.round(loadavg()[0]! * 10) / 10;
  const after = await wholeRun();
  const mean = (a: number, b: number): number => Math.round((a + b) / 2);
  const needs = Object.fromEntries(order.map((s) => [s.id, s.needs]));
  const cp = criticalPath(stepMs, needs);
  const sequentialMs = Object.values(stepMs).reduce((a, b) => a + b, 0);
  return {
    profile: 'full',
    wallMs: mean(before.report.ms, after.report.ms),
    wholeRunsMs: [before.report.ms, after.report.ms],
    processMs: mean(before.processMs, after.processMs),
    stepMs,
    needs,
    criticalPathMs: cp.ms,
    criticalPath: cp.path,
    sequentialMs,
    cpu: {
      whole: { cliAndToolsMs: mean(before.cpu.cliAndToolsMs, after.cpu.cliAndToolsMs), simulationMs: mean(before.cpu.simulationMs, after.cpu.simulationMs) },
      alone: aloneCpu,
      cores: availableParallelism(),
    },
    loadAverage: { whole: [before.load, after.load], alone: aloneLoad },
    scaled,
  };
}
