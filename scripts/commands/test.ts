// `sandbox test`: the non-interactive harness for CI. Stands the sandbox up when it is not there
// (the same pipeline as `sandbox up`), runs all or the named scenarios, and writes
// `.sandbox/reports/<run-id>/` with junit.xml, report.json and report.html. On a failure the
// diagnostics bundle of the job's and the operator's namespaces is written too. Exit 0 when every
// scenario passed, 1 when one failed, 130 when interrupted (the reports then cover what ran).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import type { ScenarioOutcome } from '../../scenarios/run.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { ReportPaths } from '../../scenarios/report/meta.ts';
import { kubeContext, type SandboxConfig } from '../lib/config.ts';
import { InterruptedError, SandboxError } from '../lib/errors.ts';
import type { Kube } from '../lib/kube/kube.ts';
import { newRunId, stateDir } from '../lib/paths.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { SANDBOX_CONFIGMAP } from '../steps/job-image.ts';
import { INSTALL_CONFIGMAP } from '../steps/kit.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';

/** Why the sandbox cannot run scenarios as it is, or undefined when it can. */
async function missingPiece(cfg: SandboxConfig, kube: Kube): Promise<string | undefined> {
  const ns = cfg.namespaces.job;
  if (!(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: ns }))) return 'the sandbox is not installed on this cluster';
  const crd = await kube.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'flinkdeployments.flink.apache.org' });
  if (!crd) return 'the Flink operator is not installed';
  if (cfg.jobImage) return undefined;
  const recorded = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: SANDBOX_CONFIGMAP, namespace: ns });
  return (recorded?.data as Record<string, string> | undefined)?.jobImage ? undefined : 'no job image is recorded';
}

/** The sandbox's cluster, stood up first when it is missing or incomplete. */
async function sandboxKube(cfg: SandboxConfig, opts: GlobalOptions): Promise<Kube> {
  let reason: string | undefined;
  try {
    reason = await missingPiece(cfg, await createServices(cfg).kube());
  } catch (err) {
    // An existing cluster that does not answer cannot be created by `up`: say so as it is.
    if (cfg.cluster.provider === 'existing') throw err;
    reason = `no sandbox cluster answers at context ${kubeContext(cfg)}`;
  }
  if (reason) {
    process.stderr.write(`${reason}: running \`sandbox up\` first\n`);
    const { up } = await import('./up.ts');
    await up(opts);
  }
  return createServices(cfg).kube();
}

/** What the reports say the scenarios ran against. */
async function versions(cfg: SandboxConfig, kube: Kube): Promise<Record<string, string>> {
  const nodes = await kube.list('v1', 'Node').catch(() => []);
  const kubelet = nodes[0]?.status?.nodeInfo?.kubeletVersion as string | undefined;
  return {
    'flink-sandbox': pkg.version,
    flink: cfg.components.flink.version,
    'flink-kubernetes-operator': cfg.components.flinkOperator.version,
    ...(kubelet ? { kubernetes: kubelet } : {}),
    node: process.version,
  };
}

/** The scenario Ctrl-C stopped: runSuite reports no outcome for it, but its history is there. */
function interruptedOutcome(s: Scenario, runDir: string, startedAt: number): ScenarioOutcome {
  const historyFile = join(runDir, s.name, 'history.jsonl');
  return {
    scenario: s.name,
    summary: s.summary,
    ok: false,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    historyFile: existsSync(historyFile) ? historyFile : '(none)',
    claims: [],
    facts: {},
    error: { message: 'interrupted before the scenario ended' },
  };
}

