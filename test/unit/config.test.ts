// The typed config: defaults, a user file deep-merged over them, flags over both, and
// every bad input refused as a usage error (exit code 64) with a one-line hint.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults, kubeContext, loadConfig, mergeConfig, type ConfigFlags, type SandboxConfig } from '../../scripts/lib/config.ts';
import { checkConfig } from '../../scripts/lib/config-schema.ts';
import { SandboxError, UsageError } from '../../scripts/lib/errors.ts';

let dir: string;
let fileNo = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config file with this text and returns its path. */
async function configFile(text: string, ext = 'yaml'): Promise<string> {
  const path = join(dir, `config-${++fileNo}.${ext}`);
  await writeFile(path, text);
  return path;
}

/** The SandboxError that loading rejects with (fails the test if it resolves). */
async function refusal(flags: ConfigFlags): Promise<SandboxError> {
  const outcome = await loadConfig(flags).then(
    (cfg) => ({ ok: true as const, cfg }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  if (outcome.ok) throw new Error(`expected loadConfig to refuse ${JSON.stringify(flags)}`);
  expect(outcome.err).toBeInstanceOf(SandboxError);
  return outcome.err as SandboxError;
}

async function refusalOfFile(text: string): Promise<SandboxError> {
  return refusal({ config: await configFile(text) });
}

describe('loadConfig: defaults', () => {
  it('loads the defaults when given no file and no flags, without sharing their objects', async () => {
    const cfg = await loadConfig();
    expect(cfg).toEqual(defaults);
    expect(cfg.profile).toBe('full');
    expect(cfg.cluster.provider).toBe('kind');
    cfg.with.push('ui');
    cfg.cluster.name = 'changed';
    // A caller editing its copy must not change the next load.
    expect(defaults.with).toEqual([]);
    expect((await loadConfig()).cluster.name).toBe('flink-sandbox');
  });

  it('treats an empty file as no overrides', async () => {
    expect(await loadConfig({ config: await configFile('') })).toEqual(defaults);
    expect(await loadConfig({ config: await configFile('# only a comment\n') })).toEqual(defaults);
  });
});

describe('loadConfig: the config file', () => {
  it('overrides nested keys and keeps their siblings', async () => {
    const path = await configFile(
      [
        'profile: minimal',
        'cluster:',
        '  name: my-sandbox',
        '  ingressHttpPort: 8080',
        '  ingressHttpsPort: 8443',
        'components:',
        '  flink:',
        '    version: 1.20.3',
        'tools:',
        '  helm:',
        '    sha256:',
        `      linux-amd64: ${'abc123'.padEnd(64, '0')}`,
        'timeouts:',
        '  elasticsearchSeconds: 900',
      ].join('\n'),
    );
    const cfg = await loadConfig({ config: path });
    expect(cfg.profile).toBe('minimal');
    expect(cfg.cluster).toEqual({ ...defaults.cluster, name: 'my-sandbox', ingressHttpPort: 8080, ingressHttpsPort: 8443 });
    expect(cfg.components.flink.version).toBe('1.20.3');
    expect(cfg.components.eck).toEqual(defaults.components.eck);
    // The pinned checksums are an open map: one entry is replaced, the others stay.
    expect(cfg.tools.helm.sha256).toEqual({ ...defaults.tools.helm.sha256, 'linux-amd64': 'abc123'.padEnd(64, '0') });
    expect(cfg.tools.helm.version).toBe(defaults.tools.helm.version);
    expect(cfg.timeouts).toEqual({ ...defaults.timeouts, elasticsearchSeconds: 900 });
    expect(kubeContext(cfg)).toBe('kind-my-sandbox');
  });

  it('reads JSON too, and the optional keys the defaults leave out', async () => {
    const path = await configFile(JSON.stringify({ jobImage: 'registry.example/hello:1', cluster: { context: 'minikube' }, with: ['ui'] }), 'json');
    const cfg = await loadConfig({ config: path });
    expect(cfg.jobImage).toBe('registry.example/hello:1');
    expect(cfg.cluster.context).toBe('minikube');
    expect(cfg.with).toEqual(['ui']);
  });

  it('refuses unknown keys at any depth, with the known keys as the hint', async () => {
    const top = await refusalOfFile('profiles: minimal\n');
    expect(top.message).toBe('unknown config key "profiles"');
    expect(top).toBeInstanceOf(UsageError);
    expect(top.hint).toContain('profile, with, cluster');

    const nested = await refusalOfFile('cluster:\n  nmae: x\n');
    expect(nested.message).toBe('unknown config key "cluster.nmae"');
    expect(nested).toBeInstanceOf(UsageError);
    expect(nested.hint).toBe('got cluster.nmae: "x"; allowed here: the keys provider, name, context, nodeImage, k3sImage, ingressHttpPort, ingressHttpsPort');

    const deep = await refusalOfFile('components:\n  eck:\n    versoin: 3.0.0\n');
    expect(deep.message).toBe('unknown config key "components.eck.versoin"');
  });

  it('accepts the optional fields of a tool pin, and checks what they hold', async () => {
    const sum = 'f00d'.repeat(16);
    const path = await configFile(`tools:\n  kind:\n    sha256:\n      linux-amd64: ${sum}\n    archivePath: kind\n`);
    const cfg = await loadConfig({ config: path });
    expect(cfg.tools.kind.sha256).toEqual({ ...defaults.tools.kind.sha256, 'linux-amd64': sum });
    expect(cfg.tools.kind.archivePath).toBe('kind');

    const badEntry = await refusalOfFile('tools:\n  kind:\n    sha256:\n      linux_amd64: f00d\n');
    expect(badEntry.message).toBe('unknown config key "tools.kind.sha256.linux_amd64"');
    expect(badEntry.hint).toMatch(/linux-amd64/);
    const badValue = await refusalOfFile('tools:\n  kubectl:\n    sha256:\n      linux-amd64: 12\n');
    expect(badValue.message).toBe('invalid value for config key "tools.kubectl.sha256.linux-amd64"');
    expect(badValue.hint).toBe('got tools.kubectl.sha256.linux-amd64: 12; allowed: a sha256 of 64 hex digits');
    const shortSum = await refusalOfFile('tools:\n  kind:\n    sha256:\n      linux-amd64: f00d\n');
    expect(shortSum.hint).toBe('got tools.kind.sha256.linux-amd64: "f00d"; allowed: a sha256 of 64 hex digits');
    const badImage = await refusalOfFile('jobImage: 5\n');
    expect(badImage.message).toBe('invalid value for config key "jobImage"');
    expect(badImage.hint).toBe('got jobImage: 5; allowed: an image reference');
    expect(badImage).toBeInstanceOf(UsageError);
  });

  it('refuses names that only exist on every object (constructor, __proto__, toString) as unknown keys', async () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      const err = await refusalOfFile(`${key}: x\n`);
      expect(err.message).toBe(`unknown config key "${key}"`);
      expect(err).toBeInstanceOf(UsageError);
    }
  });

  it('refuses values of the wrong type, naming the key, the value given and what is allowed', async () => {
    const port = await refusalOfFile('cluster:\n  ingressHttpPort: "8080"\n');
    expect(port.message).toBe('invalid value for config key "cluster.ingressHttpPort"');
    expect(port).toBeInstanceOf(UsageError);
    expect(port.hint).toBe('got cluster.ingressHttpPort: "8080"; allowed: a whole number from 1 to 65535');

    const list = await refusalOfFile('with: ui\n');
    expect(list.message).toBe('invalid value for config key "with"');
    expect(list.hint).toBe('got with: "ui"; allowed: a list of extras, each one of: ui');
    expect(list).toBeInstanceOf(UsageError);

    const section = await refusalOfFile('timeouts: 30\n');
    expect(section.message).toBe('invalid value for config key "timeouts"');
    expect(section.hint).toBe('got timeouts: 30; allowed: a mapping with the keys stepSeconds, elasticsearchSeconds, imagePullSeconds');
  });

  it('tells lists and mappings apart', async () => {
    const mapForList = await refusalOfFile('with:\n  ui: true\n');
    expect(mapForList.hint).toBe('got with: {"ui":true}; allowed: a list of extras, each one of: ui');
    expect(mapForList).toBeInstanceOf(UsageError);

    const listForMap = await refusalOfFile('cluster:\n  - kind\n');
    expect(listForMap.message).toBe('invalid value for config key "cluster"');
    expect(listForMap.hint).toMatch(/^got cluster: \["kind"\]; allowed: a mapping with the keys provider, name, /);
    expect(listForMap).toBeInstanceOf(UsageError);
  });

  it('refuses an empty value for a key that has a default', async () => {
    const err = await refusalOfFile('cluster:\n');
    expect(err.message).toBe('invalid value for config key "cluster"');
    expect(err).toBeInstanceOf(UsageError);
    expect(err.hint).toMatch(/^got cluster: null; allowed: a mapping with the keys /);
  });

  it('refuses a file that is not a mapping, or not YAML', async () => {
    const list = await refusalOfFile('- profile\n- minimal\n');
    expect(list.message).toMatch(/must hold a mapping/);
    expect(list).toBeInstanceOf(UsageError);

    const broken = await refusalOfFile('cluster: {name: [unclosed\n');
    expect(broken.message).toMatch(/is not valid YAML/);
    expect(broken).toBeInstanceOf(UsageError);
    expect(broken.cause).toBeInstanceOf(Error);
  });

  it('explains a missing file, naming it, with a hint', async () => {
    const missing = join(dir, 'no-such-file.yaml');
    const err = await refusal({ config: missing });
    expect(err.message).toBe(`cannot read config file ${missing}`);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.hint).toMatch(/--config/);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('loadConfig: flags', () => {
  it('lets flags win over the file', async () => {
    const path = await configFile('profile: minimal\nwith: [ui]\njobImage: from-file:1\ncluster:\n  provider: k3s\n');
    const cfg = await loadConfig({ config: path, profile: 'full', jobImage: 'from-flag:2', cluster: 'kind', with: ['ui'] });
    expect(cfg.profile).toBe('full');
    expect(cfg.jobImage).toBe('from-flag:2');
    expect(cfg.cluster.provider).toBe('kind');
    // --with adds to the file's extras without repeating one.
    expect(cfg.with).toEqual(['ui']);
  });

  it('--context selects the existing provider and that context', async () => {
    const cfg = await loadConfig({ context: 'minikube', jobImage: 'registry.example/hello:1' });
    expect(cfg.cluster.provider).toBe('existing');
    expect(cfg.cluster.context).toBe('minikube');
    expect(kubeContext(cfg)).toBe('minikube');
    // --context wins over --cluster and over the file's provider.
    const path = await configFile('cluster:\n  provider: k3s\n');
    const both = await loadConfig({ config: path, cluster: 'k3s', context: 'k3d-dev', jobImage: 'registry.example/hello:1' });
    expect(both.cluster.provider).toBe('existing');
    expect(kubeContext(both)).toBe('k3d-dev');
  });

  it('--cluster k3s selects the k3s provider', async () => {
    expect((await loadConfig({ cluster: 'k3s' })).cluster.provider).toBe('k3s');
  });

  it('refuses an unknown profile, extra or provider, listing the valid ones', async () => {
    const profile = await refusal({ profile: 'huge' });
    expect(profile.message).toBe('invalid value for config key "profile"');
    expect(profile).toBeInstanceOf(UsageError);
    expect(profile.hint).toBe('got profile: "huge"; allowed: one of: full, minimal');

    const extra = await refusal({ with: ['ui', 'grafana'] });
    expect(extra).toBeInstanceOf(UsageError);
    expect(extra.hint).toBe('got with: ["ui","grafana"]; allowed: a list of extras, each one of: ui');

    const provider = await refusal({ cluster: 'minikube' });
    expect(provider.message).toBe('invalid value for config key "cluster.provider"');
    expect(provider.hint).toMatch(/^got cluster.provider: "minikube"; allowed: one of: kind, k3s, existing .*--context/);

    // The same checks apply to values from the file.
    expect((await refusalOfFile('profile: tiny\n')).hint).toBe('got profile: "tiny"; allowed: one of: full, minimal');
  });

  it('refuses ports out of range, fractional or equal, and invalid cluster names', async () => {
    for (const port of [0, 65536, 80.5, -1]) {
      const err = await refusalOfFile(`cluster:\n  ingressHttpPort: ${port}\n`);
      expect(err.message).toBe('invalid value for config key "cluster.ingressHttpPort"');
      expect(err).toBeInstanceOf(UsageError);
      expect(err.hint).toBe(`got cluster.ingressHttpPort: ${port}; allowed: a whole number from 1 to 65535`);
    }
    const https = await refusalOfFile('cluster:\n  ingressHttpsPort: 70000\n');
    expect(https.hint).toBe('got cluster.ingressHttpsPort: 70000; allowed: a whole number from 1 to 65535');

    const same = await refusalOfFile('cluster:\n  ingressHttpPort: 8080\n  ingressHttpsPort: 8080\n');
    expect(same.message).toMatch(/must differ/);
    expect(same.hint).toMatch(/8080 and 8443/);
    expect(same.hint).toMatch(/^got both = 8080; allowed: /);

    for (const name of ['Flink', 'flink_sandbox', '-x', 'x-', '']) {
      const err = await refusalOfFile(`cluster:\n  name: "${name}"\n`);
      expect(err.message).toBe('invalid value for config key "cluster.name"');
      expect(err.hint).toMatch(new RegExp(`^got cluster.name: "${name}"; allowed: a cluster name: lower-case letters, digits and dashes`));
      expect(err).toBeInstanceOf(UsageError);
    }
  });
});

describe('mergeConfig', () => {
  it('deep-merges without touching its inputs', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
    const over = { a: { b: 2 } };
    expect(mergeConfig(base, over)).toEqual({ a: { b: 2, c: [1, 2] }, d: 'x' });
    expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: 'x' });
  });

  it('replaces lists as a whole instead of merging them element by element', () => {
    expect(mergeConfig({ repos: ['a', 'b'] }, { repos: ['c'] })).toEqual({ repos: ['c'] });
  });

});

