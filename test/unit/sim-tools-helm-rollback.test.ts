// The fake `helm rollback` and `helm history` (helm 3.19's pkg/action/rollback.go and
// cmd/helm/history.go): a rollback stores a new revision (pending-rollback, then deployed) with
// the target's values and manifest and supersedes the deployed one; it is also how a release
// whose helm was killed mid-upgrade (left pending-upgrade, which every upgrade refuses) is
// unstuck; the pending revision keeps its status in the history.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../sim/api-client.ts';
import { FAKE_BIN_DIR, startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
const REPO = 'https://charts.example.org/demo';
const NS = ['-n', 'roll'];

beforeAll(async () => {
  sim = await startSim();
  expect((await sim.tool('kind', ['create', 'cluster', '--name', 'h'])).code).toBe(0);
});

afterAll(async () => {
  await sim?.close();
});

/** Revision -> status, from helm's own storage (the Secrets' labels). */
async function statuses(): Promise<Record<string, string>> {
  const secrets = await sim.kube.list('/api/v1/namespaces/roll/secrets', { labelSelector: 'owner=helm,name=roll' });
  return Object.fromEntries(secrets.map((s) => [s.metadata.labels!.version!, s.metadata.labels!.status!]));
}

async function replicas(): Promise<number> {
  return (await sim.kube.get('/apis/apps/v1/namespaces/roll/deployments/roll-demo'))!.spec.replicas as number;
}

const upgrade = (replicaCount: number, extra: string[] = []): string[] => ['upgrade', '--install', 'roll', 'demo', '--repo', REPO, ...NS, '--create-namespace', '--set', `replicaCount=${replicaCount}`, ...extra];

describe('fake helm rollback and history', () => {
  it('rolls back to a revision: a new revision with its values, the deployed one superseded', async () => {
    expect((await sim.tool('helm', upgrade(1))).code).toBe(0);
    expect((await sim.tool('helm', upgrade(2))).code).toBe(0);
    expect(await replicas()).toBe(2);
    const r = await sim.tool('helm', ['rollback', 'roll', '1', ...NS]);
    expect(r).toMatchObject({ code: 0, stdout: 'Rollback was a success! Happy Helming!\n', stderr: '' });
    expect(await statuses()).toEqual({ 1: 'superseded', 2: 'superseded', 3: 'deployed' });
    expect(await replicas()).toBe(1);
    const values = await sim.tool('helm', ['get', 'values', 'roll', ...NS, '-o', 'json']);
    expect(JSON.parse(values.stdout)).toEqual({ replicaCount: 1 });
  });

  it('prints the history oldest first, the newest --max revisions, in JSON and as a table', async () => {
    const [json, two, table] = await Promise.all([
      sim.tool('helm', ['history', 'roll', ...NS, '-o', 'json']),
      sim.tool('helm', ['history', 'roll', ...NS, '--max', '2', '-o', 'json']),
      sim.tool('helm', ['history', 'roll', ...NS]),
    ]);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((h) => [h.revision, h.status, h.description])).toEqual([
      [1, 'superseded', 'Install complete'],
      [2, 'superseded', 'Upgrade complete'],
      [3, 'deployed', 'Rollback to 1'],
    ]);
    expect(rows[0]).toMatchObject({ chart: 'demo-0.1.0', app_version: '1.27.0', updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect((JSON.parse(two.stdout) as Array<{ revision: number }>).map((h) => h.revision)).toEqual([2, 3]);
    expect(table.stdout.split('\n')[0]).toMatch(/^REVISION\s*\tUPDATED\s*\tSTATUS\s*\tCHART\s*\tAPP VERSION\s*\tDESCRIPTION$/);
    expect(table.stdout).toMatch(/\n3\s+\t.+\tdeployed\s*\tdemo-0\.1\.0\s*\t1\.27\.0\s*\tRollback to 1\n$/);
  });

  it('unsticks a release left pending-upgrade: upgrades refuse it, a rollback goes through, then upgrades work again', async () => {
    // An upgrade whose helm is killed while it waits: revision 4 stays pending-upgrade.
    await sim.patchFaults({ neverReady: ['^roll-'] });
    const helm = spawn(join(FAKE_BIN_DIR, 'helm'), upgrade(3, ['--wait', '--timeout', '10m']), { env: sim.env, stdio: 'ignore' });
    await sim.kube.waitFor<KubeObject>('/api/v1/namespaces/roll/secrets/sh.helm.release.v1.roll.v4', (s) => s.metadata.labels?.status === 'pending-upgrade', 30_000);
    helm.kill('SIGKILL');
    await new Promise((r) => helm.once('exit', r));
    await sim.patchFaults({ neverReady: null });
    expect(await statuses()).toEqual({ 1: 'superseded', 2: 'superseded', 3: 'deployed', 4: 'pending-upgrade' });

    const refused = await sim.tool('helm', upgrade(3));
    expect(refused).toMatchObject({ code: 1, stderr: 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n' });
    // Without a revision: the one before the last (3, the deployed one).
    expect((await sim.tool('helm', ['rollback', 'roll', ...NS])).code).toBe(0);
    expect(await statuses()).toEqual({ 1: 'superseded', 2: 'superseded', 3: 'superseded', 4: 'pending-upgrade', 5: 'deployed' });
    expect(await replicas()).toBe(1);
    expect((await sim.tool('helm', upgrade(3))).code).toBe(0);
    expect(await statuses()).toMatchObject({ 4: 'pending-upgrade', 5: 'superseded', 6: 'deployed' });
    expect(await replicas()).toBe(3);
  });

  it('a rollback whose --wait times out marks its revision failed', async () => {
    // Revision 7 runs one pod of another template (waited for); rolling back to 6 wants three of
    // the old template: new pods, which never get Ready. (A rollback to fewer pods whose pods are
    // still Ready could be done before the knob reaches them.)
    expect((await sim.tool('helm', upgrade(1, ['--set', 'podLabels.round=two', '--wait', '--timeout', '60s']))).code).toBe(0);
    await sim.patchFaults({ neverReady: ['^roll-'] });
    const r = await sim.tool('helm', ['rollback', 'roll', '6', ...NS, '--wait', '--timeout', '1s']);
    await sim.patchFaults({ neverReady: null });
    expect(r).toMatchObject({ code: 1, stderr: 'Error: release roll failed: context deadline exceeded\n' });
    expect(await statuses()).toMatchObject({ 7: 'deployed', 8: 'failed' });
  });

  it('fails like helm for a missing release or revision', async () => {
    const [missing, noVersion, noHistory] = await Promise.all([
      sim.tool('helm', ['rollback', 'nope', ...NS]),
      sim.tool('helm', ['rollback', 'roll', '99', ...NS]),
      sim.tool('helm', ['history', 'nope', ...NS]),
    ]);
    expect(missing).toMatchObject({ code: 1, stderr: 'Error: release: not found\n' });
    expect(noVersion).toMatchObject({ code: 1, stderr: 'Error: release has no 99 version\n' });
    expect(noHistory).toMatchObject({ code: 1, stderr: 'Error: release: not found\n' });
  });
});
