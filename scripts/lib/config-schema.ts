// The one schema of the sandbox's configuration (scripts/lib/config.ts), checked with ajv.
// Every node says in words what it allows (`allowed`), so that a refusal names the key,
// the value given and what would be accepted, without a hand-written check per key.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { SandboxError, UsageError } from './errors.ts';
import { fingerprint, loadPrecompiled, newAjv as plainAjv, precompiledModule } from './precompiled.ts';

export const PROFILES = ['full', 'minimal'] as const;
export const PROVIDERS = ['kind', 'k3s', 'existing'] as const;
export const EXTRAS: readonly string[] = ['ui'];

type Schema = Record<string, unknown> & { allowed?: string };

// DNS-1123 labels: what Kubernetes accepts for namespaces and what kind accepts for cluster names.
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

const text = (allowed = 'a non-empty string'): Schema => ({ type: 'string', minLength: 1, allowed });
const url = (schemes = 'https?'): Schema => ({ type: 'string', pattern: `^(${schemes})://.+`, allowed: `a URL starting with ${schemes.split('|').map((s) => `${s.replace('?', '')}://`).join(' or ')}` });
const port: Schema = { type: 'integer', minimum: 1, maximum: 65535, allowed: 'a whole number from 1 to 65535' };
const seconds: Schema = { type: 'number', exclusiveMinimum: 0, allowed: 'a number of seconds above 0' };
const dnsLabel = (what: string): Schema => ({ type: 'string', pattern: DNS_LABEL, maxLength: 63, allowed: `${what}: lower-case letters, digits and dashes, starting and ending with a letter or digit, at most 63 characters` });
const oneOf = (values: readonly string[], more = ''): Schema => ({ type: 'string', enum: [...values], allowed: `one of: ${values.join(', ')}${more}` });

/** A mapping with exactly these keys; `optional` ones may be left out. */
function mapping(properties: Record<string, Schema>, optional: string[] = []): Schema {
  const keys = Object.keys(properties);
  return {
    type: 'object',
    properties,
    required: keys.filter((k) => !optional.includes(k)),
    additionalProperties: false,
    allowed: `a mapping with the keys ${keys.join(', ')}`,
  };
}

const toolPin: Schema = mapping(
  {
    version: text('a version, e.g. v1.2.3'),
    url: { ...url(), allowed: 'a download URL (http:// or https://) with {version}, {os} and {arch} placeholders' },
    checksumSuffix: { type: 'string', allowed: 'a string appended to the URL for its checksum file, e.g. .sha256' },
    sha256: {
      type: 'object',
      patternProperties: { '^[a-z0-9]+-[a-z0-9]+$': { type: 'string', pattern: '^[a-fA-F0-9]{64}$', allowed: 'a sha256 of 64 hex digits' } },
      additionalProperties: false,
      allowed: 'a mapping of <os>-<arch> (e.g. linux-amd64) to a sha256 of 64 hex digits',
    },
    archivePath: text('the path of the binary inside the archive'),
  },
  ['sha256', 'archivePath'],
);

export const configSchema: Schema = mapping(
  {
    profile: oneOf(PROFILES),
    with: { type: 'array', items: { type: 'string', enum: [...EXTRAS] }, allowed: `a list of extras, each one of: ${EXTRAS.join(', ')}` },
    cluster: mapping(
      {
        provider: oneOf(PROVIDERS, ' (existing is what --context <kube-context> selects)'),
        name: dnsLabel('a cluster name'),
        context: text('a kube context name'),
        nodeImage: text('an image reference'),
        k3sImage: text('an image reference'),
        ingressHttpPort: port,
        ingressHttpsPort: port,
      },
      ['context'],
    ),
    tools: mapping({ kind: toolPin, kubectl: toolPin, helm: toolPin }),
    components: mapping({
      certManager: mapping({ chart: text('a chart name'), version: text('a chart version'), repo: url() }),
      flinkOperator: mapping({
        version: text('a version'),
        repos: { type: 'array', minItems: 1, items: url(), allowed: 'a list of at least one Helm repository URL (http:// or https://)' },
      }),
      flink: mapping({ version: text('a Flink version, e.g. 1.20.4') }),
      eck: mapping({ version: text('a version'), baseUrl: url() }),
      loggingOperator: mapping({ chart: url('oci|https?'), version: text('a chart version') }),
      ingressNginx: mapping({ version: text('a release tag'), manifestUrl: url() }),
    }),
    namespaces: mapping(
      Object.fromEntries(['job', 'minio', 'certManager', 'operator', 'eckOperator', 'logging'].map((k) => [k, dnsLabel('a namespace name')])),
    ),
    timeouts: mapping({ stepSeconds: seconds, elasticsearchSeconds: seconds, imagePullSeconds: seconds }),
    scenarios: mapping({ settleSeconds: seconds, livenessSeconds: seconds }),
    jobImage: text('an image reference'),
  },
  ['jobImage'],
);

/** The schema with nothing required: a config file overrides only the keys it names. */
function withoutRequired(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutRequired);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== 'required').map(([k, v]) => [k, k === 'enum' ? v : withoutRequired(v)]));
}

