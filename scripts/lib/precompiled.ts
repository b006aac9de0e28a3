// The JSON schemas the CLI checks with ajv (its config, kind-config.yaml) are compiled by
// `npm run build` into ajv's standalone code, written beside the bundle in dist/. At run time the
// precompiled validators are plain functions: loading ajv with its code generator and compiling a
// schema cost 0.1-0.3 s of CPU at every command. Running from source (the unit tests), or with a
// file built from another schema, they are compiled on first use as before.
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

// Not named `require`: the bundle's banner already declares one in every chunk.
const requireHere = createRequire(import.meta.url);

/** A short fingerprint of a schema: precompiled validators of another schema are not used. */
export function fingerprint(schema: unknown): string {
  const text = JSON.stringify(schema);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

/** An Ajv instance; ajv itself is loaded only now, when a schema has to be compiled here. */
export function newAjv(options: Options = {}): Ajv {
  const { Ajv } = requireHere('ajv') as typeof import('ajv');
  return new Ajv({ allErrors: false, ...options });
}

/** The exports of `file` beside this module (the bundle's dist/) when it was built from the schema of fingerprint `hash`. */
export function loadPrecompiled<T extends object>(file: string, hash: string): T | undefined {
  try {
    const mod = requireHere(`./${file}`) as T & { schemaHash?: string };
    return mod.schemaHash === hash ? mod : undefined;
  } catch {
    return undefined; // running from source: compile
  }
}

/** The source of a precompiled file: ajv's standalone code for `refs`, and the schema's fingerprint. */
export function precompiledModule(
  standalone: (ajv: Ajv, refs: Record<string, string>) => string,
  ajv: Ajv,
  refs: Record<string, string>,
  hash: string,
): string {
  return `${standalone(ajv, refs)}\nexports.schemaHash = ${JSON.stringify(hash)};\n`;
}
