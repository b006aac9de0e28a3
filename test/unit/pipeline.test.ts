// The shape of THE pipeline of `sandbox up` for every profile and extra, the dry-run plan,
// the kind cluster's config and create arguments, and the preflight's memory sum.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planText } from '../../scripts/commands/up.ts';
import { defaults, loadConfig, type ConfigFlags, type SandboxConfig } from '../../scripts/lib/config.ts';
import { checkPipeline, planWaves, selectSteps } from '../../scripts/pipeline/shape.ts';
import { kindCreateArgs, renderKindConfig } from '../../scripts/steps/cluster.ts';
import { pipeline } from '../../scripts/steps/index.ts';
import { CLUSTER_OVERHEAD_MIB, requiredMemoryMiB } from '../../scripts/steps/preflight.ts';
import type { Step } from '../../scripts/pipeline/step.ts';

const MINIMAL = ['preflight', 'cluster', 'minio', 'cert-manager', 'flink-operator', 'job-image'];
const FULL = [...MINIMAL, 'eck-operator', 'elasticsearch', 'logging-operator', 'logging-pipeline'];
const UI = ['ingress-nginx', 'heimdall'];

const ids = (steps: readonly Step[]): string[] => steps.map((s) => s.id);

/** Everything a step waits for, directly or through other steps. */
function allNeeds(steps: readonly Step[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const seen = new Set<string>();
  const visit = (cur: string): void => {
    for (const need of byId.get(cur)?.needs ?? []) {
      if (!seen.has(need)) {
        seen.add(need);
        visit(need);
      }
    }
  };
  visit(id);
  return seen;
}

const combinations: Array<{ name: string; flags: ConfigFlags }> = [];
for (const profile of ['full', 'minimal']) {
  for (const extras of [[], ['ui']]) {
    for (const where of [{ cluster: 'kind' }, { cluster: 'k3s' }, { context: 'minikube', jobImage: 'registry.example/hello:1' }] as ConfigFlags[]) {
      combinations.push({ name: `${profile} ${extras.join(',') || '-'} ${where.cluster ?? 'existing'}`, flags: { profile, with: extras, ...where } });
    }
  }
}

describe('pipeline', () => {
  it('full profile: the cluster, the Flink platform, ECK and the logging pipeline, no UI extras', async () => {
    expect(ids(pipeline(await loadConfig({ profile: 'full' })))).toEqual(FULL);
  });

  it('minimal profile: only the first six steps', async () => {
    expect(ids(pipeline(await loadConfig({ profile: 'minimal' })))).toEqual(MINIMAL);
  });

  it('--with ui adds ingress-nginx and heimdall to either profile', async () => {
    expect(ids(pipeline(await loadConfig({ profile: 'full', with: ['ui'] })))).toEqual([...FULL, ...UI]);
    expect(ids(pipeline(await loadConfig({ profile: 'minimal', with: ['ui'] })))).toEqual([...MINIMAL, ...UI]);
  });

  it.each(combinations)('passes checkPipeline and plans every step: $name', async ({ flags }) => {
    const cfg = await loadConfig(flags);
    const steps = pipeline(cfg);
    expect(() => checkPipeline(steps)).not.toThrow();
    // Every step is in exactly one wave, preflight alone first.
    const waves = planWaves(steps);
    expect(waves.flat().map((s) => s.id).sort()).toEqual(ids(steps).sort());
    expect(ids(waves[0]!)).toEqual(['preflight']);
    for (const step of steps) expect(step.plan(cfg).length).toBeGreaterThan(0);
  });

  it('every step but the preflight needs the cluster, directly or not', async () => {
    const steps = pipeline(await loadConfig({ with: ['ui'] }));
    for (const step of steps.filter((s) => s.id !== 'preflight' && s.id !== 'cluster')) {
      expect(allNeeds(steps, step.id), step.id).toContain('cluster');
    }
    expect(allNeeds(steps, 'cluster')).toEqual(new Set(['preflight']));
  });

  it('runs ECK and the Flink operator independently of each other', async () => {
    const steps = pipeline(await loadConfig({ profile: 'full', with: ['ui'] }));
    expect(allNeeds(steps, 'eck-operator')).not.toContain('flink-operator');
    expect(allNeeds(steps, 'elasticsearch')).not.toContain('flink-operator');
    expect(allNeeds(steps, 'flink-operator')).not.toContain('eck-operator');
    expect(allNeeds(steps, 'flink-operator')).toContain('cert-manager');
    expect(allNeeds(steps, 'logging-pipeline')).toEqual(new Set(['logging-operator', 'elasticsearch', 'eck-operator', 'cluster', 'preflight']));
    // Right after the cluster, all of these start together.
    const waves = planWaves(steps).map(ids);
    expect(waves[2]!.sort()).toEqual(['cert-manager', 'eck-operator', 'ingress-nginx', 'job-image', 'logging-operator', 'minio']);
  });

  it('stays valid after --only or --skip removes steps others need', async () => {
    const steps = pipeline(await loadConfig());
    const only = selectSteps(steps, ['flink-operator', 'elasticsearch'], undefined);
    expect(only.map((s) => [s.id, s.needs])).toEqual([
      ['flink-operator', []],
      ['elasticsearch', []],
    ]);
    expect(() => checkPipeline(only)).not.toThrow();
    const skipped = selectSteps(steps, undefined, ['preflight', 'cert-manager']);
    expect(() => checkPipeline(skipped)).not.toThrow();
    expect(skipped.find((s) => s.id === 'flink-operator')!.needs).toEqual([]);
  });
});

describe('planText (up --dry-run)', () => {
  it('names every step, what runs in parallel, and the commands, without changing anything', async () => {
    const cfg = await loadConfig({ with: ['ui'] });
    const steps = pipeline(cfg);
    const text = planText(cfg, steps);
    for (const id of ids(steps)) expect(text).toContain(`[${id}]`);
    expect(text).toContain('profile full with ui, kind cluster "flink-sandbox"');
    expect(text).toMatch(/^1\. preflight$/m);
    expect(text).toMatch(/^3\. in parallel: .*eck-operator/m);
    expect(text).toContain("$ docker info --format '{{json .}}'");
    expect(text).toContain('$ kind create cluster --name flink-sandbox --config ');
    expect(text).toContain(`--image ${defaults.cluster.nodeImage} --wait 0s`);
    expect(text).toContain('$ helm upgrade --install cert-manager cert-manager --kube-context kind-flink-sandbox --namespace cert-manager');
    expect(text).toContain('$ helm upgrade --install flink-kubernetes-operator');
    expect(text).toContain('[elasticsearch] Elasticsearch and Kibana  (after eck-operator)');
    expect(text.trimEnd().endsWith('Nothing was changed (dry run).')).toBe(true);
  });

  it('prints shell commands that a shell reads back as the same arguments', async () => {
    const cfg = await loadConfig({ with: ['ui'] });
    const steps = pipeline(cfg);
    // The plan lists steps wave by wave.
    const commands = planWaves(steps)
      .flat()
      .flatMap((s) => s.plan(cfg)).flatMap((a) => (a.kind === 'command' ? [a.argv] : []));
    expect(commands.length).toBeGreaterThan(5);
    const printed = planText(cfg, steps)
      .split('\n')
      .filter((l) => l.trimStart().startsWith('$ '))
      .map((l) => l.trimStart().slice(2));
    expect(printed).toHaveLength(commands.length);
    // failglob: an unquoted glob such as `watchNamespaces[0]=x` is an error, as in zsh.
    const script = printed.map((line) => `printf '%s\\0' ${line}; printf '\\n'`).join('\n');
    const out = execFileSync('bash', ['-O', 'failglob', '-c', script], { encoding: 'utf8', cwd: '/' });
    const parsed = out.split('\n').slice(0, -1).map((l) => l.split('\0').slice(0, -1));
    expect(parsed).toEqual(commands);
  });

  it('with --context, checks the existing cluster instead of creating one', async () => {
    const cfg = await loadConfig({ context: 'minikube', jobImage: 'registry.example/hello:1', profile: 'minimal' });
    const text = planText(cfg, pipeline(cfg));
    expect(text).toContain('profile minimal, existing context minikube');
    expect(text).toContain('use existing context minikube');
    expect(text).not.toContain('kind create cluster');
    expect(text).not.toContain('docker info');
  });
});

describe('kind cluster', () => {
  const withPorts = (http: number, https: number): Promise<SandboxConfig> =>
    loadConfig({}).then((cfg) => ({ ...cfg, cluster: { ...cfg.cluster, ingressHttpPort: http, ingressHttpsPort: https } }));

  it('renders kind-config.yaml with the configured host ports on the worker', async () => {
    const doc = parse(await renderKindConfig(await withPorts(8080, 8443))) as {
      kind: string;
      apiVersion: string;
      nodes: Array<{ role: string; extraPortMappings?: Array<Record<string, unknown>> }>;
    };
    expect(doc.kind).toBe('Cluster');
    expect(doc.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(doc.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
    const worker = doc.nodes.find((n) => n.role === 'worker')!;
    expect(worker.extraPortMappings).toEqual([
      { containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' },
      { containerPort: 443, hostPort: 8443, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(doc.nodes.find((n) => n.role === 'control-plane')!.extraPortMappings).toBeUndefined();
  });

  it('keeps the default ports 80 and 443 when none are configured', async () => {
    const doc = parse(await renderKindConfig(await loadConfig())) as { nodes: Array<{ extraPortMappings?: Array<{ hostPort: number }> }> };
    expect(doc.nodes.flatMap((n) => n.extraPortMappings ?? []).map((m) => m.hostPort)).toEqual([80, 443]);
  });

  it('creates the cluster with its name, the rendered config and the pinned node image', async () => {
    const cfg = await loadConfig();
    const custom: SandboxConfig = { ...cfg, cluster: { ...cfg.cluster, name: 'other', nodeImage: 'kindest/node:v1.35.0@sha256:abc' } };
    expect(kindCreateArgs(custom, 'state/kind-config.yaml')).toEqual([
      'create',
      'cluster',
      '--name',
      'other',
      '--config',
      'state/kind-config.yaml',
      '--image',
      'kindest/node:v1.35.0@sha256:abc',
      // The readiness gate waits, with a message naming what is missing.
      '--wait',
      '0s',
    ]);
  });
});

describe('preflight memory', () => {
  it('asks more for the full profile than for minimal, more with the UI, and adds the cluster overhead for kind only', async () => {
    const need = async (flags: ConfigFlags): Promise<number> => {
      const cfg = await loadConfig(flags);
      return requiredMemoryMiB(pipeline(cfg), cfg);
    };
    const full = await need({ profile: 'full' });
    const minimal = await need({ profile: 'minimal' });
    expect(full).toBeGreaterThan(minimal);
    // Elasticsearch alone asks for 2 GiB.
    expect(full - minimal).toBeGreaterThanOrEqual(2048);
    expect(await need({ profile: 'full', with: ['ui'] })).toBeGreaterThan(full);
    expect(minimal).toBeGreaterThan(CLUSTER_OVERHEAD_MIB);
    expect(await need({ profile: 'minimal', context: 'minikube', jobImage: 'registry.example/hello:1' })).toBe(minimal - CLUSTER_OVERHEAD_MIB);
  });
});