type Which = 'whole' | 'overrides';

function newAjv(options: Parameters<typeof plainAjv>[0] = {}): Ajv {
  const ajv = plainAjv(options);
  // Words for people, not a validation rule.
  ajv.addKeyword({ keyword: 'allowed', schemaType: 'string' });
  return ajv;
}

const schemaOf = (which: Which): Schema => (which === 'whole' ? configSchema : (withoutRequired(configSchema) as Schema));

/** A short fingerprint of the schema: precompiled validators of another schema are not used. */
function schemaHash(): string {
  return fingerprint(configSchema);
}

/** The file scripts/build.mjs writes beside the bundle: the validators as ajv's standalone code. */
export const PRECOMPILED_FILE = 'config-validators.cjs';

/**
 * The source of PRECOMPILED_FILE: compiling the schema costs ~0.15 s of CPU per validator at every
 * start, the precompiled code nothing. `standalone` is ajv's standaloneCode (passed in, so that the
 * CLI never loads ajv's code generator).
 */
export function precompiledSource(standalone: (ajv: Ajv, refs: Record<string, string>) => string): string {
  const ajv = newAjv({ code: { source: true } });
  for (const which of ['whole', 'overrides'] as const) ajv.addSchema(schemaOf(which), which);
  return precompiledModule(standalone, ajv, { whole: 'whole', overrides: 'overrides' }, schemaHash());
}

/** The validator from PRECOMPILED_FILE beside this module (the bundle's dist/), when there is one for this schema. */
function precompiled(which: Which): ValidateFunction | undefined {
  return loadPrecompiled<Record<Which, ValidateFunction>>(PRECOMPILED_FILE, schemaHash())?.[which];
}

let ajv: Ajv | undefined;
const validators: { whole?: ValidateFunction; overrides?: ValidateFunction } = {};

/** Each validator precompiled, or compiled on first use: a run without a config file never needs `overrides`. */
function compiled(which: Which): ValidateFunction {
  validators[which] ??= precompiled(which) ?? (ajv ??= newAjv()).compile(schemaOf(which));
  return validators[which];
}

/** `cluster.ingressHttpPort`, `components.flinkOperator.repos[0]` from `/cluster/ingressHttpPort`. */
function keyPath(segments: string[]): string {
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** The schema node at a path of keys, walking properties, patternProperties and items. */
function schemaAt(segments: string[]): Schema | undefined {
  let node: Schema | undefined = configSchema;
  for (const s of segments) {
    if (!node) return undefined;
    const props = node.properties as Record<string, Schema> | undefined;
    const patterns = node.patternProperties as Record<string, Schema> | undefined;
    node = props && Object.hasOwn(props, s) ? props[s] : patterns ? Object.entries(patterns).find(([re]) => new RegExp(re).test(s))?.[1] : /^\d+$/.test(s) ? (node.items as Schema | undefined) : undefined;
  }
  return node;
}

function valueAt(root: unknown, segments: string[]): unknown {
  return segments.reduce<unknown>((v, s) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[s] : undefined), root);
}

/** A usage error that names the key, the value given and what is allowed. */
function refusal(err: ErrorObject, root: unknown): SandboxError {
  const segments = err.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'additionalProperties') {
    const key = String((err.params as { additionalProperty: string }).additionalProperty);
    const where = keyPath([...segments, key]);
    const parent = schemaAt(segments);
    const known = Object.keys((parent?.properties as object | undefined) ?? {});
    return new UsageError(`unknown config key "${where}"`, {
      hint: `got ${where}: ${shown(valueAt(root, [...segments, key]))}; allowed here: ${known.length ? `the keys ${known.join(', ')}` : (parent?.allowed ?? 'no other keys')}`,
    });
  }
  if (err.keyword === 'required') {
    const key = String((err.params as { missingProperty: string }).missingProperty);
    const where = keyPath([...segments, key]);
    return new UsageError(`config key "${where}" is missing`, {
      hint: `got ${where}: nothing; allowed: ${schemaAt([...segments, key])?.allowed ?? 'a value'}`,
    });
  }
  // Report at the nearest node that says what it allows (a list, rather than its item).
  let at = segments;
  while (at.length && !schemaAt(at)?.allowed) at = at.slice(0, -1);
  const where = keyPath(at);
  const allowed = schemaAt(at)?.allowed ?? err.message ?? 'a valid value';
  return new UsageError(`invalid value for config key "${where}"`, {
    hint: `got ${where}: ${shown(valueAt(root, at))}; allowed: ${allowed}`,
  });
}

/**
 * Refuses a config that does not fit the schema, with the first problem found. `overrides`
 * checks a config file's contents (any subset of the keys); otherwise the whole config.
 */
export function checkConfig(value: unknown, { overrides = false }: { overrides?: boolean } = {}): void {
  const validate = compiled(overrides ? 'overrides' : 'whole');
  if (validate(value)) return;
  throw refusal(validate.errors![0]!, value);
}
