// The real, built CLI against the simulated cluster: `up` runs to completion, a second
// `up` changes nothing and is fast, `down` removes the cluster; without Docker, `up` and
// `doctor` fail fast with a message that names Docker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startSim, type Sim } from '../sim/harness.ts';

const STEPS = ['--only', 'preflight,cluster,minio'];

describe('sandbox up against the simulated cluster', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('stands up the cluster and MinIO, then a second run changes nothing and is fast', async () => {
    const first = await runCli(['up', ...STEPS], { env: sim.env, timeoutMs: 90_000 });
    expect(first.stderr + first.stdout).toContain('sandbox is up');
    expect(first.code).toBe(0);

    const nodes = await sim.kube.list('/api/v1/nodes');
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['flink-sandbox-control-plane', 'flink-sandbox-worker']);
    const job = await sim.kube.get('/apis/batch/v1/namespaces/minio/jobs/minio-make-bucket');
    expect(job?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    const secret = await sim.kube.get('/api/v1/namespaces/minio/secrets/minio-credentials');
    expect(Buffer.from((secret!.data as Record<string, string>).secretKey!, 'base64').toString()).not.toBe('minio123');
    expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toHaveLength(1);

    const status = await runCli(['status', '--json'], { env: sim.env });
    const components = (JSON.parse(status.stdout) as { components: Array<{ component: string; health: string }> }).components;
    expect(components.filter((c) => ['cluster', 'minio'].includes(c.component)).map((c) => c.health)).toEqual(['healthy', 'healthy']);

    const auditBefore = (await sim.audit()).length;
    const callsBefore = (await sim.calls()).length;
    const second = await runCli(['up', ...STEPS, '--json'], { env: sim.env, timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as { ok: boolean; steps: Array<{ id: string; outcome: string }> };
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.outcome)).toEqual(['done', 'already', 'already']);
    // Nothing created or changed by the CLI, and no cluster created, on the second run.
    const changes = (await sim.audit()).slice(auditBefore).filter((e) => e.actor === 'client' && !e.dryRun);
    expect(changes).toEqual([]);
    const newCalls = (await sim.calls()).slice(callsBefore);
    expect(newCalls.filter((c) => c.tool === 'kind' && c.argv[0] === 'create')).toEqual([]);
    expect(newCalls.filter((c) => c.tool === 'helm' && /install|upgrade/.test(c.argv.join(' ')))).toEqual([]);
    expect(second.ms).toBeLessThan(10_000);
  });

  it('up --force re-applies every step but never recreates the cluster', async () => {
    const forced = await runCli(['up', ...STEPS, '--force', '--json'], { env: sim.env, timeoutMs: 60_000 });
    expect(forced.code, forced.stderr).toBe(0);
    const report = JSON.parse(forced.stdout) as { steps: Array<{ outcome: string }> };
    expect(report.steps.map((s) => s.outcome)).toEqual(['done', 'done', 'done']);
    expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toHaveLength(1);
  });

  it('down deletes the cluster and a second down is a no-op', async () => {
    const down = await runCli(['down'], { env: sim.env });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('deleted kind cluster flink-sandbox');
    const again = await runCli(['down'], { env: sim.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to delete');
  });
});

describe('without a Docker engine', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim({ faults: { docker: { down: true } } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  for (const command of [['up'], ['doctor']]) {
    it(`${command.join(' ')} fails fast, names Docker and prints no stack trace`, async () => {
      const res = await runCli(command, { env: sim.env, timeoutMs: 30_000 });
      expect(res.code).not.toBe(0);
      const out = res.stdout + res.stderr;
      expect(out).toMatch(/docker/i);
      expect(out).toMatch(/start Docker/i);
      expect(out).not.toMatch(/^\s+at .+\(/m);
      expect(res.ms).toBeLessThan(10_000);
    });
  }
});
