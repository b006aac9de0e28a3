// The faults a scenario run meets, on one simulated sandbox (`up --profile minimal` once), each
// through `sandbox test`, the command CI runs: a savepoint that FAILS, a job that never recovers,
// a run interrupted half-way, and a disk that fills up while the reports are written. Each ends
// with its message, exit code, reports and bundle; once the fault is cleared the next run passes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { flinkWorld } from '../sim/systems.ts';
import { bundleFile, expectReported } from './kit.ts';

interface TestDoc {
  ok: boolean;
  reports?: { dir: string; junit: string; json: string; html: string };
  artifacts?: string;
  outcomes: Array<{ scenario: string; ok: boolean; historyFile: string; error?: { message: string }; claims: Array<{ ok: boolean; detail: string }> }>;
}

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
  const up = await runCli(['up', '--config', sim.configFile, '--profile', 'minimal'], { env: sim.env, timeoutMs: 240_000 });
  expect(up.code, up.stderr).toBe(0);
}, 300_000);
afterAll(async () => {
  await sim?.close();
});

/** `sandbox test <names>` on the simulation (its config: clocks that run fast). */
function sandboxTest(names: string[], extra: string[] = []): Promise<CliResult> {
  return runCli(['test', ...names, '--config', sim.configFile, ...extra], { env: sim.env, timeoutMs: 200_000 });
}

/** What a failed or stopped scenario said: its error and the details of the claims that did not hold. */
function said(doc: TestDoc): string {
  return doc.outcomes.flatMap((o) => [o.error?.message ?? '', ...o.claims.filter((c) => !c.ok).map((c) => c.detail)]).join('\n');
}

/** The fault cleared: the same scenarios pass again, with their reports. */
async function passesAgain(names: string[]): Promise<TestDoc> {
  const again = await sandboxTest(names, ['--json']);
  const doc = JSON.parse(again.stdout) as TestDoc;
  expect(again.code, said(doc) || again.stderr).toBe(0);
  expect(doc.outcomes.map((o) => o.scenario)).toEqual(names);
  expect(existsSync(doc.reports!.junit)).toBe(true);
  return doc;
}

/** The run as a person reads it: the outcomes on stdout, the error, hint and bundle on stderr. */
async function failingRun(names: string[]): Promise<{ res: CliResult; text: string }> {
  const res = await sandboxTest(names);
  return { res, text: `${res.stdout}\n${res.stderr}` };
}

describe('faults of the job', () => {
  it('a savepoint that FAILS: the scenario fails naming the FAILED snapshot; reports and bundle hold it', async () => {
    await sim.patchFaults({ flink: { failSavepoints: true } });
    let run: { res: CliResult; text: string };
    try {
      run = await failingRun(['savepoint-redeploy']);
    } finally {
      await sim.patchFaults({ flink: null });
    }
    const { bundle } = expectReported(run.res, { message: /1 of 1 scenarios failed: savepoint-redeploy/, hint: /open \S+report\.html for the plots/ });
    // The fault fired: the snapshot is FAILED, with Flink's error, in the scenario's words and in the bundle.
    expect(run.text).toMatch(/savepoint \S+ FAILED: .*simulated: failSavepoints/);
    expect(bundleFile(bundle, 'error.txt')).toMatch(/caused by: savepoint-redeploy: could not be carried out: .*savepoint \S+ FAILED: .*simulated: failSavepoints/);
    expect(bundleFile(bundle, 'default/custom/flinkdeployments.flink.apache.org.yaml')).toMatch(/name: hello-ha/);
    await passesAgain(['savepoint-redeploy']);
  }, 400_000);

  it('a job that never recovers after its TaskManager is killed: the liveness deadline, named; bundle of the job', async () => {
    await sim.patchFaults({ flink: { neverRecover: true } });
    let run: { res: CliResult; text: string };
    try {
      run = await failingRun(['kill-taskmanager']);
    } finally {
      await sim.patchFaults({ flink: null });
    }
    expectReported(run.res, { message: /1 of 1 scenarios failed: kill-taskmanager/, hint: /report\.html/ });
    expect(run.text).toMatch(/timed out after 15s waiting for the (restarted job|sequence) to pass/);
    await passesAgain(['kill-taskmanager']);
  }, 400_000);
});

