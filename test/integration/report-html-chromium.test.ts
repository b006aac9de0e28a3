// report.html opened in a real headless Chromium: its inline script draws one plot per scenario,
// the sequence as lines inside the plot area, and a marker for every fault, restore, savepoint,
// suspend, resume and checkpoint of the history, all without the network (the page's CSP forbids it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeReports } from '../../scenarios/report/write.ts';
import { dumpDom, markerCount, plotsOf, seriesPoints } from '../helpers/chromium.ts';
import { META, outcomes, writeHistory } from '../unit/report-fixture.ts';

let dir: string;
let page: Promise<string> | undefined;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'report-html-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opened once, inside the tests: without Chromium each test fails with the install hint (a hook failing would mark them skipped). */
function rendered(): Promise<string> {
  page ??= writeReports(join(dir, 'report'), outcomes(writeHistory(dir, 'history')), META).then((paths) => dumpDom(paths.html));
  return page;
}

it('draws a plot per scenario once the page has loaded', async () => {
  const dom = await rendered();
  expect(dom).toContain('data-drawn="3"');
  const plots = plotsOf(dom);
  expect(plots).toHaveLength(3);
  expect(plots.map((p) => /data-points="(\d+)"/.exec(p)?.[1])).toEqual(['210', '210', '0']);
  expect(plots[2]).toContain('nothing was recorded');
  expect(dom).not.toContain('NaN');
}, 90_000);

it('draws every record as a point of the sequence line, inside the plot area, rising with the sequence', async () => {
  const points = seriesPoints(plotsOf(await rendered())[0]!);
  expect(points).toHaveLength(210);
  for (const [x, y] of points) {
    expect(x).toBeGreaterThanOrEqual(70);
    expect(x).toBeLessThanOrEqual(940);
    expect(y).toBeGreaterThanOrEqual(56);
    expect(y).toBeLessThanOrEqual(300);
  }
  // SVG's y grows downwards: the first record (1) is lowest on screen, the last (200) highest.
  expect(points[0]![1]).toBeGreaterThan(points.at(-1)![1]);
}, 90_000);

it('draws one marker per timeline event, with its label', async () => {
  const dom = await rendered();
  for (const plot of plotsOf(dom).slice(0, 2)) {
    for (const kind of ['fault', 'restore', 'savepoint', 'suspend', 'resume', 'checkpoint']) expect(markerCount(plot, kind), kind).toBe(1);
    expect(plot).toContain('>kill-taskmanager</text>');
    expect(plot).toContain('>resume</text>');
  }
  expect(markerCount(plotsOf(dom)[2]!, 'fault')).toBe(0);
}, 90_000);
