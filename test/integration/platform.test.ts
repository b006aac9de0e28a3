// The whole platform of the blog against the simulated cluster: `up` (profile full, then
// with the UI extras) runs to completion, `status --json` reports every component healthy,
// a second `up` installs nothing and is fast, `down` leaves nothing behind; and the faults
// users meet most: webhooks refusing for a while, an image that cannot be pulled,
// Elasticsearch stuck red, too little Docker memory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { startSim, type Sim, type SimFaults } from '../sim/harness.ts';

interface Status {
  ok: boolean;
  components: Array<{ component: string; health: string; version?: string }>;
}

function withTimeouts(sim: Sim, timeouts: Record<string, number>): string {
  const cfg = parse(readFileSync(sim.configFile, 'utf8')) as Record<string, unknown>;
  const file = join(sim.dir, 'short-timeouts.yaml');
  writeFileSync(file, stringify({ ...cfg, timeouts }));
  return file;
}

function artifactsOf(res: CliResult): string {
  const m = /diagnostics: (\S+)/.exec(res.stderr);
  expect(m, `no diagnostics path in:\n${res.stderr}`).not.toBeNull();
  expect(existsSync(join(m![1]!, 'error.txt'))).toBe(true);
  return m![1]!;
}

describe('the full platform', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('up (profile full) completes and status reports every component healthy', async () => {
    const up = await runCli(['up', '--config', sim.configFile], { env: sim.env, timeoutMs: 180_000 });
    expect(up.code, up.stderr + up.stdout.slice(-3000)).toBe(0);
    const status = await runCli(['status', '--json'], { env: sim.env });
    const report = JSON.parse(status.stdout) as Status;
    expect(report.components.map((c) => c.component)).toEqual([
      'cluster', 'minio', 'cert-manager', 'flink-operator', 'elasticsearch', 'logging-operator', 'logging',
    ]);
    for (const c of report.components) expect(c, c.component).toMatchObject({ health: 'healthy' });
    expect(status.code).toBe(0);
    // What the blog set up by hand is there, under the names it used.
    expect(await sim.kube.get('/api/v1/namespaces/default/serviceaccounts/flink')).toBeDefined();
    expect(await sim.kube.get('/api/v1/namespaces/logging/secrets/quickstart-es-elastic-user')).toBeDefined();
    const helm = (await sim.calls('helm')).map((c) => c.argv.join(' '));
    expect(helm.some((a) => /^upgrade --install flink-kubernetes-operator .*--version 1\.15\.0/.test(a))).toBe(true);
    expect(helm.some((a) => /^show crds flink-kubernetes-operator/.test(a))).toBe(true);
  }, 200_000);

  it('up --with ui adds ingress-nginx and Heimdall', async () => {
    const up = await runCli(['up', '--config', sim.configFile, '--with', 'ui'], { env: sim.env, timeoutMs: 180_000 });
    expect(up.code, up.stderr).toBe(0);
    const report = JSON.parse((await runCli(['status', '--json'], { env: sim.env })).stdout) as Status;
    expect(report.components.filter((c) => ['ingress-nginx', 'heimdall'].includes(c.component)).map((c) => c.health)).toEqual([
      'healthy',
      'healthy',
    ]);
  }, 200_000);

  it('a second up installs nothing and finishes in a few seconds, even with another current context', async () => {
    // The user switched kubectl to another cluster meanwhile: helm must still target the sandbox's.
    const kubeconfig = parse(readFileSync(sim.env.KUBECONFIG!, 'utf8')) as Record<string, any>;
    kubeconfig.clusters.push({ name: 'elsewhere', cluster: { server: 'http://127.0.0.1:9', 'insecure-skip-tls-verify': true } });
    kubeconfig.users.push({ name: 'elsewhere', user: { token: 'not-the-sandbox' } });
    kubeconfig.contexts.push({ name: 'elsewhere', context: { cluster: 'elsewhere', user: 'elsewhere' } });
    kubeconfig['current-context'] = 'elsewhere';
    writeFileSync(sim.env.KUBECONFIG!, stringify(kubeconfig));
    const auditBefore = (await sim.audit()).length;
    const callsBefore = (await sim.calls()).length;
    const again = await runCli(['up', '--config', sim.configFile, '--with', 'ui', '--json'], { env: sim.env, timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { steps: Array<{ id: string; outcome: string }> };
    expect(report.steps.filter((s) => s.outcome !== 'already').map((s) => s.id)).toEqual(['preflight']);
    const changes = (await sim.audit()).slice(auditBefore).filter((e) => e.actor === 'client' && !e.dryRun);
    expect(changes.map((e) => `${e.verb} ${e.kind} ${e.namespace ?? ''}/${e.name ?? ''}`)).toEqual([]);
    const calls = (await sim.calls()).slice(callsBefore);
    expect(calls.filter((c) => /^(upgrade|install)\b/.test(c.argv.join(' ')))).toEqual([]);
    expect(calls.filter((c) => c.tool === 'kind' && ['create', 'delete', 'load'].includes(c.argv[0]!))).toEqual([]);
    expect(calls.filter((c) => c.tool === 'docker' && c.argv[0] === 'build')).toEqual([]);
    expect(again.ms).toBeLessThan(10_000);
  }, 90_000);

  it('down leaves nothing behind', async () => {
    const down = await runCli(['down'], { env: sim.env });
    expect(down.code, down.stderr).toBe(0);
    const clusters = (await (await fetch(`${sim.url}/_sim/clusters`)).json()) as unknown[];
    expect(clusters).toEqual([]);
    const kubeconfig = readFileSync(sim.env.KUBECONFIG!, 'utf8');
    expect(kubeconfig).not.toContain('kind-flink-sandbox');
  });
});

describe('faults', () => {
  let sim: Sim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  async function up(faults: SimFaults, args: string[], timeouts?: Record<string, number>): Promise<CliResult> {
    sim = await startSim({ faults });
    const config = timeouts ? withTimeouts(sim, timeouts) : sim.configFile;
    return runCli(['up', '--config', config, ...args], { env: sim.env, timeoutMs: 180_000 });
  }

  it('webhooks that refuse calls for a while: up waits for them and succeeds', async () => {
    const res = await up({ webhookRefuse: { count: 12 } }, ['--profile', 'minimal']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/webhook to accept/);
    expect((await sim!.faults()).webhookRefuse).toBeUndefined();
  }, 200_000);

  it('an image that cannot be pulled: a clear error naming the image and the node event', async () => {
    const res = await up({ unpullableImages: ['^quay\\.io/jetstack/cert-manager-webhook:'] }, ['--profile', 'minimal']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cert-manager failed: cannot pull image "quay\.io\/jetstack\/cert-manager-webhook:v1\.21\.1" for pod cert-manager\/cert-manager-webhook-\S+ on node \S+: Failed to pull image/);
    const events = readFileSync(join(artifactsOf(res), 'cert-manager', 'events.txt'), 'utf8');
    expect(events).toMatch(/Failed to pull image "quay\.io\/jetstack\/cert-manager-webhook/);
  }, 200_000);

  it('Elasticsearch stuck red: a timeout naming Elasticsearch and the last health seen', async () => {
    const res = await up({ elasticsearch: { health: 'red' } }, ['--only', 'preflight,cluster,eck-operator,elasticsearch'], { elasticsearchSeconds: 4 });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/timed out after 4s waiting for Elasticsearch quickstart to be Ready with health green or yellow; last seen: phase \w+, health red/);
    const dir = artifactsOf(res);
    expect(existsSync(join(dir, 'logging'))).toBe(true);
  }, 200_000);

  it('too little Docker memory: refused before anything is created, with the numbers', async () => {
    const res = await up({ docker: { memBytes: 5 * 1024 ** 3 } }, []);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Docker has 5\.0 GiB of memory, but profile "full" requests \d+\.\d GiB \(\d+ MiB: workloads \+ 1536 MiB for the cluster itself\)/);
    expect(res.stderr).toContain('sandbox up --profile minimal');
    artifactsOf(res);
    expect((await sim!.calls('kind')).filter((c) => c.argv[0] === 'create')).toEqual([]);
    // The same machine is enough for the minimal profile.
    const minimal = await runCli(['up', '--config', sim!.configFile, '--profile', 'minimal'], { env: sim!.env, timeoutMs: 180_000 });
    expect(minimal.code, minimal.stderr).toBe(0);
  }, 200_000);

  it('a download server answering 500 twice: the manifest download is retried and succeeds', async () => {
    const res = await up({ downloads: { status: 500, count: 2 } }, ['--only', 'preflight,cluster,eck-operator']);
    expect(res.code, res.stderr).toBe(0);
    expect((await sim!.faults()).downloads).toBeUndefined();
  }, 200_000);

  it('a download server that is down: a clear error naming the URL, with a hint', async () => {
    const res = await up({ downloads: { down: true } }, ['--only', 'preflight,cluster,eck-operator']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ECK operator failed: cannot download http:\/\/127\.0\.0\.1:\d+\/eck\/3\.5\.0\/crds\.yaml/);
    expect(res.stderr).toContain('hint: check network access');
    expect(res.stderr).not.toMatch(/^\s+at .+\(/m);
  }, 200_000);

  it('the operator chart gone from downloads.apache.org: falls back to archive.apache.org', async () => {
    const res = await up({ chartSourcesGone: ['downloads\\.apache\\.org'] }, ['--profile', 'minimal']);
    expect(res.code, res.stderr).toBe(0);
    const helm = (await sim!.calls('helm')).map((c) => c.argv.join(' '));
    expect(helm.some((a) => a.startsWith('upgrade --install flink-kubernetes-operator') && a.includes('archive.apache.org'))).toBe(true);
  }, 200_000);
});
