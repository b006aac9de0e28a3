// The fake `helm` executable with the `demo` chart recipe: install/upgrade, release storage
// as Helm 3 keeps it, list/status output, --wait, uninstall, and helm-like failures.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../sim/api-client.ts';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
const REPO = 'https://charts.example.org/demo';

beforeAll(async () => {
  sim = await startSim();
  const r = await sim.tool('kind', ['create', 'cluster', '--name', 'h']);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await sim?.close();
});

function decode(secret: KubeObject): { name: string; version: number; info: { status: string }; chart: { metadata: { name: string; version: string } }; config: unknown } {
  const inner = Buffer.from(Buffer.from((secret.data as { release: string }).release, 'base64').toString('utf8'), 'base64');
  return JSON.parse(gunzipSync(inner).toString('utf8'));
}

describe('fake helm', () => {
  it('prints its version in helm\'s formats', async () => {
    const [full, short, template] = await Promise.all([
      sim.tool('helm', ['version']),
      sim.tool('helm', ['version', '--short']),
      sim.tool('helm', ['version', '--template', '{{.Version}}']),
    ]);
    expect(full.stdout).toMatch(/^version\.BuildInfo\{Version:"v3\.19\.0", GitCommit:"[0-9a-f]{40}", GitTreeState:"clean", GoVersion:"go[\d.]+"\}\n$/);
    expect(short.stdout).toMatch(/^v3\.19\.0\+g[0-9a-f]{7}\n$/);
    expect(template.stdout).toBe('v3.19.0');
  });

  it('records repositories', async () => {
    expect((await sim.tool('helm', ['repo', 'add', 'demo-repo', REPO])).stdout).toBe('"demo-repo" has been added to your repositories\n');
    expect((await sim.tool('helm', ['repo', 'add', 'demo-repo', REPO])).stdout).toBe('"demo-repo" already exists with the same configuration, skipping\n');
    const up = await sim.tool('helm', ['repo', 'update']);
    expect(up.stdout).toContain('...Successfully got an update from the "demo-repo" chart repository');
  });

  it('shows a chart\'s metadata and default values', async () => {
    const [chart, values, crds] = await Promise.all([
      sim.tool('helm', ['show', 'chart', 'demo-repo/demo']),
      sim.tool('helm', ['show', 'values', 'demo', '--repo', REPO]),
      sim.tool('helm', ['show', 'crds', 'demo-repo/demo', '--version', '0.1.0']),
    ]);
    expect(parse(chart.stdout)).toEqual({ apiVersion: 'v2', appVersion: '1.27.0', description: expect.any(String), name: 'demo', type: 'application', version: '0.1.0' });
    expect(parse(values.stdout)).toMatchObject({ replicaCount: 1, image: { repository: 'nginx' }, service: { port: 80 } });
    expect(crds).toMatchObject({ code: 0, stdout: '' }); // the demo chart has no crds/ directory
  });

  it('installs the demo chart with upgrade --install, --set and --wait', async () => {
    const r = await sim.tool('helm', ['upgrade', '--install', 'demo', 'demo-repo/demo', '--namespace', 'demo', '--create-namespace', '--set', 'replicaCount=2', '--wait', '--timeout', '60s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Release "demo" does not exist\. Installing it now\.\nNAME: demo\nLAST DEPLOYED: .+\nNAMESPACE: demo\nSTATUS: deployed\nREVISION: 1\n/);

    const d = await sim.kube.get('/apis/apps/v1/namespaces/demo/deployments/demo');
    expect(d!.spec.replicas).toBe(2);
    expect(d!.status.readyReplicas).toBe(2); // --wait returned only once it was ready
    expect(d!.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'demo-0.1.0', 'app.kubernetes.io/instance': 'demo' });
    expect(d!.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'demo', 'meta.helm.sh/release-namespace': 'demo' });
    expect((d!.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'helm' && m.operation === 'Apply')).toBe(true);
    expect(await sim.kube.get('/api/v1/namespaces/demo/services/demo')).toBeDefined();
    expect(await sim.kube.get('/api/v1/namespaces/demo/serviceaccounts/demo')).toBeDefined();

    const secret = await sim.kube.get('/api/v1/namespaces/demo/secrets/sh.helm.release.v1.demo.v1');
    expect(secret).toMatchObject({ type: 'helm.sh/release.v1', metadata: { labels: { owner: 'helm', name: 'demo', status: 'deployed', version: '1' } } });
    expect(decode(secret!)).toMatchObject({ name: 'demo', version: 1, info: { status: 'deployed' }, chart: { metadata: { name: 'demo', version: '0.1.0' } }, config: { replicaCount: 2 } });
  });

  it('lists releases as helm does, in JSON and as a table', async () => {
    const [json, all, none, table] = await Promise.all([
      sim.tool('helm', ['list', '-n', 'demo', '-o', 'json']),
      sim.tool('helm', ['list', '-A', '-o', 'json', '--filter', '^de']),
      sim.tool('helm', ['list', '-A', '-o', 'json', '--filter', '^zzz']),
      sim.tool('helm', ['list', '-n', 'demo']),
    ]);
    const rows = JSON.parse(json.stdout);
    expect(rows).toEqual([{ name: 'demo', namespace: 'demo', revision: '1', updated: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000 UTC$/), status: 'deployed', chart: 'demo-0.1.0', app_version: '1.27.0' }]);
    expect(JSON.parse(all.stdout)).toHaveLength(1);
    expect(JSON.parse(none.stdout)).toEqual([]);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s*\tNAMESPACE\s*\tREVISION\s*\tUPDATED\s*\tSTATUS\s*\tCHART\s*\tAPP VERSION$/);
    expect(table.stdout).toContain('demo-0.1.0');
  });

  it('shows a release\'s status', async () => {
    const [text, asJson, missing] = await Promise.all([
      sim.tool('helm', ['status', 'demo', '-n', 'demo']),
      sim.tool('helm', ['status', 'demo', '-n', 'demo', '-o', 'json']),
      sim.tool('helm', ['status', 'nope', '-n', 'demo']),
    ]);
    expect(text.stdout).toContain('STATUS: deployed\nREVISION: 1\n');
    expect(JSON.parse(asJson.stdout)).toMatchObject({ name: 'demo', namespace: 'demo', version: 1, info: { status: 'deployed' } });
    expect(missing).toMatchObject({ code: 1, stderr: 'Error: release: not found\n' });
  });

  it('upgrades to a new revision and supersedes the old one', async () => {
    const values = join(sim.dir, 'values.yaml');
    writeFileSync(values, 'replicaCount: 3\nservice:\n  port: 8080\n');
    // -f files first, then --set wins, as in helm.
    const r = await sim.tool('helm', ['upgrade', '--install', 'demo', 'demo', '--repo', REPO, '-n', 'demo', '-f', values, '--set', 'replicaCount=1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Release "demo" has been upgraded\. Happy Helming!\n/);
    expect(r.stdout).toContain('REVISION: 2');
    const secrets = await sim.kube.list('/api/v1/namespaces/demo/secrets', { labelSelector: 'owner=helm,name=demo' });
    expect(secrets.map((s) => [s.metadata.name, s.metadata.labels?.status]).sort()).toEqual([
      ['sh.helm.release.v1.demo.v1', 'superseded'],
      ['sh.helm.release.v1.demo.v2', 'deployed'],
    ]);
    await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/demo/deployments/demo', (d) => d.spec.replicas === 1);
    expect((await sim.kube.get('/api/v1/namespaces/demo/services/demo'))!.spec.ports[0].port).toBe(8080);
  });

  it('fails --wait at the --timeout when pods never get Ready, and marks the release failed', async () => {
    await sim.setFaults({ neverReady: ['^stuck-'] });
    const t0 = Date.now();
    const r = await sim.tool('helm', ['upgrade', '--install', 'stuck', 'demo', '--repo', REPO, '-n', 'demo', '--wait', '--timeout', '1500ms']);
    const took = Date.now() - t0;
    await sim.setFaults({});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: context deadline exceeded\n');
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(5000);
    const [row] = JSON.parse((await sim.tool('helm', ['list', '-n', 'demo', '-o', 'json', '--filter', '^stuck$'])).stdout);
    expect(row).toMatchObject({ name: 'stuck', status: 'failed' });
  });

  it('fails like helm for unknown charts, unknown repositories and missing namespaces', async () => {
    const [chart, repo, version, namespace] = await Promise.all([
      sim.tool('helm', ['upgrade', '--install', 'x', 'nope', '--repo', REPO]),
      sim.tool('helm', ['upgrade', '--install', 'x', 'other/demo']),
      sim.tool('helm', ['upgrade', '--install', 'x', 'demo', '--repo', REPO, '--version', '9.9.9']),
      sim.tool('helm', ['install', 'x', 'demo', '--repo', REPO, '-n', 'ghost']),
    ]);
    expect(chart).toMatchObject({ code: 1, stderr: `Error: chart "nope" not found in ${REPO} repository\n` });
    expect(repo).toMatchObject({ code: 1, stderr: 'Error: repo other not found\n' });
    expect(version).toMatchObject({ code: 1, stderr: `Error: chart "demo" version "9.9.9" not found in ${REPO} repository\n` });
    expect(namespace).toMatchObject({ code: 1, stderr: 'Error: INSTALLATION FAILED: create: failed to create: namespaces "ghost" not found\n' });
  });

  it('refuses to adopt an object it did not create', async () => {
    await sim.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taken' } });
    await sim.kube.create('/api/v1/namespaces/taken/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'demo' } });
    const r = await sim.tool('helm', ['install', 'demo', 'demo', '--repo', REPO, '-n', 'taken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: INSTALLATION FAILED: rendered manifests contain a resource that already exists. Unable to continue with install: ServiceAccount "demo" in namespace "taken" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"');
  });

  it('uninstalls a release: its objects and its history go', async () => {
    const r = await sim.tool('helm', ['uninstall', 'demo', '-n', 'demo']);
    expect(r).toMatchObject({ code: 0, stdout: 'release "demo" uninstalled\n' });
    expect(await sim.kube.get('/apis/apps/v1/namespaces/demo/deployments/demo')).toBeUndefined();
    expect(await sim.kube.get('/api/v1/namespaces/demo/services/demo')).toBeUndefined();
    await sim.kube.waitFor<KubeObject[]>('/api/v1/namespaces/demo/pods', (ps) => !ps.some((p) => p.metadata.labels?.['app.kubernetes.io/instance'] === 'demo'));
    expect(await sim.kube.list('/api/v1/namespaces/demo/secrets', { labelSelector: 'owner=helm,name=demo' })).toEqual([]);
    expect(await sim.tool('helm', ['uninstall', 'demo', '-n', 'demo'])).toMatchObject({ code: 1, stderr: 'Error: uninstall: Release not loaded: demo: release: not found\n' });
  });

  it('cannot reach a cluster without a kubeconfig context', async () => {
    const r = await sim.tool('helm', ['list'], { env: { KUBECONFIG: `${sim.dir}/none` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: Kubernetes cluster unreachable: /);
  });

  it('fails with the tools knob message when it matches', async () => {
    await sim.patchFaults({ tools: [{ tool: 'helm', match: 'upgrade .*demo', message: 'Error: UPGRADE FAILED: simulated' }] });
    const r = await sim.tool('helm', ['upgrade', '--install', 'again', 'demo', '--repo', REPO]);
    const other = await sim.tool('helm', ['version', '--short']);
    await sim.patchFaults({ tools: null });
    expect(r).toMatchObject({ code: 1, stderr: 'Error: UPGRADE FAILED: simulated\n' });
    expect(other.code).toBe(0);
  });
});
