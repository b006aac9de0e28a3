// downloadVerified against a real HTTP server on 127.0.0.1: what lands at dest, and what
// the user reads when it goes wrong.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadVerified, parseChecksumFile } from '../../scripts/lib/exec/download.ts';
import { InterruptedError, SandboxError } from '../../scripts/lib/errors.ts';
import { startHttp, type LocalHttp } from '../helpers/http.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const BODY = Buffer.from('#!/bin/sh\necho "kind v0.32.0 go1.24 linux/amd64"\n'.repeat(200));

let server: LocalHttp;
let base: string;
let routes: Map<string, Handler>;
let hits: Map<string, number>;
let dir: string;

beforeAll(async () => {
  server = await startHttp((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    res.writeHead(404, 'Not Found').end('no such file');
  });
  base = server.base;
});
afterAll(() => server.close());
beforeEach(async () => {
  routes = new Map();
  hits = new Map();
  dir = await mkdtemp(join(tmpdir(), 'sandbox-dl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function serve(path: string, body: Buffer | string, status = 200): void {
  routes.set(path, (_req, res) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
}

async function expectNothingLeft(dest: string): Promise<void> {
  await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  // no temp files either: the folder holds only what the test put there
  const left = (await readdir(dir)).filter((f) => f.startsWith('kind'));
  expect(left).toEqual([]);
}

async function failure(p: Promise<unknown>): Promise<SandboxError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  return err as SandboxError;
}

describe('parseChecksumFile', () => {
  const hex = 'a'.repeat(64);
  it('reads sha256sum lines and bare sums', () => {
    expect(parseChecksumFile(`${hex}  kind-linux-amd64\n`, 'kind-linux-amd64')).toBe(hex);
    expect(parseChecksumFile(`${hex}\n`, 'kubectl')).toBe(hex);
    expect(parseChecksumFile(`${hex} */build/bin/kind-linux-amd64`, 'kind-linux-amd64')).toBe(hex);
    const other = 'b'.repeat(64);
    expect(parseChecksumFile(`${other}  helm-linux-arm64.tar.gz\n${hex}  helm-linux-amd64.tar.gz\n`, 'helm-linux-amd64.tar.gz')).toBe(hex);
    expect(parseChecksumFile('<html>not found</html>', 'kind')).toBeUndefined();
  });
});

describe('downloadVerified', () => {
  it('installs an executable file when the published checksum matches', async () => {
    serve('/kind-linux-amd64', BODY);
    serve('/kind-linux-amd64.sha256sum', `${sha(BODY)}  kind-linux-amd64\n`);
    const dest = join(dir, 'bin', 'kind-v0.32.0');
    const progress: string[] = [];
    await downloadVerified(`${base}/kind-linux-amd64`, dest, {
      checksumUrl: `${base}/kind-linux-amd64.sha256sum`,
      name: 'kind v0.32.0',
      onProgress: (m) => progress.push(m),
    });
    expect(await readFile(dest)).toEqual(BODY);
    expect((await stat(dest)).mode & 0o777).toBe(0o755);
    expect(progress.some((m) => m.includes('verifying kind v0.32.0'))).toBe(true);
    expect(await readdir(join(dir, 'bin'))).toEqual(['kind-v0.32.0']);
  });

  it('accepts a bare-hex checksum file (kubectl style)', async () => {
    serve('/kubectl', BODY);
    serve('/kubectl.sha256', sha(BODY));
    const dest = join(dir, 'kubectl-v1.36.1');
    await downloadVerified(`${base}/kubectl`, dest, { checksumUrl: `${base}/kubectl.sha256` });
    expect(await readFile(dest)).toEqual(BODY);
  });

  it('refuses a file whose checksum does not match and leaves nothing behind', async () => {
    serve('/kind-linux-amd64', BODY);
    serve('/kind-linux-amd64.sha256sum', `${sha('something else')}  kind-linux-amd64\n`);
    const dest = join(dir, 'kind-v0.32.0');
    const err = await failure(downloadVerified(`${base}/kind-linux-amd64`, dest, { checksumUrl: `${base}/kind-linux-amd64.sha256sum`, name: 'kind v0.32.0' }));
    expect(err.message).toContain(`checksum mismatch for ${base}/kind-linux-amd64`);
    expect(err.message).toContain(sha(BODY));
    expect(err.hint).toMatch(/install kind v0\.32\.0 yourself and put it on PATH/);
    await expectNothingLeft(dest);
    // a mismatch is not retried: the same bytes would come again
    expect(hits.get('/kind-linux-amd64')).toBe(1);
  });

  it('reports a truncated download (Content-Length larger than the body, then the socket dies)', async () => {
    routes.set('/kind-linux-amd64', (_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    serve('/kind-linux-amd64.sha256sum', `${sha(BODY)}  kind-linux-amd64\n`);
    const dest = join(dir, 'kind-v0.32.0');
    const err = await failure(
      downloadVerified(`${base}/kind-linux-amd64`, dest, { checksumUrl: `${base}/kind-linux-amd64.sha256sum`, retryDelayMs: 10 }),
    );
    expect(err.message).toContain(`cannot download ${base}/kind-linux-amd64`);
    expect(err.message).toMatch(/truncated/);
    expect(err.message).toContain(`of ${BODY.length} bytes`);
    expect(err.message).toContain('after 7 attempts');
    await expectNothingLeft(dest);
  });

  it('recovers when a truncated download succeeds on retry', async () => {
    let calls = 0;
    routes.set('/kind-linux-amd64', (_req, res) => {
      calls++;
      res.writeHead(200, { 'content-length': BODY.length });
      if (calls === 1) {
        res.write(BODY.subarray(0, 10));
        setTimeout(() => res.socket?.destroy(), 20);
      } else {
        res.end(BODY);
      }
    });
    const dest = join(dir, 'kind-v0.32.0');
    await downloadVerified(`${base}/kind-linux-amd64`, dest, { sha256: sha(BODY), retryDelayMs: 10 });
    expect(await readFile(dest)).toEqual(BODY);
    expect(calls).toBe(2);
  });

  it('fails fast and clearly when the server is down', async () => {
    // a port that was just free: nothing listens there
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/kind-linux-amd64`;
    const dest = join(dir, 'kind-v0.32.0');
    const started = Date.now();
    const err = await failure(downloadVerified(url, dest, { sha256: sha(BODY), name: 'kind v0.32.0' }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.message).toContain(`cannot download ${url}`);
    expect(err.message).toMatch(/connection refused/);
    expect(err.hint).toMatch(/install kind v0\.32\.0 yourself and put it on PATH/);
    await expectNothingLeft(dest);
  });

  it('does not retry a 404 and says which URL is missing', async () => {
    const dest = join(dir, 'kind-v9.9.9');
    const err = await failure(downloadVerified(`${base}/kind-v9.9.9`, dest, { sha256: sha(BODY), retryDelayMs: 10 }));
    expect(err.message).toBe(`cannot download ${base}/kind-v9.9.9: HTTP 404 Not Found`);
    expect(err.hint).toMatch(/check the version and URL/);
    expect(hits.get('/kind-v9.9.9')).toBe(1);
    await expectNothingLeft(dest);
  });

  it('retries 5xx answers', async () => {
    let calls = 0;
    routes.set('/kind-linux-amd64', (_req, res) => {
      calls++;
      if (calls < 3) res.writeHead(503, 'Service Unavailable').end();
      else res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
    });
    const dest = join(dir, 'kind-v0.32.0');
    await downloadVerified(`${base}/kind-linux-amd64`, dest, { sha256: sha(BODY), retryDelayMs: 10 });
    expect(calls).toBe(3);
    expect(await readFile(dest)).toEqual(BODY);
  });

  it('a pinned sha256 wins over the published checksum file', async () => {
    serve('/kind-linux-amd64', BODY);
    serve('/kind-linux-amd64.sha256sum', `${sha('tampered')}  kind-linux-amd64\n`);
    const dest = join(dir, 'kind-v0.32.0');
    await downloadVerified(`${base}/kind-linux-amd64`, dest, { sha256: sha(BODY), checksumUrl: `${base}/kind-linux-amd64.sha256sum` });
    expect(await readFile(dest)).toEqual(BODY);
    expect(hits.get('/kind-linux-amd64.sha256sum')).toBeUndefined();

    // and a wrong pin fails even though the checksum file would have matched
    serve('/kind-linux-amd64.sha256sum', `${sha(BODY)}  kind-linux-amd64\n`);
    const dest2 = join(dir, 'kind-v0.32.1');
    const err = await failure(
      downloadVerified(`${base}/kind-linux-amd64`, dest2, { sha256: sha('pinned'), checksumUrl: `${base}/kind-linux-amd64.sha256sum` }),
    );
    expect(err.message).toMatch(/checksum mismatch/);
    await expect(stat(dest2)).rejects.toThrow(/ENOENT/);
  });

  it('never installs without a checksum to compare with', async () => {
    serve('/kind-linux-amd64', BODY);
    const dest = join(dir, 'kind-v0.32.0');
    const err = await failure(downloadVerified(`${base}/kind-linux-amd64`, dest, {}));
    expect(err.message).toContain('no checksum known');
    expect(hits.get('/kind-linux-amd64')).toBeUndefined();
  });

  it('extracts the binary from a helm-style tar.gz after verifying the archive', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'linux-amd64'), { recursive: true });
    await writeFile(join(src, 'linux-amd64', 'helm'), '#!/bin/sh\necho v4.3.0+gabc\n');
    await writeFile(join(src, 'linux-amd64', 'README.md'), 'readme');
    const archive = join(dir, 'helm.tar.gz');
    await createTar({ gzip: true, file: archive, cwd: src }, ['linux-amd64']);
    const bytes = await readFile(archive);
    serve('/helm-v4.3.0-linux-amd64.tar.gz', bytes);
    serve('/helm-v4.3.0-linux-amd64.tar.gz.sha256sum', `${sha(bytes)}  helm-v4.3.0-linux-amd64.tar.gz\n`);

    const dest = join(dir, 'bin', 'helm-v4.3.0');
    await downloadVerified(`${base}/helm-v4.3.0-linux-amd64.tar.gz`, dest, {
      checksumUrl: `${base}/helm-v4.3.0-linux-amd64.tar.gz.sha256sum`,
      archivePath: 'linux-amd64/helm',
    });
    expect(await readFile(dest, 'utf8')).toBe('#!/bin/sh\necho v4.3.0+gabc\n');
    expect((await stat(dest)).mode & 0o777).toBe(0o755);
    expect(await readdir(join(dir, 'bin'))).toEqual(['helm-v4.3.0']);

    const missing = join(dir, 'bin', 'helm-other');
    const err = await failure(
      downloadVerified(`${base}/helm-v4.3.0-linux-amd64.tar.gz`, missing, { sha256: sha(bytes), archivePath: 'darwin-arm64/helm' }),
    );
    expect(err.message).toContain('has no darwin-arm64/helm inside');
    expect(await readdir(join(dir, 'bin'))).toEqual(['helm-v4.3.0']);
  });

  it('stops at once when aborted, leaving nothing', async () => {
    routes.set('/kind-linux-amd64', (_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 100));
      // never finishes on its own
    });
    const dest = join(dir, 'kind-v0.32.0');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await failure(downloadVerified(`${base}/kind-linux-amd64`, dest, { sha256: sha(BODY), signal: ac.signal }));
    expect(err.message).toMatch(/interrupted/);
    expect(err).toBeInstanceOf(InterruptedError);
    await expectNothingLeft(dest);
  });
});
