// kind-config.yaml, checked before kind sees it: kind rejects a broken file only after it has
// started pulling the node image, with a Go unmarshal error, and a file that parses as something
// else (a list, a typo in `nodes`) would otherwise surface here as a TypeError - a "bug" the user
// cannot act on. Only the fields the sandbox relies on are checked; kind checks the rest.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { UsageError } from '../lib/errors.ts';
import { fingerprint, loadPrecompiled, newAjv, precompiledModule } from '../lib/precompiled.ts';

export interface KindNode {
  role: string;
  extraPortMappings?: Array<{ containerPort: number; hostPort: number }>;
}

export interface KindConfig {
  nodes: KindNode[];
  [key: string]: unknown;
}

const port = { type: 'integer', minimum: 1, maximum: 65535 };
const SCHEMA = {
  type: 'object',
  required: ['kind', 'apiVersion', 'nodes'],
  properties: {
    kind: { const: 'Cluster' },
    apiVersion: { const: 'kind.x-k8s.io/v1alpha4' },
    nodes: {
      type: 'array',
      minItems: 1,
      contains: { type: 'object', properties: { role: { const: 'control-plane' } }, required: ['role'] },
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['control-plane', 'worker'] },
          extraPortMappings: {
            type: 'array',
            items: { type: 'object', required: ['containerPort', 'hostPort'], properties: { containerPort: port, hostPort: port } },
          },
        },
      },
    },
  },
};

/** The file scripts/build.mjs writes beside the bundle: the validator as ajv's standalone code. */
export const KIND_VALIDATOR_FILE = 'kind-config-validator.cjs';

/** The source of KIND_VALIDATOR_FILE (`standalone` is ajv's standaloneCode, passed in by the build). */
export function kindValidatorSource(standalone: (ajv: Ajv, refs: Record<string, string>) => string): string {
  const ajv = newAjv({ code: { source: true } });
  ajv.addSchema(SCHEMA, 'kindConfig');
  return precompiledModule(standalone, ajv, { kindConfig: 'kindConfig' }, fingerprint(SCHEMA));
}

let validate: ValidateFunction | undefined;

/** Precompiled by the build, or compiled here on first use (from source). */
function validator(): ValidateFunction {
  validate ??= loadPrecompiled<{ kindConfig: ValidateFunction }>(KIND_VALIDATOR_FILE, fingerprint(SCHEMA))?.kindConfig ?? newAjv().compile(SCHEMA);
  return validate;
}

function describe(err: ErrorObject): string {
  const where = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : 'the document';
  if (err.keyword === 'const' || err.keyword === 'enum') {
    const allowed = (err.params as { allowedValue?: unknown; allowedValues?: unknown[] }).allowedValue ?? (err.params as { allowedValues?: unknown[] }).allowedValues;
    return `${where} must be ${JSON.stringify(allowed)}`;
  }
  if (err.keyword === 'contains') return 'nodes must hold a node with role control-plane';
  return `${where} ${err.message ?? 'is invalid'}`;
}

/** The parsed file; a UsageError naming the file and what is wrong when kind could not use it. */
export function parseKindConfig(text: string, file: string): KindConfig {
  const hint = `fix ${file} (kind's format: https://kind.sigs.k8s.io/docs/user/configuration/), or restore it with \`git checkout ${file}\``;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid YAML`, { cause: err, hint });
  }
  const check = validator();
  if (!check(doc)) throw new UsageError(`${file} is not a kind cluster config: ${describe(check.errors![0]!)}`, { hint });
  return doc as KindConfig;
}
