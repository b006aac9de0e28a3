#!/usr/bin/env node
// Entry point. `npx sandbox` in the project runs this on the Node 24 that the project
// installs (node_modules/.bin/node); the bundle keeps `sandbox --help` fast.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `flink-sandbox needs Node.js >= 22 (this is ${process.version}).\n` +
      '  hint: run it as `npx sandbox ...` inside the project after `npm ci`, which uses the Node 24 it installs\n',
  );
  process.exit(1);
}
await import('../dist/cli.js');
