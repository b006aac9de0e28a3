// Bundles the CLI with esbuild. Heavy libraries stay external and are loaded
// lazily by the commands that need them, so `sandbox --help` starts fast.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

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
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
