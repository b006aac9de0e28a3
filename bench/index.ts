// `npm run bench`: every figure side by side with its baseline, measured in this one run against
// the simulated cluster (test/sim), printed as a table with the targets of issue 11's "Done when",
// and written to bench/results.json.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../test/helpers/cli.ts';
import { startSim } from '../test/sim/harness.ts';
import { TARGET } from './checker.ts';
import { cliStart } from './cli-start.ts';
import { coldUp } from './cold-up.ts';
import { readinessLatency } from './readiness.ts';
import { scenarioFloors } from './scenario-floor.ts';
import { warmUp } from './warm-up.ts';

interface Row {
  figure: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean;
}

const ms = (n: number): string => `${Math.round(n)} ms`;
const x = (n: number): string => `${n.toFixed(1)}x`;

async function checkerRun(lines: number): Promise<{ linesPerSecond: number; maxRssMiB: number; retainedMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', join(REPO_ROOT, 'bench', 'checker-memory.ts'), String(lines)]);
  return JSON.parse(stdout);
}

async function main(): Promise<void> {
  const started = performance.now();
  const rows: Row[] = [];
  const results: Record<string, unknown> = { when: new Date().toISOString(), node: process.version };

  const sim = await startSim();
  try {
    const warm = await warmUp(sim);
    results.warmUp = warm;
    rows.push({
      figure: `warm \`up --profile minimal\`: wall time (median of ${warm.rounds})`,
      ours: ms(warm.oursMs),
      baseline: `${ms(warm.blogMs)} (blog replayed)`,
      ratio: x(warm.blogMs / warm.oursMs),
      target: '>= 5x faster',
      met: warm.blogMs / warm.oursMs >= 5,
    });
    rows.push({
      figure: 'warm `up --profile minimal`: API requests',
      ours: String(warm.oursRequests),
      baseline: String(warm.blogRequests),
      ratio: x(warm.blogRequests / warm.oursRequests),
      target: 'fewer',
      met: warm.oursRequests < warm.blogRequests,
    });
    rows.push({
      figure: 'warm `up --profile minimal`: tool processes',
      ours: String(warm.oursToolCalls),
      baseline: String(warm.blogToolCalls),
      // A warm up that starts none has no finite ratio.
      ratio: warm.oursToolCalls ? x(warm.blogToolCalls / warm.oursToolCalls) : '-',
      target: '-',
      met: true,
    });
    const lat = await readinessLatency(sim, 40);
    results.readiness = lat;
    rows.push({
      figure: `readiness noticed (median of ${lat.trials})`,
      ours: ms(lat.oursMs.median),
      baseline: `${ms(lat.pollMs.median)} (1 s poll)`,
      ratio: x(lat.pollMs.median / Math.max(1, lat.oursMs.median)),
      target: '>= 10x sooner',
      met: lat.pollMs.median >= 10 * lat.oursMs.median,
    });
    rows.push({ figure: 'readiness noticed (p95)', ours: ms(lat.oursMs.p95), baseline: ms(lat.pollMs.p95), ratio: x(lat.pollMs.p95 / Math.max(1, lat.oursMs.p95)), target: '-', met: true });
    const floors = await scenarioFloors(sim, ['kill-taskmanager', 'kill-jobmanager']);
    results.scenarioFloors = floors;
    for (const f of floors) {
      rows.push({
        figure: `scenario ${f.scenario}: wall time vs the fault's own recovery`,
        ours: `${ms(f.wallMs)} (start ${ms(f.startMs)}, setup ${ms(f.setupMs)}, after ${ms(f.afterMs)})`,
        baseline: `${ms(f.floorMs)} (fault -> first record of the restarted job)`,
        ratio: x(f.wallMs / f.floorMs),
        target: '-',
        met: true,
      });
    }
  } finally {
    await sim.close();
  }

  const cold = await coldUp();
  results.coldUp = cold;
  rows.push({
    figure: `cold \`up --profile ${cold.profile}\`: wall time vs critical path`,
    ours: `${ms(cold.wallMs)} (process ${ms(cold.processMs)})`,
    baseline: `${ms(cold.criticalPathMs)} (${cold.criticalPath.join(' > ')})`,
    ratio: x(cold.wallMs / cold.criticalPathMs),
    target: 'within 15% (<= 1.15x)',
    met: cold.wallMs <= cold.criticalPathMs * 1.15,
  });
  rows.push({
    figure: `cold \`up --profile ${cold.profile}\`: wall time vs sequential sum`,
    ours: ms(cold.wallMs),
    baseline: `${ms(cold.sequentialMs)} (each step alone, the blog's order)`,
    ratio: `${x(cold.sequentialMs / cold.wallMs)} faster`,
    target: '-',
    met: true,
  });

  const one = await checkerRun(1_000_000);
  const ten = await checkerRun(10_000_000);
  results.checker = { '1M': one, '10M': ten };
  for (const [label, r] of [['1M', one], ['10M', ten]] as const) {
    rows.push({
      figure: `checker, ${label} record lines`,
      ours: `${Math.round(r.linesPerSecond).toLocaleString('en')} lines/s`,
      baseline: `${TARGET.toLocaleString('en')} lines/s`,
      ratio: x(r.linesPerSecond / TARGET),
      target: '>= 1M lines/s',
      met: r.linesPerSecond >= TARGET,
    });
  }
  rows.push({
    figure: 'checker memory, 10M vs 1M lines',
    ours: `heap kept ${ten.retainedMiB} MiB, peak RSS ${ten.maxRssMiB} MiB`,
    baseline: `heap kept ${one.retainedMiB} MiB, peak RSS ${one.maxRssMiB} MiB`,
    ratio: x(ten.retainedMiB / one.retainedMiB),
    target: 'flat (kept heap within 10%)',
    met: ten.retainedMiB <= one.retainedMiB * 1.1,
  });

  const starts = await cliStart();
  results.cliStart = starts;
  for (const s of starts) {
    rows.push({
      figure: `\`${s.command}\` start`,
      ours: `${ms(s.binMs)} (bin)`,
      baseline: `${ms(s.npxMs)} (npx; npm's share ${ms(s.npxMs - s.binMs)})`,
      ratio: x(s.npxMs / s.binMs),
      target: s.command.endsWith('--help') ? 'bin < 150 ms' : '-',
      met: s.command.endsWith('--help') ? s.binMs < 150 : true,
    });
  }

  results.rows = rows;
  results.totalMs = Math.round(performance.now() - started);
  writeFileSync(join(REPO_ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  printTable(rows);
  console.log(`\n${rows.filter((r) => r.target !== '-' && r.met).length}/${rows.filter((r) => r.target !== '-').length} targets met; ${Math.round((performance.now() - started) / 1000)} s; written to bench/results.json`);
}

function printTable(rows: Row[]): void {
  const head: Row = { figure: 'figure', ours: 'ours', baseline: 'baseline', ratio: 'ratio', target: 'target', met: true };
  const cells = (r: Row, h = false): string[] => [r.figure, r.ours, r.baseline, r.ratio, r.target, h ? 'met' : r.target === '-' ? '' : r.met ? 'met' : 'NOT MET'];
  const all = [cells(head, true), ...rows.map((r) => cells(r))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  for (const c of all) console.log(c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
}

await main();
