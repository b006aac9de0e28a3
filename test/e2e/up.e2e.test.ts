// The real thing, opt-in (SANDBOX_E2E=1 npm run test:e2e): a real kind cluster, real images,
// real operators. Needs Docker with ~6 GiB of memory and network access to the registries.
// It cannot run on machines without a container registry; the integration tier covers the
// same flows against the simulated cluster.
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
const profile = process.env.SANDBOX_E2E_PROFILE ?? 'minimal';

afterAll(async () => {
  if (!process.env.SANDBOX_E2E_KEEP) await runCli(['down'], { env, timeoutMs: 300_000 });
}, 300_000);

it(`up --profile ${profile} brings every component to healthy`, async () => {
  const up = await runCli(['up', '--profile', profile], { env, timeoutMs: 1_800_000 });
  expect(up.code, up.stderr).toBe(0);
  const status = await runCli(['status', '--json', '--profile', profile], { env, timeoutMs: 120_000 });
  const report = JSON.parse(status.stdout) as { components: Array<{ component: string; health: string }> };
  const expected = profile === 'full' ? report.components : report.components.filter((c) => ['cluster', 'minio', 'cert-manager', 'flink-operator'].includes(c.component));
  for (const c of expected) expect(c, c.component).toMatchObject({ health: 'healthy' });
}, 1_900_000);

it('a second up changes nothing and is fast', async () => {
  const again = await runCli(['up', '--profile', profile, '--json'], { env, timeoutMs: 300_000 });
  expect(again.code, again.stderr).toBe(0);
  const report = JSON.parse(again.stdout) as { steps: Array<{ id: string; outcome: string }> };
  expect(report.steps.filter((s) => s.outcome === 'done').map((s) => s.id)).toEqual(['preflight']);
  expect(again.ms).toBeLessThan(60_000);
}, 400_000);