describe('the config schema', () => {
  it('accepts the defaults as a whole, and any subset of them as overrides', () => {
    expect(() => checkConfig(defaults)).not.toThrow();
    expect(() => checkConfig({ timeouts: { stepSeconds: 1 } }, { overrides: true })).not.toThrow();
    // A whole config must have every key the defaults have.
    const { timeouts: _, ...partial } = structuredClone(defaults);
    expect(() => checkConfig(partial)).toThrow('config key "timeouts" is missing');
  });

  it('names the full dotted path of a bad key', () => {
    expect(() => checkConfig({ namespaces: { jobs: 'x' } }, { overrides: true })).toThrow('unknown config key "namespaces.jobs"');
    expect(() => checkConfig({ timeouts: { stepSeconds: '5m' } }, { overrides: true })).toThrow('invalid value for config key "timeouts.stepSeconds"');
    expect(() => checkConfig({ components: { flinkOperator: { repos: ['https://ok.example/', 'ftp://x'] } } }, { overrides: true })).toThrow(
      'invalid value for config key "components.flinkOperator.repos[1]"',
    );
  });

  // Each: the file, then the key and the value the hint must show.
  const outOfRange: Array<[string, string, string]> = [
    ['timeouts:\n  stepSeconds: -5\n', 'timeouts.stepSeconds', '-5'],
    ['timeouts:\n  elasticsearchSeconds: 0\n', 'timeouts.elasticsearchSeconds', '0'],
    ['timeouts:\n  imagePullSeconds: "2m"\n', 'timeouts.imagePullSeconds', '"2m"'],
    ['namespaces:\n  job: ""\n', 'namespaces.job', '""'],
    ['namespaces:\n  logging: Logging\n', 'namespaces.logging', '"Logging"'],
    ['cluster:\n  name: ""\n', 'cluster.name', '""'],
    ['cluster:\n  nodeImage: ""\n', 'cluster.nodeImage', '""'],
    ['components:\n  flinkOperator:\n    repos: []\n', 'components.flinkOperator.repos', '[]'],
    ['components:\n  eck:\n    baseUrl: download.elastic.co\n', 'components.eck.baseUrl', '"download.elastic.co"'],
    ['components:\n  flink:\n    version: ""\n', 'components.flink.version', '""'],
    ['tools:\n  helm:\n    version: 4\n', 'tools.helm.version', '4'],
    ['tools:\n  kind:\n    url: ""\n', 'tools.kind.url', '""'],
    ['jobImage: ""\n', 'jobImage', '""'],
  ];
  for (const [file, key, value] of outOfRange) {
    it(`refuses ${key}: ${value}, and the hint names the key, the value and what is allowed`, async () => {
      const err = await refusalOfFile(file);
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`invalid value for config key "${key}"`);
      expect(err.hint).toMatch(new RegExp(`^got ${key.replace(/\./g, '\\.')}: ${value.replace(/[[\]"]/g, '\\$&')}; allowed: \\S`));
    });
  }

  it('still checks what one key cannot say: an existing provider needs a context', async () => {
    const err = await refusalOfFile('cluster:\n  provider: existing\n');
    expect(err.message).toBe('cluster provider "existing" needs a kube context');
    expect(err).toBeInstanceOf(UsageError);
  });
});

describe('kubeContext', () => {
  it('is kind-<name> for kind and the given context for an existing cluster', () => {
    const kind: SandboxConfig = { ...defaults, cluster: { ...defaults.cluster, name: 'abc' } };
    expect(kubeContext(kind)).toBe('kind-abc');
    const existing: SandboxConfig = { ...defaults, cluster: { ...defaults.cluster, provider: 'existing', context: 'prod-like' } };
    expect(kubeContext(existing)).toBe('prod-like');
  });
});
