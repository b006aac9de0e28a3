// The read-only probes of `up`'s checks, asked once per run: a Helm release's state from Helm's own
// Secrets (no `helm list` process), whether the kind cluster exists from its API (kind asked only
// when it does not answer), and the preflight's Docker memory from the nodes of a cluster that
// answers (no `docker info`). Each decides as the tool it replaces would.
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import type { Toolbox } from '../../scripts/lib/exec/tools.ts';
import type { Kube, KubeObject } from '../../scripts/lib/kube/kube.ts';
import { newRunState, type Step, type StepContext } from '../../scripts/pipeline/step.ts';
import { certManagerRelease } from '../../scripts/steps/cert-manager.ts';
import { kindClusterExists } from '../../scripts/steps/cluster.ts';
import { flinkOperatorRelease } from '../../scripts/steps/flink-operator.ts';
import { decodeReleaseData, helmReleaseInPlace, prefetchRelease } from '../../scripts/steps/helm-releases.ts';
import { machineOfNode, preflightStep, quantityBytes } from '../../scripts/steps/preflight.ts';

const cfg = structuredClone(defaults);
const cert = certManagerRelease(cfg);
const flink = flinkOperatorRelease(cfg);

interface Fakes {
  /** Objects the API lists (a list filters them by namespace and the label selector's pairs); an Error fails every request. */
  objects?: KubeObject[] | Error;
  /** Answers of `helm list`, `kind get clusters` and `docker info`, in turn. */
  tool?: (name: string, args: string[]) => string;
}

/** A run whose API and tools answer from `fakes`, logging every request and tool call. */
function run(fakes: Fakes): { ctx: StepContext; requests: string[]; tools: string[][] } {
  const requests: string[] = [];
  const toolCalls: string[][] = [];
  const kube = {
    async list(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string } = {}) {
      requests.push(`list ${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}${opts.labelSelector ? ` ${opts.labelSelector}` : ''}`);
      await new Promise((r) => setTimeout(r, 2));
      if (fakes.objects instanceof Error) throw fakes.objects;
      const pairs = (opts.labelSelector ?? '').split(',').filter(Boolean).map((p) => p.split('='));
      return (fakes.objects ?? []).filter(
        (o) => o.kind === kind && o.apiVersion === apiVersion && (!opts.namespace || o.metadata.namespace === opts.namespace) && pairs.every(([k, v]) => o.metadata.labels?.[k!] === v),
      );
    },
  } as unknown as Kube;
  const answer = async (name: string, args: string[]) => {
    toolCalls.push([name, ...args]);
    await new Promise((r) => setTimeout(r, 2));
    const stdout = fakes.tool?.(name, args) ?? '';
    return { ok: true, code: 0, stdout, stderr: '' };
  };
  const tools = {
    run: answer,
    probe: answer,
    async dockerInfo() {
      toolCalls.push(['docker', 'info']);
      return { serverVersion: '28.5.1', cpus: 8, memBytes: 16 * 2 ** 30, os: 'Docker Desktop' };
    },
  } as unknown as Toolbox;
  const ctx: StepContext = {
    config: cfg,
    runId: 'test',
    signal: new AbortController().signal,
    output: () => undefined,
    state: newRunState(),
    services: { kube: async () => (fakes.objects instanceof Error ? Promise.reject(fakes.objects) : kube), tools: async () => tools },
  };
  return { ctx, requests, tools: toolCalls };
}

/** One revision of a release as Helm's secret driver stores it (helm/helm pkg/storage/driver/secrets.go). */
function helmSecret(name: string, namespace: string, revision: number, status: string, chart: string, version: string, gzip = true): KubeObject {
  const json = Buffer.from(JSON.stringify({ name, namespace, version: revision, info: { status }, chart: { metadata: { name: chart, version } } }));
  const helmData = (gzip ? gzipSync(json) : json).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: { name: `sh.helm.release.v1.${name}.v${revision}`, namespace, labels: { owner: 'helm', name, status, version: String(revision) } },
    // The API returns data base64-encoded once more.
    data: { release: Buffer.from(helmData).toString('base64') },
  };
}

