// Bundles the CLI with esbuild. Heavy libraries are loaded lazily by the commands that need
// them, so `sandbox --help` starts fast. Some stay external (node_modules); the ones every run of
// `up` loads are bundled (into chunks of their own, still loaded lazily), because Node reads,
// resolves and compiles each file of a package on its own and its compile cache keeps a chunk
// whole: @kubernetes/client-node (from its thousands of files about 0.6 s of CPU, bundled about
// 0.15 s), undici (which client-node sends with and the transport, scripts/lib/kube/client.ts,
// calls too: one copy for both), yaml (70 files), commander, listr2, js-yaml and p-retry. With
// them a warm `up` starts its first request about 40 ms sooner and `--help` takes 40 ms, not 65.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile('package.json', 'utf8'));
const BUNDLED = ['@kubernetes/client-node', 'undici', 'yaml', 'commander', 'listr2', 'js-yaml', 'p-retry'];
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  .filter((name) => !BUNDLED.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

// client-node's index re-exports every generated API class, and its package.json does not say
// that its modules have no side effects, so esbuild would keep all of them. Its modules are marked
// free of side effects here (all but polyfill.js, which sets a global): what the CLI does not
// import (the generated API classes, most models) is dropped from the bundle.
const clientNodeDir = join('node_modules', '@kubernetes', 'client-node');
const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      if (args.path !== '@kubernetes/client-node' && !args.importer.includes(clientNodeDir)) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
      if (r.errors.length > 0 || r.external || !r.path.includes(clientNodeDir) || r.path.endsWith('polyfill.js')) return r;
      return { ...r, sideEffects: false };
    });
  },
};

// Importing node:http as an ES module makes Node read every one of its exports, and three of them
// (WebSocket, CloseEvent, MessageEvent) are getters that load Node's own copy of undici: about
// 20 ms at the start of every command that talks HTTP. require() reads none of them, so imports of
// node:http (ours, client-node's) get a module that takes it from require().
const nodeHttpByRequire = {
  name: 'node-http-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      // require() calls (bundled CommonJS, the module below) stay as they are.
      args.kind === 'require-call' ? { path: 'node:http', external: true } : { path: 'node:http', namespace: 'node-http-by-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'node-http-by-require' }, () => {
      const own = Object.getOwnPropertyDescriptors(createRequire(import.meta.url)('node:http'));
      const plain = Object.keys(own).filter((k) => 'value' in own[k] && /^[A-Za-z_$][\w$]*$/.test(k));
      return { contents: `const http = require('node:http');\nexport default http;\nexport const { ${plain.join(', ')} } = http;\n`, loader: 'js' };
    });
  },
};

// client-node's PortForward is bundled on its own (see scripts/lib/kube/portforward-client.ts):
// the CLI's bundle imports it from there at run time.
const PORTFORWARD_CLIENT = 'portforward-client';
const portForwardApart = {
  name: 'portforward-client-apart',
  setup(b) {
    b.onResolve({ filter: new RegExp(`/${PORTFORWARD_CLIENT}\\.ts$`) }, () => ({ path: `./${PORTFORWARD_CLIENT}.js`, external: true }));
  },
};

// Chunk names change with every edit: start from an empty dist/ so old chunks do not pile up.
await rm('dist', { recursive: true, force: true });

const common = {
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  // Bundled CommonJS parts of client-node's dependencies call require(): give the ESM output one.
  banner: { js: "import { createRequire as __sandboxRequire } from 'node:module'; const require = __sandboxRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { cli: 'scripts/main.ts' }, splitting: true, plugins: [clientNodeSideEffectFree, nodeHttpByRequire, portForwardApart] });
await build({ ...common, entryPoints: { [PORTFORWARD_CLIENT]: `scripts/lib/kube/${PORTFORWARD_CLIENT}.ts` }, plugins: [clientNodeSideEffectFree, nodeHttpByRequire] });

// The validators of the config schema and of kind-config.yaml, precompiled (scripts/lib/precompiled.ts
// loads them from here).
const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
const { PRECOMPILED_FILE, precompiledSource } = await import('./lib/config-schema.ts');
await writeFile(join('dist', PRECOMPILED_FILE), precompiledSource(standaloneCode));
const { KIND_VALIDATOR_FILE, kindValidatorSource } = await import('./steps/kind-config.ts');
await writeFile(join('dist', KIND_VALIDATOR_FILE), kindValidatorSource(standaloneCode));
