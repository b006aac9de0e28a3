// Opens a page in a real headless Chromium (Debian's `chromium` package) and returns the DOM as it
// is after the page's scripts ran. Missing Chromium is a failure with the fix, never a skip: the
// HTML report's plot is drawn by script, and only a browser can show that it is.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

export function chromiumPath(): string {
  const given = process.env.CHROMIUM;
  if (given) return given;
  for (const name of CANDIDATES) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  throw new Error('no Chromium on PATH: install it with `apt-get update && apt-get install -y chromium` (.ci/run does), or set CHROMIUM to its path');
}

/** The DOM of `file` once loaded (inline scripts have run by the load event), serialised. */
export function dumpDom(file: string, timeoutMs = 60_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(file).href];
  return new Promise((resolve, reject) => {
    const child = spawn(chromiumPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => reject(new Error(`cannot start Chromium (${e.message}): install it with \`apt-get install -y chromium\` or fix CHROMIUM`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0 && out.includes('<html')) resolve(out);
      else reject(new Error(`chromium --dump-dom exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** The `<svg class="plot">` elements of a dumped DOM, each as its markup. */
export function plotsOf(dom: string): string[] {
  return [...dom.matchAll(/<svg\b[^>]*class="plot"[^>]*>.*?<\/svg>/gs)].map((m) => m[0]);
}

/** How many markers of a kind a plot has drawn. */
export function markerCount(svg: string, kind: string): number {
  return svg.split(`class="marker marker-${kind}"`).length - 1;
}

/** Every x,y pair of the plot's sequence lines. */
export function seriesPoints(svg: string): Array<[number, number]> {
  return [...svg.matchAll(/<polyline\b[^>]*points="([^"]*)"[^>]*class="series"|<polyline\b[^>]*class="series"[^>]*points="([^"]*)"/g)].flatMap((m) =>
    (m[1] ?? m[2] ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split(',').map(Number) as [number, number]),
  );
}
