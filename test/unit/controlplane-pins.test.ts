// The apiserver tier's control plane (test/real/controlplane/go.mod) is the Kubernetes of the
// kind node image the sandbox creates, and its staging modules are the ones published with
// that release: checked here, in the fast tier, because the apiserver tier only notices a
// drift after a build of many minutes.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { MODULE_DIR, pinnedKubernetesVersion } from '../real/apiserver/binaries.ts';

describe('the control plane pins', () => {
  it('build the Kubernetes version of the kind node image', async () => {
    const nodeVersion = /^kindest\/node:(v\d+\.\d+\.\d+)@/.exec(defaults.cluster.nodeImage)?.[1];
    expect(nodeVersion).toBeDefined();
    expect(await pinnedKubernetesVersion()).toBe(nodeVersion);
  });

  it('map every k8s.io staging module to the v0.X.Y published with that release', async () => {
    const gomod = await readFile(`${MODULE_DIR}/go.mod`, 'utf8');
    const [, minor, patch] = (await pinnedKubernetesVersion()).slice(1).split('.');
    const replaces = [...gomod.matchAll(/^\s*(k8s\.io\/[\w-]+) => (k8s\.io\/[\w-]+) (v\S+)$/gm)];
    expect(replaces.length).toBeGreaterThan(20);
    for (const [, from, to, version] of replaces) {
      expect(to, from).toBe(from);
      expect(version, from).toBe(`v0.${minor}.${patch}`);
    }
    // The modules the API server cannot be built without are among them.
    const mapped = replaces.map((m) => m[1]);
    for (const m of ['k8s.io/api', 'k8s.io/apimachinery', 'k8s.io/apiserver', 'k8s.io/apiextensions-apiserver', 'k8s.io/kube-aggregator']) expect(mapped).toContain(m);
  });
});
