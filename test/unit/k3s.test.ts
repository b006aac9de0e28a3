// `--cluster k3s`: the sandbox's side of the testcontainers K3s cluster (no Docker here, so
// testcontainers itself is replaced by a recording double): the kubeconfig is written where
// the Kubernetes layer reads it, a locally built job image is imported into K3s's containerd
// (and the tarball removed), and the cluster lives until Ctrl-C, then is stopped.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect, it, vi } from 'vitest';
import { defaults } from '../../scripts/lib/config.ts';
import { newRunState, type StepContext } from '../../scripts/pipeline/step.ts';

const calls: string[] = [];
let copied: string[] = [];

vi.mock('@testcontainers/k3s', () => ({
  K3sContainer: class {
    image: string;
    constructor(image: string) {
      this.image = image;
    }
    async start(): Promise<object> {
      calls.push(`start ${this.image}`);
      return {
        getKubeConfig: () => 'apiVersion: v1\nkind: Config\ncurrent-context: default\n',
        stop: async () => calls.push('stop'),
        copyFilesToContainer: async (files: Array<{ source: string; target: string }>) => {
          copied = files.map((f) => f.source);
          for (const f of files) calls.push(`copy ${readFileSync(f.source, 'utf8')} -> ${f.target}`);
        },
        exec: async (cmd: string[]) => {
          calls.push(`exec ${cmd.join(' ')}`);
          return { exitCode: 0, output: '' };
        },
      };
    }
  },
}));

const { holdK3s, loadImageIntoK3s, startK3s } = await import('../../scripts/steps/k3s.ts');
const { k3sKubeconfigPath } = await import('../../scripts/lib/services.ts');

function context(): StepContext {
  return {
    config: { ...structuredClone(defaults), cluster: { ...defaults.cluster, provider: 'k3s' } },
    runId: 't',
    signal: new AbortController().signal,
    output: () => undefined,
    state: newRunState(),
    services: {
      kube: () => Promise.reject(new Error('not used')),
      tools: async () =>
        ({
          run: async (name: string, args: string[]) => {
            calls.push(`${name} ${args.join(' ')}`);
            writeFileSync(args[2]!, 'image-bytes');
            return { stdout: '', stderr: '' };
          },
        }) as never,
    },
  };
}

beforeEach(() => {
  calls.length = 0;
  process.env.SANDBOX_STATE_DIR = mkdtempSync(join(tmpdir(), 'k3s-test-'));
});

it('starts the pinned K3s image and writes its kubeconfig where the Kubernetes layer reads it', async () => {
  const ctx = context();
  await startK3s(ctx);
  expect(calls).toEqual([`start ${defaults.cluster.k3sImage}`]);
  expect(readFileSync(k3sKubeconfigPath(), 'utf8')).toContain('current-context: default');
});

it('imports a locally built image into K3s and removes the tarball', async () => {
  const ctx = context();
  await startK3s(ctx);
  await loadImageIntoK3s(ctx, 'flink-sandbox/hello-job:abc');
  expect(calls.slice(1)).toEqual([
    expect.stringMatching(/^docker save --output \S+\.tar flink-sandbox\/hello-job:abc$/),
    'copy image-bytes -> /tmp/job-image.tar',
    'exec ctr --namespace k8s.io images import /tmp/job-image.tar',
  ]);
  expect(existsSync(copied[0]!)).toBe(false);
});

it('keeps the cluster until Ctrl-C, then stops it', async () => {
  const ctx = context();
  await startK3s(ctx);
  const ctl = new AbortController();
  const lines: string[] = [];
  const held = holdK3s(ctx.state, ctl.signal, (l) => lines.push(l));
  await new Promise((r) => setTimeout(r, 50));
  expect(calls).not.toContain('stop');
  ctl.abort();
  await held;
  expect(calls.at(-1)).toBe('stop');
  expect(lines.join('\n')).toMatch(/press Ctrl-C to stop and remove it/);
});