const deployedCert = helmSecret(cert.release, cert.namespace, 1, 'deployed', 'cert-manager', cert.version);
const deployedFlink = helmSecret(flink.release, flink.namespace, 1, 'deployed', 'flink-kubernetes-operator', flink.version);

describe('helmReleaseInPlace, from Helm\'s Secrets', () => {
  afterEach(() => {
    delete process.env.HELM_DRIVER;
  });

  it('reads each release with one labelled list in its namespace, and starts no helm', async () => {
    const { ctx, requests, tools } = run({ objects: [deployedCert, deployedFlink] });
    expect(await helmReleaseInPlace(ctx, cert, 'cert-manager')).toBe(true);
    expect(await helmReleaseInPlace(ctx, flink, 'flink-kubernetes-operator')).toBe(true);
    expect(await helmReleaseInPlace(ctx, cert, 'cert-manager')).toBe(true);
    expect(requests).toEqual([`list Secret in cert-manager owner=helm,name=cert-manager`, `list Secret in flink-operator owner=helm,name=${flink.release}`]);
    expect(tools).toEqual([]);
  });

  it('decides on the latest revision, as helm list does: deployed, at the pinned chart and version', async () => {
    const cases: Array<[string, KubeObject[], boolean]> = [
      ['an upgrade left pending over a deployed revision', [deployedCert, helmSecret(cert.release, cert.namespace, 2, 'pending-upgrade', 'cert-manager', cert.version)], false],
      ['a failed latest revision', [deployedCert, helmSecret(cert.release, cert.namespace, 2, 'failed', 'cert-manager', cert.version)], false],
      ['a first install left pending', [helmSecret(cert.release, cert.namespace, 1, 'pending-install', 'cert-manager', cert.version)], false],
      ['another chart version', [helmSecret(cert.release, cert.namespace, 1, 'deployed', 'cert-manager', 'v0.0.1')], false],
      ['the release in another namespace', [helmSecret(cert.release, 'elsewhere', 1, 'deployed', 'cert-manager', cert.version)], false],
      ['no record at all', [], false],
      ['a superseded revision under a deployed upgrade (revision 10 after 9)', [helmSecret(cert.release, cert.namespace, 9, 'superseded', 'cert-manager', 'v0.0.1'), helmSecret(cert.release, cert.namespace, 10, 'deployed', 'cert-manager', cert.version)], true],
      ['a record stored before Helm compressed them', [helmSecret(cert.release, cert.namespace, 1, 'deployed', 'cert-manager', cert.version, false)], true],
    ];
    for (const [what, objects, expected] of cases) {
      const { ctx } = run({ objects });
      expect(await helmReleaseInPlace(ctx, cert, 'cert-manager'), what).toBe(expected);
    }
  });

  it('decodes the release as Helm wrote it', () => {
    const data = (deployedCert.data as Record<string, string>).release!;
    expect(decodeReleaseData(data)).toMatchObject({ info: { status: 'deployed' }, chart: { metadata: { name: 'cert-manager', version: cert.version } } });
  });

  it('reuses a prefetched answer, asks again after a failure, and asks afresh in a new run', async () => {
    const ok = run({ objects: [deployedCert] });
    prefetchRelease(ok.ctx, cert);
    expect(await helmReleaseInPlace(ok.ctx, cert, 'cert-manager')).toBe(true);
    expect(ok.requests).toHaveLength(1);

    const fakes: Fakes = { objects: new Error('connection refused') };
    const failed = run(fakes);
    prefetchRelease(failed.ctx, cert);
    await new Promise((r) => setTimeout(r, 10));
    fakes.objects = [deployedCert];
    expect(await helmReleaseInPlace(failed.ctx, cert, 'cert-manager')).toBe(true);

    expect(await helmReleaseInPlace(run({ objects: [] }).ctx, cert, 'cert-manager')).toBe(false);
  });

  it('with HELM_DRIVER naming another storage, asks helm list instead', async () => {
    process.env.HELM_DRIVER = 'configmap';
    const entry = { name: cert.release, namespace: cert.namespace, status: 'deployed', chart: `cert-manager-${cert.version}`, revision: '1' };
    const { ctx, requests, tools } = run({ objects: [], tool: () => JSON.stringify([entry]) });
    expect(await helmReleaseInPlace(ctx, cert, 'cert-manager')).toBe(true);
    expect(requests).toEqual([]);
    expect(tools).toHaveLength(1);
    expect(tools[0]).toEqual(expect.arrayContaining(['helm', 'list', '--namespace', cert.namespace, '--filter', `^${cert.release}$`, '--output', 'json']));
  });
});

