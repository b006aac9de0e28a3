// Ctrl-C at every step of `sandbox up` (the full profile), through the built CLI on one simulated
// sandbox that is stood up once. Each point makes its step do real work and hold there (its
// install removed, a readiness that does not come, a tool that hangs), signals the CLI's process
// group when the step is seen doing it, and checks: exit 130 within seconds; the message names
// the step, where it was and what that leaves; no process the CLI started outlives it; no
// watch of it stays open on the API server; the next `up` starts at once and converges.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FAKE_BIN_DIR, startSim, type Sim } from '../sim/harness.ts';
import { BIN, clientWatches, slowTools, startCli, stillAlive, stopAll, type Running } from './ctrl-c.ts';

let sim: Sim;
let titles: Map<string, string>;
let args: string[];
const CONTEXT = ['--kube-context', 'kind-flink-sandbox'];

beforeAll(async () => {
  sim = await startSim();
  args = ['up', '--config', sim.configFile, '--profile', 'full'];
  const plan = await runCli([...args, '--dry-run', '--json'], { env: sim.env, bin: BIN });
  titles = new Map((JSON.parse(plan.stdout) as { steps: Array<{ id: string; title: string }> }).steps.map((s) => [s.id, s.title]));
  const up = await runCli(args, { env: sim.env, timeoutMs: 150_000, bin: BIN });
  expect(up.code, up.stderr).toBe(0);
}, 180_000);
// A point that failed half-way must not leave its knob to the next one.
afterEach(async () => {
  await stopAll();
  await sim.patchFaults({ neverReady: null, webhookRefuse: null, elasticsearch: null });
});
afterAll(async () => {
  await sim?.close();
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The line the plain renderer prints when a step starts. */
function started(step: string): RegExp {
  return new RegExp(`❯ (\\[[\\d:]+\\] )?${escape(titles.get(step)!)}\\n`);
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A process the CLI started whose command name matches, while it runs (proof the tool was running). */
function child(cli: Running, comm: RegExp): Promise<string> {
  return until(() => [...cli.descendants().values()].find((v) => comm.test(v)), `a child process ${comm}`);
}

interface Stopped {
  stderr: string;
  /** Processes the CLI started while it ran. */
  children: number;
}

/** What every Ctrl-C must leave: exit 130 soon, nothing running, no watch open, the step named. */
async function expectStoppedCleanly(cli: Running, step: string): Promise<Stopped> {
  const exit = await cli.exited;
  const stderr = cli.stderr();
  expect(exit.code, stderr).toBe(130);
  expect(exit.afterSignalMs, stderr).toBeLessThan(8_000);
  expect(stderr).toMatch(/Ctrl-C: stopping cleanly/);
  expect(stderr).toMatch(new RegExp(`interrupted during [^\\n]*\\b${step}\\b`));
  expect(stderr).toMatch(new RegExp(`^${step}: stopped while (checking what is in place|doing its work|waiting for readiness)[^\\n]*; (it had changed nothing yet|its work may be partly done|installed, but not yet confirmed ready)`, 'm'));
  expect(stderr).not.toMatch(/^\s+at .+\(/m);
  expect(stillAlive(cli.descendants())).toEqual([]);
  await until(async () => (await clientWatches(sim.url)) === 0 || undefined, 'the CLI watches to close', 5_000);
  return { stderr, children: cli.descendants().size };
}

/** The next `up` starts at once (the lock was let go) and converges, on the cluster it had. */
async function expectRerunConverges(): Promise<void> {
  const creates = (await sim.calls('kind')).filter((c) => c.argv[0] === 'create').length;
  const again = startCli(args, sim.env);
  await again.waitFor(started('preflight'), 10_000);
  const exit = await again.exited;
  expect(exit.code, again.output()).toBe(0);
  expect(again.output()).toMatch(/sandbox is up/);
  expect((await sim.calls('kind')).filter((c) => c.argv[0] === 'create')).toHaveLength(creates);
}

/** The simulation's environment with a kubeconfig that does not exist (the file is never touched). */
function withoutKubeconfig(): Record<string, string> {
  return { ...sim.env, KUBECONFIG: join(sim.dir, 'no-kubeconfig') };
}

interface Point {
  step: string;
  /** Makes the step do work and hold there; cleared before the re-run. */
  arrange?: () => Promise<void>;
  clear?: () => Promise<void>;
  /** Tool calls that hang (a stand-in first on PATH). */
  slow?: Partial<Record<'kind' | 'helm' | 'docker', string>>;
  /** Run without the kubeconfig: the cluster does not answer, so Docker and kind are asked. */
  noKubeconfig?: boolean;
  /** Once the step has started: what shows it at work. */
  atWork: RegExp | 'slow tool';
  phase: 'checking what is in place' | 'doing its work' | 'waiting for readiness';
}

const helmUninstall = async (release: string, namespace: string): Promise<void> => {
  const r = await sim.tool('helm', ['uninstall', release, '--namespace', namespace, ...CONTEXT]);
  expect(r.code, r.stderr).toBe(0);
};
const patchFaults = (f: Record<string, unknown>) => () => sim.patchFaults(f);

const POINTS: Point[] = [
  // An installed cluster that answers is checked through its API (no docker info, no kind get
  // clusters): without the kubeconfig it does not answer, and both tools are asked.
  { step: 'preflight', slow: { docker: 'info' }, noKubeconfig: true, atWork: 'slow tool', phase: 'doing its work' },
  { step: 'cluster', slow: { kind: 'clusters' }, noKubeconfig: true, atWork: 'slow tool', phase: 'checking what is in place' },
  {
    step: 'minio',
    arrange: async () => {
      await sim.patchFaults({ neverReady: ['^minio-[a-z0-9]+-[a-z0-9]+$'] });
      await sim.kube.delete('/apis/apps/v1/namespaces/minio/deployments/minio');
    },
    clear: patchFaults({ neverReady: null }),
    atWork: /minio: waiting for rollout of Deployment minio\/minio/,
    phase: 'waiting for readiness',
  },
  {
    step: 'cert-manager',
    arrange: async () => {
      await helmUninstall('cert-manager', 'cert-manager');
      await sim.patchFaults({ webhookRefuse: { webhook: 'cert-manager' } });
    },
    clear: patchFaults({ webhookRefuse: null }),
    atWork: /cert-manager: the cert-manager webhook to accept a dry-run Issuer and Certificate: .*refused|cert-manager: waiting for the cert-manager webhook/,
    phase: 'waiting for readiness',
  },
  {
    step: 'flink-operator',
    arrange: async () => {
      await helmUninstall('flink-kubernetes-operator', 'flink-operator');
      await sim.patchFaults({ webhookRefuse: { webhook: 'flink' } });
    },
    clear: patchFaults({ webhookRefuse: null }),
    atWork: /flink-operator: waiting for the Flink operator webhook/,
    phase: 'waiting for readiness',
  },
  {
    step: 'job-image',
    // No record of the image loaded: the step checks the local image again.
    arrange: () => sim.kube.delete('/api/v1/namespaces/default/configmaps/flink-sandbox'),
    slow: { docker: 'inspect' },
    atWork: 'slow tool',
    phase: 'doing its work',
  },
  {
    step: 'eck-operator',
    arrange: async () => {
      await sim.patchFaults({ neverReady: ['^elastic-operator-0$'] });
      await sim.kube.delete('/apis/apps/v1/namespaces/elastic-system/statefulsets/elastic-operator');
    },
    clear: patchFaults({ neverReady: null }),
    atWork: /eck-operator: waiting for rollout of StatefulSet elastic-system\/elastic-operator/,
    phase: 'waiting for readiness',
  },
  {
    step: 'elasticsearch',
    arrange: patchFaults({ elasticsearch: { health: 'red' } }),
    clear: patchFaults({ elasticsearch: null }),
    atWork: /elasticsearch: Elasticsearch quickstart to be Ready with health green or yellow: .*health red/,
    phase: 'waiting for readiness',
  },
  {
    step: 'logging-operator',
    arrange: async () => {
      await helmUninstall('logging-operator', 'logging');
      await sim.patchFaults({ neverReady: ['^logging-operator-'] });
    },
    clear: patchFaults({ neverReady: null }),
    atWork: /logging-operator: waiting for rollout of Deployment logging\/logging-operator/,
    phase: 'waiting for readiness',
  },
  {
    step: 'logging-pipeline',
    arrange: patchFaults({ neverReady: ['^sandbox-fluentd-0$'] }),
    clear: patchFaults({ neverReady: null }),
    atWork: /logging-pipeline: rollout of StatefulSet logging\/sandbox-fluentd: 0\/1 ready/,
    phase: 'waiting for readiness',
  },
];

describe('Ctrl-C at each step of up', () => {
  it('covers every step of the full profile', () => {
    expect(POINTS.map((p) => p.step).sort()).toEqual([...titles.keys()].sort());
  });

  for (const point of POINTS) {
    it(`during ${point.step}: exit 130, the step and what it leaves named, nothing left running, the re-run converges`, async () => {
      await point.arrange?.();
      const base = point.noKubeconfig ? withoutKubeconfig() : sim.env;
      const env = point.slow ? { ...base, PATH: `${slowTools(join(sim.dir, `slow-${point.step}`), FAKE_BIN_DIR, point.slow)}:${sim.env.PATH}` } : base;
      const cli = startCli(args, env);
      await cli.waitFor(started(point.step));
      if (point.atWork === 'slow tool') await child(cli, / sleep$/);
      else await cli.waitFor(point.atWork);
      cli.ctrlC();
      const { stderr } = await expectStoppedCleanly(cli, point.step);
      expect(stderr).toMatch(new RegExp(`^${point.step}: stopped while ${point.phase}`, 'm'));
      await point.clear?.();
      await expectRerunConverges();
    });
  }
});

describe('a second Ctrl-C', () => {
  it('exits at once while the first one waits for a tool deaf to SIGTERM, and says what it cut short', async () => {
    const env = { ...withoutKubeconfig(), PATH: `${slowTools(join(sim.dir, 'deaf'), FAKE_BIN_DIR, { docker: 'info' }, { ignoreTerm: true })}:${sim.env.PATH}` };
    const cli = startCli(args, env);
    await cli.waitFor(started('preflight'));
    await child(cli, / sleep$/);
    cli.ctrlC();
    await cli.waitFor(/Ctrl-C: stopping cleanly/, 5_000);
    // The first Ctrl-C's cleanup is now waiting for the tool that ignores SIGTERM.
    const exit = await cli.ctrlCAgain();
    expect(exit.code, cli.stderr()).toBe(130);
    expect(exit.afterSecondMs).toBeLessThan(2_000);
    expect(cli.stderr()).toMatch(/Ctrl-C again: quitting at once, without cleaning up/);
    expect(cli.stderr()).toMatch(/left mid-way: preflight \(doing its work\)/);
    expect(cli.stderr()).toMatch(/killed: docker info/);
    // The exit took the deaf tool with it.
    expect(stillAlive(cli.descendants())).toEqual([]);
    await expectRerunConverges();
  });

  it('one Ctrl-C still ends within seconds when a tool ignores SIGTERM: it is killed after a grace period', async () => {
    const env = { ...withoutKubeconfig(), PATH: `${slowTools(join(sim.dir, 'deaf-once'), FAKE_BIN_DIR, { kind: 'clusters' }, { ignoreTerm: true })}:${sim.env.PATH}` };
    const cli = startCli(args, env);
    await cli.waitFor(started('cluster'));
    await child(cli, / sleep$/);
    cli.ctrlC();
    await expectStoppedCleanly(cli, 'cluster');
    await expectRerunConverges();
  });

  it('twice during a helm install: exits at once; the release left pending-install is repaired by the next up', async () => {
    await helmUninstall('cert-manager', 'cert-manager');
    const cli = startCli(args, sim.env);
    await cli.waitFor(/cert-manager: helm upgrade --install cert-manager/);
    // The moment helm has recorded the release as pending, before it marks it deployed.
    await until(async () => {
      const secrets = await sim.kube.list('/api/v1/namespaces/cert-manager/secrets', { labelSelector: 'owner=helm,name=cert-manager,status=pending-install' });
      return secrets.length > 0 || undefined;
    }, 'helm to record cert-manager as pending-install', 30_000);
    // Two presses in a row, as a user does.
    cli.ctrlC();
    const exit = await cli.ctrlCAgain();
    expect(exit.code, cli.stderr()).toBe(130);
    expect(exit.afterSignalMs).toBeLessThan(8_000);
    expect(stillAlive(cli.descendants())).toEqual([]);
    // Truthful either way: helm was killed by the exit (and the message says so, with the
    // pending release), or the first Ctrl-C's SIGTERM had already ended it.
    if (/killed: helm upgrade --install cert-manager/.test(cli.stderr())) {
      expect(cli.stderr()).toMatch(/a Helm release it was changing may be left pending: the next `sandbox up` finds and repairs it/);
    }
    // The fault happened: helm was killed before it could mark the release.
    const left = await sim.kube.list('/api/v1/namespaces/cert-manager/secrets', { labelSelector: 'owner=helm,name=cert-manager' });
    expect(left.map((s) => s.metadata.labels?.status)).toEqual(['pending-install']);

    const again = startCli(args, sim.env);
    const done = await again.exited;
    expect(done.code, again.output()).toBe(0);
    expect(again.output()).toMatch(/helm release cert-manager was left pending-install by an interrupted run: uninstalling it to install again/);
  });
});
