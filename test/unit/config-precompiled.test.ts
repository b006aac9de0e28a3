// The config validators that `npm run build` precompiles (ajv standalone code beside the bundle)
// judge exactly as the ones compiled at run time: same verdicts, same first error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { configSchema, precompiledSource } from '../../scripts/lib/config-schema.ts';

// Inside the project, as dist/ is: the code requires ajv's small runtime helpers from node_modules.
const cache = join(import.meta.dirname, '..', '..', 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'sandbox-validators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'config-validators.cjs');
// Node hands a CommonJS module's exports as its default: here, standaloneCode itself.
writeFileSync(file, precompiledSource(standalone as unknown as Parameters<typeof precompiledSource>[0]));
const pre = createRequire(import.meta.url)(file) as { whole: ValidateFunction; overrides: ValidateFunction; schemaHash: string };
const ajv = new Ajv({ allErrors: false });
ajv.addKeyword({ keyword: 'allowed', schemaType: 'string' });
const whole = ajv.compile(configSchema);

const samples: unknown[] = [
  defaults,
  { ...defaults, profile: 'tiny' },
  { ...defaults, cluster: { ...defaults.cluster, ingressHttpPort: 'x' } },
  { ...defaults, unknownKey: 1 },
  { ...defaults, with: ['ui', 'nope'] },
  { profile: 'minimal' },
  'not an object',
];

describe('precompiled config validators', () => {
  it('give the same verdict and first error as the compiled schema', () => {
    expect(pre.schemaHash).toMatch(/^[0-9a-f]+$/);
    for (const s of samples) {
      const ok = whole(s);
      expect(pre.whole(s)).toBe(ok);
      expect(pre.whole.errors?.[0] ?? null).toEqual(whole.errors?.[0] ?? null);
    }
    expect(pre.overrides({ profile: 'minimal' })).toBe(true);
    expect(pre.overrides({ profile: 'tiny' })).toBe(false);
  });
});

describe('precompiled kind-config.yaml validator', () => {
  it('gives the same verdict and first error as the schema compiled at run time', async () => {
    const { KIND_VALIDATOR_FILE, kindValidatorSource, parseKindConfig } = await import('../../scripts/steps/kind-config.ts');
    const kindFile = join(dir, KIND_VALIDATOR_FILE);
    writeFileSync(kindFile, kindValidatorSource(standalone as unknown as Parameters<typeof kindValidatorSource>[0]));
    const pre = createRequire(import.meta.url)(kindFile) as { kindConfig: ValidateFunction; schemaHash: string };
    expect(pre.schemaHash).toMatch(/^[0-9a-f]+$/);
    const cluster = { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' };
    const docs: unknown[] = [
      { ...cluster, nodes: [{ role: 'control-plane', extraPortMappings: [{ containerPort: 80, hostPort: 8080 }] }, { role: 'worker' }] },
      { ...cluster, nodes: [{ role: 'worker' }] },
      { ...cluster, nodes: 'worker' },
      { ...cluster, nodes: [{ role: 'control-plane', extraPortMappings: [{ containerPort: 80, hostPort: 'http' }] }] },
      { kind: 'Pod', apiVersion: 'v1', nodes: [] },
      ['not', 'a', 'mapping'],
    ];
    for (const doc of docs) {
      // From source, parseKindConfig compiles the schema with ajv: its verdict is the reference.
      let compiled: string | undefined;
      try {
        parseKindConfig(JSON.stringify(doc), 'kind-config.yaml');
      } catch (err) {
        compiled = (err as Error).message;
      }
      expect(pre.kindConfig(doc)).toBe(compiled === undefined);
      if (compiled !== undefined) expect(pre.kindConfig.errors?.[0]).toBeDefined();
    }
  });
});
