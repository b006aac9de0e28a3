// Download-and-verify for the tools the sandbox fetches itself (kind, kubectl, helm).
// The file streams to a temp file next to its destination while its sha256 is computed;
// only a complete download whose sum matches (the pinned one, else the project's published
// checksum file) is renamed into place, executable. Nothing partial is ever left at dest.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, normalize } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { x as extractTar } from 'tar';
import { InterruptedError, SandboxError, UsageError } from '../errors.ts';
import { AttemptError, describeNetworkError, hostOf, httpGet, withRetries } from './http.ts';

export interface DownloadOptions {
  /** Pinned sha256 (hex); wins over checksumUrl. */
  sha256?: string;
  /** URL of the published checksum file (`<hex>  <name>` or a bare `<hex>`). */
  checksumUrl?: string;
  /** For archives (.tar.gz): the path of the file inside to install at dest. */
  archivePath?: string;
  /** What is downloaded, for messages and hints, e.g. `helm v4.3.0`. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (msg: string) => void;
  fetchImpl?: typeof fetch;
  /** Retries after the first attempt for transient failures (default: RETRY_POLICY's). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default: RETRY_POLICY's). */
  retryDelayMs?: number;
  /** Limit for one attempt, headers to last byte (default 10 minutes). */
  attemptTimeoutMs?: number;
}

const HEX64 = /^[a-f0-9]{64}$/i;

/**
 * The sha256 for `fileName` in a checksum file. Accepts sha256sum's `<hex>  <name>` lines
 * (name possibly with a `*` or a directory) and a file holding only `<hex>` (kubectl).
 */
export function parseChecksumFile(text: string, fileName: string): string | undefined {
  const rows = text
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/))
    .filter((parts) => parts[0] !== undefined && HEX64.test(parts[0]));
  const named = rows.find((parts) => parts[1] !== undefined && basename(parts[1].replace(/^\*/, '')) === fileName);
  const only = rows.length === 1 ? rows[0] : undefined;
  return (named ?? only)?.[0]?.toLowerCase();
}

export type ReachProbe = { reachable: true; status: number } | { reachable: false; reason: string };

/**
 * Whether the server a download would come from answers at all: one HEAD request without
 * following redirects, given a few seconds. Doctor's way of telling "will be downloaded" from
 * "cannot be downloaded from here" (offline, behind a proxy Node does not use) in seconds.
 */
