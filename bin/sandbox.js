#!/usr/bin/env node
// Entry point. The CLI's libraries need Node ^22.22.2 || ^24.15.0 || >=26 (package.json
// "engines", the intersection of its dependencies' own). `npx sandbox` in the project runs on the
// Node 24 that the project installs (node_modules/.bin/node comes first on npm's PATH). Anywhere
// else (`npm link`, an absolute path, an older system Node) this file hands itself over to that
// same Node when the running one is too old, so a Node 20 machine still works.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');

/** package.json "engines.node" (a unit test keeps the two equal). */
export const ENGINES = '^22.22.2 || ^24.15.0 || >=26.0.0';

/** Whether this Node satisfies ENGINES. */
export function supported(version) {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number);
  const atLeast = (m, p) => minor > m || (minor === m && patch >= p);
  if (major === 22) return atLeast(22, 2);
  if (major === 24) return atLeast(15, 0);
  return major >= 26;
}

/** Runs the CLI on the project's own Node, passing signals through; resolves to its exit code. */
function handOver(node) {
  const child = spawn(node, [self, ...process.argv.slice(2)], { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches the whole process group, so the child already has it: forwarding
  // it would count as a second Ctrl-C (exit at once). This process only waits for the child.
  process.on('SIGINT', () => undefined);
  // SIGTERM and SIGHUP are sent to this pid alone (a supervisor, a closed terminal): pass them on.
  for (const s of ['SIGTERM', 'SIGHUP']) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

// Run only as a program, not when a test imports `supported`.
if (process.argv[1] && realpathSync(process.argv[1]) === self) {
  const ownNode = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!supported(process.version)) {
    if (existsSync(ownNode) && process.execPath !== ownNode) {
      handOver(ownNode);
    } else {
      process.stderr.write(
        `flink-sandbox needs Node.js ^22.22.2, ^24.15.0 or >= 26 (this is ${process.version}).\n` +
          '  hint: run `npm ci` in the project: it installs its own Node 24, which `npx sandbox` then uses\n',
      );
      process.exit(1);
    }
  } else if (!existsSync(join(root, 'dist', 'cli.js'))) {
    process.stderr.write(
      'flink-sandbox is not built: dist/cli.js is missing.\n' +
        '  hint: run `npm ci` (it builds through the "prepare" script) or `npm run build` in the project\n',
    );
    process.exit(1);
  } else {
    // Node's compile cache (in $NODE_COMPILE_CACHE, else Node's own folder under the temp dir)
    // keeps the bundle's compiled code between runs, checked against the files' content: the
    // Kubernetes client's 6 MB chunk then loads in about two thirds of the CPU.
    (await import('node:module')).enableCompileCache?.();
    await import('../dist/cli.js');
  }
}
