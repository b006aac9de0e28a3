// Bundles the CLI with esbuild. Heavy libraries are loaded lazily by the commands that need
// them, so `sandbox --help` starts fast. They stay external (node_modules), except
// @kubernetes/client-node: loading it from its thousands of files costs about 0.6 s of CPU,
// bundled (into a chunk of its own, still loaded lazily) about 0.15 s, and every command that
// talks to the cluster loads it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile('package.json', 'utf8'));
const BUNDLED = ['@kubernetes/client-node'];
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  .filter((name) => !BUNDLED.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

// Chunk names change with every edit: start from an empty dist/ so old chunks do not pile up.
await rm('dist', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'scripts/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  // Bundled CommonJS parts of client-node's dependencies call require(): give the ESM output one.
  banner: { js: "import { createRequire as __sandboxRequire } from 'node:module'; const require = __sandboxRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The validators of the config schema and of kind-config.yaml, precompiled (scripts/lib/precompiled.ts
// loads them from here).
const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
const { PRECOMPILED_FILE, precompiledSource } = await import('./lib/config-schema.ts');
await writeFile(join('dist', PRECOMPILED_FILE), precompiledSource(standaloneCode));
const { KIND_VALIDATOR_FILE, kindValidatorSource } = await import('./steps/kind-config.ts');
await writeFile(join('dist', KIND_VALIDATOR_FILE), kindValidatorSource(standaloneCode));