const node = (name: string, memory = '16318480Ki', cpu = '8'): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { capacity: { cpu, memory } } });

describe('kindClusterExists', () => {
  it('a cluster whose API answers with its control-plane node exists: kind is not asked', async () => {
    const { ctx, tools } = run({ objects: [node('flink-sandbox-control-plane'), node('flink-sandbox-worker')] });
    expect(await kindClusterExists(ctx)).toBe(true);
    expect(tools).toEqual([]);
  });

  it('when the API does not answer, or answers for another cluster, kind settles it', async () => {
    const down = run({ objects: new Error('connect ECONNREFUSED'), tool: () => 'flink-sandbox\n' });
    expect(await kindClusterExists(down.ctx)).toBe(true);
    expect(down.tools).toEqual([['kind', 'get', 'clusters']]);

    const other = run({ objects: [node('kind-control-plane')], tool: () => 'kind\n' });
    expect(await kindClusterExists(other.ctx)).toBe(false);
    expect(other.tools).toEqual([['kind', 'get', 'clusters']]);
  });
});

describe('the preflight', () => {
  it('reads Kubernetes memory quantities', () => {
    expect(quantityBytes('16318480Ki')).toBe(16318480 * 1024);
    expect(quantityBytes('8Gi')).toBe(8 * 2 ** 30);
    expect(quantityBytes('8G')).toBe(8e9);
    expect(quantityBytes('1024')).toBe(1024);
    expect(quantityBytes('lots')).toBeNaN();
    expect(machineOfNode(node('x', 'lots'), 'x')).toBeUndefined();
    expect(machineOfNode(undefined, 'x')).toBeUndefined();
  });

  const steps = (): readonly Step[] => [{ id: 'big', title: 'big', memoryMiB: 4096, plan: () => [], apply: async () => undefined }];

  it('with the kind cluster answering, takes Docker\'s CPUs and memory from its nodes: no docker info', async () => {
    const lines: string[] = [];
    const { ctx, tools } = run({ objects: [node('flink-sandbox-control-plane')] });
    await preflightStep(steps).apply({ ...ctx, output: (l) => lines.push(l) });
    expect(tools).toEqual([]);
    expect(lines.join('\n')).toMatch(/kind cluster flink-sandbox is up: its nodes see Docker's 8 CPUs, 15\.6 GiB; profile full needs 5\.5 GiB/);
  });

  it('refuses too little memory seen on the nodes, with the numbers', async () => {
    const { ctx, tools } = run({ objects: [node('flink-sandbox-control-plane', '4Gi')] });
    await expect(preflightStep(steps).apply(ctx)).rejects.toThrow(/Docker has 4\.0 GiB of memory, but profile "full" requests 5\.5 GiB/);
    expect(tools).toEqual([]);
  });

  it('asks docker info when no cluster answers yet', async () => {
    const lines: string[] = [];
    const { ctx, tools } = run({ objects: new Error('no kubeconfig found') });
    await preflightStep(steps).apply({ ...ctx, output: (l) => lines.push(l) });
    expect(tools).toEqual([['docker', 'info']]);
    expect(lines.join('\n')).toMatch(/Docker 28\.5\.1: 8 CPUs, 16\.0 GiB/);
  });
});
