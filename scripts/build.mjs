// Bundles the CLI with esbuild. Heavy libraries stay external and are loaded
// lazily by the commands that need them, so `sandbox --help` starts fast.
import { build } from 'esbuild';

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
