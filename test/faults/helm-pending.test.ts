// A Helm release left pending-upgrade or pending-rollback: the helm that was upgrading or rolling
// it back was SIGKILLed while it waited (as a second Ctrl-C kills it), so helm refuses every later
// upgrade with "another operation (install/upgrade/rollback) is in progress". The next `up` says
// so, rolls the release back to its last deployed revision and upgrades it. Through the built
// CLI against a simulation; the fault is proven in place (the pending revision in helm's storage,
// helm's own refusal) before the run that survives it. (pending-install: charts.test.ts.)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FAKE_BIN_DIR, type Sim } from '../sim/harness.ts';
import { closeSimAfterEach, convergesAgain, expectNoBundle, freshSim } from './kit.ts';

closeSimAfterEach();

const ARGS = ['up', '--only', 'preflight,cluster,cert-manager'];
const SECRETS = '/api/v1/namespaces/cert-manager/secrets';

/** The sandbox's own `helm upgrade --install cert-manager ...` (from `up --dry-run --json`), without `helm`. */
async function installArgv(sim: Sim): Promise<string[]> {
  const plan = JSON.parse((await runCli(['up', '--dry-run', '--json', '--only', 'cert-manager'], { env: sim.env })).stdout) as {
    steps: Array<{ actions: Array<{ kind: string; argv?: string[] }> }>;
  };
  return plan.steps[0]!.actions.find((a) => a.kind === 'command')!.argv!.slice(1);
}

/** Runs helm with `args` while cert-manager's pods never get Ready, and SIGKILLs it once revision `revision` is `status`. */
async function killedMidway(sim: Sim, args: string[], revision: number, status: string): Promise<void> {
  await sim.patchFaults({ neverReady: ['^cert-manager-'] });
  const helm = spawn(join(FAKE_BIN_DIR, 'helm'), [...args, '--wait', '--timeout', '10m'], { env: sim.env, stdio: 'ignore' });
  await sim.kube.waitFor(`${SECRETS}/sh.helm.release.v1.cert-manager.v${revision}`, (s) => s.metadata.labels?.status === status, 30_000);
  helm.kill('SIGKILL');
  await new Promise((r) => helm.once('exit', r));
  await sim.patchFaults({ neverReady: null });
}

/** Revision -> status, from helm's storage (its Secrets' labels). */
async function revisions(sim: Sim): Promise<Record<string, string>> {
  const secrets = await sim.kube.list(SECRETS, { labelSelector: 'owner=helm,name=cert-manager' });
  return Object.fromEntries(secrets.map((s) => [s.metadata.labels!.version!, s.metadata.labels!.status!]));
}

async function rollbacks(sim: Sim): Promise<string[][]> {
  return (await sim.calls('helm')).map((c) => c.argv).filter((argv) => argv[0] === 'rollback');
}

/** The fault is in place: helm itself refuses to upgrade the release. */
async function expectHelmRefuses(sim: Sim, argv: string[]): Promise<void> {
  const refused = await sim.tool('helm', argv);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe('Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n');
}

describe('helm left a release pending-upgrade or pending-rollback', () => {
  it('pending-upgrade (killed mid-upgrade): the next up says so, rolls back to the last deployed revision, upgrades; the run after is a no-op', async () => {
    const sim = await freshSim();
    await convergesAgain(sim, ARGS);
    const argv = await installArgv(sim);
    await killedMidway(sim, argv, 2, 'pending-upgrade');
    expect(await revisions(sim)).toEqual({ 1: 'deployed', 2: 'pending-upgrade' });
    await expectHelmRefuses(sim, argv);

    const res = await convergesAgain(sim, [...ARGS, '--verbose']);
    expect(`${res.stdout}${res.stderr}`).toContain(
      'helm release cert-manager was left pending-upgrade (revision 2) by an interrupted run: rolling it back to revision 1 (its last deployed one), then upgrading it',
    );
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
    expect((await rollbacks(sim)).map((a) => a.slice(0, 3))).toEqual([['rollback', 'cert-manager', '1']]);
    // Rolled back (3), then upgraded (4); helm leaves the interrupted revision's status as it was.
    expect(await revisions(sim)).toEqual({ 1: 'superseded', 2: 'pending-upgrade', 3: 'superseded', 4: 'deployed' });
    const again = await convergesAgain(sim, ARGS);
    expect(again.stdout).not.toMatch(/pending/);
    expect(Object.keys(await revisions(sim))).toHaveLength(4);
  });

  it('pending-rollback (killed mid-rollback): the next up rolls back to the last deployed revision and upgrades', async () => {
    const sim = await freshSim();
    await convergesAgain(sim, ARGS);
    const argv = await installArgv(sim);
    // A second revision, then a rollback to the first that is killed while it waits.
    const second = await sim.tool('helm', argv);
    expect(second.code, second.stderr).toBe(0);
    const target = argv.slice(4, argv.indexOf('--namespace'));
    await killedMidway(sim, ['rollback', 'cert-manager', '1', ...target, '--namespace', 'cert-manager'], 3, 'pending-rollback');
    expect(await revisions(sim)).toEqual({ 1: 'superseded', 2: 'deployed', 3: 'pending-rollback' });
    await expectHelmRefuses(sim, argv);

    const res = await convergesAgain(sim, [...ARGS, '--verbose']);
    expect(`${res.stdout}${res.stderr}`).toContain(
      'helm release cert-manager was left pending-rollback (revision 3) by an interrupted run: rolling it back to revision 2 (its last deployed one), then upgrading it',
    );
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
    expect(await revisions(sim)).toEqual({ 1: 'superseded', 2: 'superseded', 3: 'pending-rollback', 4: 'superseded', 5: 'deployed' });
    await convergesAgain(sim, ARGS);
    expect(Object.keys(await revisions(sim))).toHaveLength(5);
  });
});