export async function probeDownload(url: string, opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {}): Promise<ReachProbe> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  try {
    const res = await (opts.fetchImpl ?? fetch)(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { reachable: true, status: res.status };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { reachable: false, reason: timedOut ? `${hostOf(url)} did not answer within ${timeoutMs / 1000}s` : describeNetworkError(err, url).text };
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} kB`;
  return `${n} B`;
}

interface Ctx {
  url: string;
  opts: DownloadOptions;
  fetchImpl: typeof fetch;
  label: string;
}

/** Runs one attempt function with retries for transient failures; maps the final failure. */
async function retried<T>(ctx: Ctx, url: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { opts } = ctx;
  const timeoutMs = opts.attemptTimeoutMs ?? 10 * 60_000;
  let attempts = 0;
  try {
    // Only network and HTTP trouble is worth another try (the seam's default); a local error
    // (disk full, permissions) would fail the same way again.
    return await withRetries(
      async (signal) => {
        attempts++;
        try {
          // attemptTimeoutMs is above 0 here, so every attempt has a signal.
          return await attempt(signal!);
        } catch (err) {
          if (signal?.aborted && !opts.signal?.aborted) throw new AttemptError(`no complete answer within ${Math.round(timeoutMs / 1000)}s`, true, err);
          throw err;
        }
      },
      {
        attemptTimeoutMs: timeoutMs,
        signal: opts.signal,
        retries: opts.retries,
        minTimeoutMs: opts.retryDelayMs,
        onRetry: (error, n, left) => opts.onProgress?.(`${url}: ${error.message}; retrying (attempt ${n + 1} of ${n + left})`),
      },
    );
  } catch (err) {
    if (err instanceof SandboxError) throw err;
    if (opts.signal?.aborted) throw interrupted(ctx);
    const reason = err instanceof Error ? err.message : String(err);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    throw new SandboxError(`cannot download ${url}: ${reason}${tries}`, {
      cause: err,
      hint: hintFor(ctx, err),
    });
  }
}

function hintFor(ctx: Ctx, err: unknown): string {
  const yourself = `or install ${ctx.label} yourself and put it on PATH`;
  if (!(err instanceof AttemptError)) return `check that the cache folder is writable and has free space, ${yourself}`;
  if (/^HTTP 404/.test(err.message)) return `check the version and URL pinned for it (tools.* in the config), ${yourself}`;
  return `check your network or proxy and re-run, ${yourself}`;
}

function interrupted(ctx: Ctx): SandboxError {
  return new InterruptedError(`download of ${ctx.url} was interrupted`);
}

async function fetchExpectedSum(ctx: Ctx): Promise<string> {
  const { opts } = ctx;
  if (opts.sha256) {
    if (!HEX64.test(opts.sha256)) {
      throw new UsageError(`the pinned sha256 for ${ctx.label} is not a sha256: "${opts.sha256}"`, {
        hint: 'fix tools.*.sha256 in the config (64 hex characters) or remove it to use the published checksum file',
      });
    }
    return opts.sha256.toLowerCase();
  }
  const checksumUrl = opts.checksumUrl;
  if (!checksumUrl) {
    // Never install an unverified binary.
    throw new SandboxError(`no checksum known for ${ctx.url}`, {
      hint: `pin tools.*.sha256 in the config, or install ${ctx.label} yourself and put it on PATH`,
    });
  }
  const text = await retried(ctx, checksumUrl, async (signal) => {
    const res = await httpGet(checksumUrl, signal, ctx.fetchImpl);
    try {
      return await res.text();
    } catch (err) {
      if (signal.aborted) throw err;
      throw new AttemptError('the connection closed before the checksum file was complete', true, err);
    }
  });
  const sum = parseChecksumFile(text, fileNameOf(ctx.url));
  if (!sum) {
    throw new SandboxError(`checksum file ${checksumUrl} holds no sha256 for ${fileNameOf(ctx.url)}`, {
      hint: `pin tools.*.sha256 in the config, or install ${ctx.label} yourself and put it on PATH`,
    });
  }
  return sum;
}

function fileNameOf(url: string): string {
  try {
    return basename(new URL(url).pathname);
  } catch {
    return basename(url);
  }
}

/** Streams the body to `tmp`, hashing as it goes; checks the length against Content-Length. */
async function streamToFile(ctx: Ctx, tmp: string, signal: AbortSignal): Promise<string> {
  const res = await httpGet(ctx.url, signal, ctx.fetchImpl);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  // With a content-encoding, Content-Length counts encoded bytes and cannot be compared.
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const expected = Number.isFinite(declared) && !encoded ? declared : undefined;
  const hash = createHash('sha256');
  let received = 0;
  let nextReport = 0.1;
  const { onProgress } = ctx.opts;
  onProgress?.(`downloading ${ctx.label}${expected !== undefined ? ` (${formatBytes(expected)})` : ''}`);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done): void {
      hash.update(chunk);
      received += chunk.length;
      if (expected && onProgress && received / expected >= nextReport && received < expected) {
        onProgress(`downloading ${ctx.label}: ${formatBytes(received)} of ${formatBytes(expected)}`);
        nextReport = Math.floor((received / expected) * 10) / 10 + 0.1;
      }
      done(null, chunk);
    },
  });
  if (!res.body) throw new AttemptError('empty response', true);
  try {
    await pipeline(Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>), meter, createWriteStream(tmp, { mode: 0o600 }), {
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const got = expected !== undefined ? `${received} of ${expected} bytes` : `${received} bytes`;
    throw new AttemptError(`download was truncated: the connection closed after ${got}`, true, err);
  }
  if (expected !== undefined && received !== expected) {
    throw new AttemptError(`download was truncated: got ${received} of ${expected} bytes`, true);
  }
  return hash.digest('hex');
}

async function extractOne(archive: string, inside: string, dir: string, ctx: Ctx): Promise<string> {
  const wanted = normalize(inside);
  await mkdir(dir, { recursive: true });
  try {
    await extractTar({ file: archive, cwd: dir, filter: (p) => normalize(p.replace(/^\.\//, '')) === wanted });
  } catch (err) {
    throw new SandboxError(`cannot unpack ${ctx.url}`, { cause: err, hint: `install ${ctx.label} yourself and put it on PATH` });
  }
  const out = join(dir, wanted);
  const found = await stat(out).catch(() => undefined);
  if (!found?.isFile()) {
    throw new SandboxError(`${ctx.url} has no ${inside} inside`, {
      hint: `check tools.*.archivePath in the config, or install ${ctx.label} yourself and put it on PATH`,
    });
  }
  return out;
}

/**
 * Downloads `url` to `dest` (executable), verified against `sha256` or the checksum file.
 * Transient failures (connection refused, resets, 5xx, truncation) are retried a couple of
 * times; a 404 or a checksum mismatch is not. Throws SandboxError naming the URL.
 */
export async function downloadVerified(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const ctx: Ctx = { url, opts, fetchImpl: opts.fetchImpl ?? fetch, label: opts.name ?? basename(dest) };
  await mkdir(dirname(dest), { recursive: true });
  const expected = await fetchExpectedSum(ctx);
  const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${dest}.part-${unique}`;
  const unpackDir = `${dest}.unpack-${unique}`;
  try {
    const actual = await retried(ctx, url, async (signal) => {
      await rm(tmp, { force: true });
      return streamToFile(ctx, tmp, signal);
    });
    opts.onProgress?.(`verifying ${ctx.label} (sha256)`);
    if (actual !== expected) {
      throw new SandboxError(`checksum mismatch for ${url}: expected sha256 ${expected}, got ${actual}`, {
        hint: `the file was corrupted or altered on the way and was not installed; re-run, or install ${ctx.label} yourself and put it on PATH`,
      });
    }
    const binary = opts.archivePath ? await extractOne(tmp, opts.archivePath, unpackDir, ctx) : tmp;
    await chmod(binary, 0o755);
    await rename(binary, dest);
  } finally {
    await rm(tmp, { force: true });
    await rm(unpackDir, { recursive: true, force: true });
  }
}