describe('a job that goes FAILED', () => {
  it('the savepoint a redeploy starts from is gone: the job FAILS at start, named with Flink\'s error, without waiting out the liveness deadline', async () => {
    // The fault: every savepoint's files vanish from the bucket as soon as they are written (a
    // lifecycle rule, a wrong `mc rm`), so the redeploy from it finds nothing to restore.
    const storage = flinkWorld(sim.url).storage;
    const gone: string[] = [];
    const sweeper = setInterval(() => {
      for (const [path, snap] of storage) {
        if (snap.kind !== 'savepoint') continue;
        storage.delete(path);
        gone.push(path);
      }
    }, 5);
    let run: { res: CliResult; text: string };
    try {
      run = await failingRun(['savepoint-redeploy']);
    } finally {
      clearInterval(sweeper);
    }
    // The fault fired: the savepoint was taken, then removed from the simulated bucket.
    expect(gone.length).toBeGreaterThan(0);
    const { bundle } = expectReported(run.res, {
      message: /1 of 1 scenarios failed: savepoint-redeploy/,
      hint: /report\.html/,
    });
    expect(run.text).toMatch(/the job hello-ha FAILED: .*Cannot find checkpoint or savepoint file\/directory '[^']+'/);
    // Ended by the job's state, not by running out the wait for its sequence.
    expect(run.text).not.toMatch(/timed out after \d+s waiting for the redeployed job/);
    expect(bundleFile(bundle, 'default/custom/flinkdeployments.flink.apache.org.yaml')).toMatch(/state: FAILED/);
    await passesAgain(['savepoint-redeploy']);
  }, 400_000);
});

describe('faults of the run itself', () => {
  it('a scenario interrupted half-way: exit 130, the reports cover it; the next run starts clean', async () => {
    const stopped = await runCli(['test', 'kill-taskmanager', '--config', sim.configFile], {
      env: sim.env,
      timeoutMs: 200_000,
      interrupt: {
        signal: 'SIGINT',
        when: async (out) => {
          // Half-way: the TaskManager is deleted and the scenario waits for the job to recover.
          while (!/waiting for the restarted job to pass/.test(out())) await new Promise((r) => setTimeout(r, 50));
        },
      },
    });
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted after \d of 1 scenarios/);
    expect(stopped.stderr).toMatch(/hint: the reports under \S+ cover what ran; run `sandbox test` again for the rest/);
    expect(stopped.stderr).not.toMatch(/^\s+at .+\(/m);
    const dir = /reports in (\S+):/.exec(`${stopped.stdout}${stopped.stderr}`)![1]!;
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/classname="kill-taskmanager"[\s\S]*<error message="interrupted/);

    const doc = await passesAgain(['deploy']);
    // Clean: one job of the new run, whose sequence starts at 1 (the stopped run's job and HA are gone).
    const records = readFileSync(doc.outcomes[0]!.historyFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; seq?: number })
      .filter((e) => e.kind === 'record');
    expect(records[0]?.seq).toBe(1);
    const jobs = await sim.kube.list('/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments');
    expect(jobs.map((j) => j.metadata.name)).toEqual(['hello-ha']);
  }, 400_000);

  it('the disk full while writing the reports (ENOSPC on a 4 KiB tmpfs): the outcomes printed, where and why, the bundle', async () => {
    // A real full disk: the reports folder is a 4 KiB tmpfs, mounted in a user and mount namespace
    // of the CLI's own (unshare), so nothing of it outlives the run.
    const reports = join(sim.env.SANDBOX_STATE_DIR!, 'reports');
    const script = 'mkdir -p "$REPORTS" && mount -t tmpfs -o size=4k sandbox-full "$REPORTS" && exec "$@"';
    const res = await new Promise<CliResult>((resolve, reject) => {
      const started = performance.now();
      const child = spawn('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', process.execPath, join(REPO_ROOT, 'bin', 'sandbox.js'), 'test', 'deploy', '--config', sim.configFile], {
        cwd: REPO_ROOT,
        env: { ...sim.env, REPORTS: reports },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: Math.round(performance.now() - started) }));
    });
    // The fault fired: the write failed with ENOSPC from the kernel.
    const { bundle } = expectReported(res, {
      message: /cannot write the reports to \S+\/reports\/\S+/,
      hint: /free space on the disk that holds \S+ .*then run `sandbox test` again; the outcomes are printed above/,
    });
    expect(res.stderr).toMatch(/caused by: ENOSPC: no space left on device/);
    // The verdicts are not lost with the files: printed, and the scenario passed.
    expect(res.stderr).toMatch(/^✓ deploy/m);
    expect(bundleFile(bundle, 'error.txt')).toMatch(/ENOSPC/);
    // Nothing of the full tmpfs is left behind in the real folder.
    const runId = new RegExp(`cannot write the reports to \\S+/reports/(\\S+)`).exec(res.stderr)![1]!;
    expect(existsSync(join(reports, runId))).toBe(false);
    // The disk has room again (the real folder): the next run writes its reports.
    await passesAgain(['deploy']);
  }, 400_000);
});