export async function test(names: string[], opts: GlobalOptions): Promise<void> {
  const { forProfile, pickScenarios, runSuite } = await import('../../scenarios/suite.ts');
  const named = pickScenarios(names);
  const cfg = await configFrom(opts);
  const signal = interruptSignal();
  const kube = await sandboxKube(cfg, opts);
  const installed = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job });
  const { run: chosen, note } = forProfile(named, names.length > 0, installed?.data?.profile);
  if (note) process.stderr.write(`${note}\n`);

  const runId = newRunId();
  const runDir = join(stateDir(), 'runs', runId);
  await mkdir(runDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const render = opts.json ? 'silent' : process.stdout.isTTY === true && !process.env.CI ? 'default' : 'simple';
  const outcomes: ScenarioOutcome[] = [];
  let stopped: InterruptedError | undefined;
  // One scenario per suite call: an interrupt then loses only the scenario it stopped, not the ones before.
  for (const s of chosen) {
    if (signal.aborted) break;
    const began = Date.now();
    try {
      outcomes.push(...(await runSuite([s], { kube, config: cfg, signal, runDir, render })));
    } catch (err) {
      if (!signal.aborted) throw err;
      stopped = err instanceof InterruptedError ? err : undefined;
      const got = (stopped?.data?.outcomes as ScenarioOutcome[] | undefined)?.[0];
      outcomes.push(got ?? interruptedOutcome(s, runDir, began));
    }
  }
  const interrupted = signal.aborted;
  const failed = outcomes.filter((o) => !o.ok);

  const reportDir = join(stateDir(), 'reports', runId);
  // One error for the bundle and the terminal: which scenarios failed and, for each, why.
  const failure = failed.length
    ? new SandboxError(`${failed.length} of ${outcomes.length} scenarios failed: ${failed.map((o) => o.scenario).join(', ')}`, {
        cause: new SandboxError(failed.map(whyFailed).join('; ')),
        hint: `open ${join(reportDir, 'report.html')} for the plots; each failed claim names what was lost, reset or late`,
      })
    : undefined;
  let artifacts: string | undefined;
  if (failure && !interrupted) {
    const { writeDiagnostics } = await import('../lib/diagnostics/bundle.ts');
    artifacts = await writeDiagnostics(kube, {
      runId,
      namespaces: [...new Set([cfg.namespaces.job, cfg.namespaces.operator])],
      error: failure,
    });
  }
  const { writeReports } = await import('../../scenarios/report/write.ts');
  const { outcomesText } = await import('../../scenarios/render.ts');
  const meta = { runId, startedAt, finishedAt: new Date().toISOString(), versions: await versions(cfg, kube), interrupted, artifacts };
  let reports: ReportPaths;
  try {
    reports = await writeReports(reportDir, outcomes, meta);
  } catch (err) {
    // A full disk or a folder that cannot be written: the verdicts are known, only their files
    // are missing, so they are printed here and the error says where the reports should have gone.
    if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    if (!opts.json) process.stderr.write(`${outcomesText(outcomes)}\n\n`);
    const unwritten = new SandboxError(`cannot write the reports to ${reportDir}`, {
      cause: err,
      hint: `free space on the disk that holds ${reportDir} (\`df -h ${stateDir()}\`) or make it writable, then run \`sandbox test\` again; the outcomes are printed above and the histories are in ${runDir}`,
      data: { runId, runDir, outcomes },
    });
    const { writeDiagnostics } = await import('../lib/diagnostics/bundle.ts');
    unwritten.artifacts = artifacts ?? (await writeDiagnostics(undefined, { runId, namespaces: [], error: unwritten }));
    throw unwritten;
  }

  emit(opts, { runId, interrupted, reports, artifacts, outcomes }, () => `${outcomesText(outcomes)}\n\n${reportsText(reports)}`);
  if (interrupted) {
    const { interruptedSuite } = await import('../../scenarios/suite.ts');
    const what = (stopped ?? interruptedSuite(chosen, outcomes)).message.split('\n')[0]!.replace(/^interrupted /, '');
    const left = outcomes.at(-1)?.interrupted?.left.map((l) => `\nleft: ${l}`).join('') ?? '';
    const finished = outcomes.filter((o) => !o.interrupted).length;
    const notRun = chosen.slice(outcomes.length).map((s) => s.name);
    throw new InterruptedError(`interrupted after ${finished} of ${chosen.length} scenarios, ${what}${left}${notRun.length ? `\nnot run: ${notRun.join(', ')}` : ''}`, {
      hint: `the reports under ${reports.dir} cover what ran; run \`sandbox test\` again for the rest`,
      data: { runId, reports },
    });
  }
  if (failure) {
    failure.artifacts = artifacts;
    failure.data = { runId, reports };
    throw failure;
  }
}

/** A failed scenario in one line: why it could not be carried out, or the claims that did not hold. */
function whyFailed(o: ScenarioOutcome): string {
  const claims = o.claims.filter((c) => !c.ok).map((c) => `${c.title}: ${c.detail}`);
  return `${o.scenario}: ${o.error ? `could not be carried out: ${o.error.message}` : claims.join('; ')}`;
}

function reportsText(r: ReportPaths): string {
  return [`reports in ${r.dir}:`, `  JUnit  ${r.junit}`, `  JSON   ${r.json}`, `  HTML   ${r.html}`].join('\n');
}
