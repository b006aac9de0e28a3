// The entry point's Node check agrees with package.json "engines" and with the dependencies'
// own ranges, which are where the numbers come from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

interface Bin {
  ENGINES: string;
  supported(version: string): boolean;
}
const bin = (await import(join(REPO_ROOT, 'bin', 'sandbox.js') as string)) as Bin;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };

describe('bin/sandbox.js Node check', () => {
  it('states the same range as package.json', () => {
    expect(bin.ENGINES).toBe(pkg.engines.node);
  });

  it.each([
    ['v20.20.2', false],
    ['v22.12.0', false],
    ['v22.22.1', false],
    ['v22.22.2', true],
    ['v23.11.0', false],
    ['v24.14.9', false],
    ['v24.15.0', true],
    ['v24.21.0', true],
    ['v25.2.0', false],
    ['v26.0.0', true],
  ])('%s supported: %s', (version, ok) => {
    expect(bin.supported(version)).toBe(ok);
  });

  it("accepts the Node the project brings (the `node` devDependency)", () => {
    const own = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string };
    expect(bin.supported(own.version)).toBe(true);
  });
});
