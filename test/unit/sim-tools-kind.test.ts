// The fake `kind` executable against the simulated cluster: what it prints, what it leaves
// in the cluster and in the kubeconfig, and how it fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../sim/api-client.ts';
import { startSim, type Sim } from '../sim/harness.ts';
import { REPO_ROOT } from '../helpers/cli.ts';

let sim: Sim;

function kubeconfig(path: string): { 'current-context': string; contexts: { name: string }[]; clusters: { name: string; cluster: { server: string } }[] } {
  return parse(readFileSync(path, 'utf8'));
}

beforeAll(async () => {
  sim = await startSim();
});

afterAll(async () => {
  await sim?.close();
});

describe('fake kind', () => {
  it('prints its version', async () => {
    const r = await sim.tool('kind', ['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind v0\.32\.0 go\S+ linux\/(amd64|arm64)\n$/);
  });

  it('creates a cluster from a config: nodes, add-ons, kubeconfig context', async () => {
    const r = await sim.tool('kind', ['create', 'cluster', '--name', 'sbx', '--config', join(REPO_ROOT, 'kind-config.yaml'), '--wait', '60s']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Creating cluster "sbx" ...');
    expect(r.stderr).toContain(' ✓ Joining worker nodes');
    expect(r.stderr).toContain('Set kubectl context to "kind-sbx"');

    const nodes = await sim.kube.list('/api/v1/nodes');
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['sbx-control-plane', 'sbx-worker']);
    const cp = nodes.find((n) => n.metadata.name === 'sbx-control-plane')!;
    const worker = nodes.find((n) => n.metadata.name === 'sbx-worker')!;
    expect(cp.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'sbx-control-plane', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/os': 'linux' });
    expect(cp.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect(worker.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'sbx-worker', 'ingress-ready': 'true' });
    expect(worker.spec.taints).toBeUndefined();
    for (const n of nodes) {
      expect(n.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
      expect(n.status.nodeInfo.kubeletVersion).toBe('v1.36.1');
      expect(n.status.images.length).toBeGreaterThan(3);
    }

    const namespaces = (await sim.kube.list('/api/v1/namespaces')).map((n) => n.metadata.name);
    expect(namespaces).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']));
    const sc = await sim.kube.get('/apis/storage.k8s.io/v1/storageclasses/standard');
    expect(sc).toMatchObject({ provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' });
    expect(sc!.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    const dns = await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/kube-system/deployments/coredns', (d) => d.status?.availableReplicas === 2);
    expect(dns.metadata.labels).toEqual({ 'k8s-app': 'kube-dns' });
    await sim.kube.waitFor<KubeObject>('/apis/apps/v1/namespaces/local-path-storage/deployments/local-path-provisioner', (d) => d.status?.availableReplicas === 1);

    const kc = kubeconfig(sim.env.KUBECONFIG!);
    expect(kc['current-context']).toBe('kind-sbx');
    expect(kc.clusters).toEqual([{ name: 'kind-sbx', cluster: { server: sim.url } }]);
    expect((await sim.calls('kind')).map((c) => c.argv.slice(0, 2))).toContainEqual(['create', 'cluster']);
  });

  it('lists clusters and prints a cluster kubeconfig', async () => {
    const list = await sim.tool('kind', ['get', 'clusters']);
    expect(list).toMatchObject({ code: 0, stdout: 'sbx\n' });
    const kc = await sim.tool('kind', ['get', 'kubeconfig', '--name', 'sbx']);
    expect(kc.code).toBe(0);
    expect(parse(kc.stdout)).toMatchObject({ 'current-context': 'kind-sbx', clusters: [{ name: 'kind-sbx', cluster: { server: sim.url } }] });
    const missing = await sim.tool('kind', ['get', 'kubeconfig', '--name', 'other']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("ERROR: could not locate any control plane nodes for cluster named 'other'. Use the --name option to select a different cluster\n");
  });

  it('refuses to create a cluster that exists, like kind', async () => {
    const r = await sim.tool('kind', ['create', 'cluster', '--name', 'sbx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "sbx"');
  });

  it('loads a docker image onto every node, and refuses images docker does not have', async () => {
    const missing = await sim.tool('kind', ['load', 'docker-image', 'job:abc', '--name', 'sbx']);
    expect(missing).toMatchObject({ code: 1, stderr: 'ERROR: image: "job:abc" not present locally\n' });
    await sim.patchFaults({ dockerImages: { 'docker.io/library/job:abc': { id: `sha256:${'1f'.repeat(32)}`, created: new Date().toISOString(), sizeBytes: 4242 } } });
    const first = await sim.tool('kind', ['load', 'docker-image', 'job:abc', '--name', 'sbx']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`Image: "job:abc" with ID "sha256:${'1f'.repeat(32)}" not yet present on node "sbx-worker", loading...`);
    for (const n of await sim.kube.list('/api/v1/nodes')) {
      expect(n.status.images).toContainEqual({ names: ['docker.io/library/job:abc'], sizeBytes: 4242 });
    }
    const again = await sim.tool('kind', ['load', 'docker-image', 'job:abc', '--name', 'sbx']);
    expect(again.stderr).toContain('found to be already present on all nodes.');
  });

  it('deletes a cluster: objects wiped, context removed; deleting again is not an error', async () => {
    const r = await sim.tool('kind', ['delete', 'cluster', '--name', 'sbx']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Deleting cluster "sbx" ...');
    expect(await sim.kube.list('/api/v1/nodes')).toEqual([]);
    const kc = kubeconfig(sim.env.KUBECONFIG!);
    expect(kc['current-context']).toBe('');
    expect(kc.contexts).toEqual([]);
    const list = await sim.tool('kind', ['get', 'clusters']);
    expect(list).toMatchObject({ code: 0, stdout: '', stderr: 'No kind clusters found.\n' });
    expect((await sim.tool('kind', ['delete', 'cluster', '--name', 'sbx'])).code).toBe(0);
  });

  it('writes the context to --kubeconfig when given', async () => {
    const path = join(sim.dir, 'custom.kubeconfig');
    const r = await sim.tool('kind', ['create', 'cluster', '--name', 'solo', '--kubeconfig', path]);
    expect(r.code).toBe(0);
    expect(kubeconfig(path)['current-context']).toBe('kind-solo');
    // A single-node cluster has no control-plane taint, as kind removes it.
    const [node] = await sim.kube.list('/api/v1/nodes');
    expect(node!.spec.taints).toBeUndefined();
    await sim.tool('kind', ['delete', 'cluster', '--name', 'solo', '--kubeconfig', path]);
  });

  it('fails like kind when the docker daemon is down', async () => {
    await sim.patchFaults({ docker: { down: true } });
    const r = await sim.tool('kind', ['create', 'cluster', '--name', 'nodocker']);
    await sim.patchFaults({ docker: null });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: failed to create cluster: command "docker ps -a');
    expect(r.stderr).toContain('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  });

  it('fails with the message of the tools knob, as many times as asked', async () => {
    await sim.patchFaults({ tools: [{ tool: 'kind', match: '^create cluster', message: 'ERROR: failed to create cluster: boom', exitCode: 3, times: 1 }] });
    const failed = await sim.tool('kind', ['create', 'cluster', '--name', 'flaky']);
    expect(failed).toMatchObject({ code: 3, stdout: '', stderr: 'ERROR: failed to create cluster: boom\n' });
    expect((await sim.faults()).tools).toEqual([]);
    const ok = await sim.tool('kind', ['create', 'cluster', '--name', 'flaky']);
    expect(ok.code).toBe(0);
    const calls = (await sim.calls('kind')).filter((c) => c.argv.includes('flaky'));
    expect(calls).toHaveLength(2);
    await sim.tool('kind', ['delete', 'cluster', '--name', 'flaky']);
  });
});
