// The menu's small pieces of arithmetic: the live line's records per second, counted on the
// records' own log times (a backlog read in one burst must not look like a spike), and the AGE
// column of the savepoint list.
import { describe, expect, it } from 'vitest';
import { progressLine, RateMeter } from '../../scripts/commands/menu-follow.ts';
import { age } from '../../scripts/commands/menu-savepoints.ts';

const T0 = 1_700_000_000_000;

describe('RateMeter', () => {
  it('has no rate before a whole second has passed', () => {
    const meter = new RateMeter();
    meter.add(T0);
    meter.add(T0 + 500);
    expect(meter.perSec()).toBeUndefined();
  });

  it('counts by the records\' times: a minute of backlog at 5 per second reads as 5 per second', () => {
    const meter = new RateMeter();
    for (let i = 0; i < 300; i++) meter.add(T0 + i * 200);
    expect(meter.perSec()).toBe(5);
  });

  it('follows a change of pace within its window of five seconds', () => {
    const meter = new RateMeter();
    for (let i = 0; i < 50; i++) meter.add(T0 + i * 200); // 10 s at 5/s
    for (let i = 0; i < 120; i++) meter.add(T0 + 10_000 + i * 50); // 6 s at 20/s
    expect(meter.perSec()).toBe(20);
  });
});

describe('progressLine', () => {
  it('waits for the first record, then shows the last number, the rate, gaps and duplicates', () => {
    expect(progressLine({ records: 0, highest: 0, missing: 0, duplicates: 0, bad: 0 }, undefined)).toBe('waiting for the first record…');
    expect(progressLine({ records: 120, highest: 130, missing: 10, duplicates: 2, bad: 0 }, 5)).toBe('last 130 · 5.0 records/s · 120 records · gaps 10 · duplicates 2');
    expect(progressLine({ records: 120, highest: 130, missing: 0, duplicates: 0, bad: 3 }, undefined)).toMatch(/- records\/s .* · bad lines 3$/);
  });
});

describe('age', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  it('reads like kubectl\'s AGE column', () => {
    expect(age('2026-01-10T11:59:15Z', now)).toBe('45s');
    expect(age('2026-01-10T11:30:00Z', now)).toBe('30m');
    expect(age('2026-01-10T02:00:00Z', now)).toBe('10h');
    expect(age('2026-01-01T12:00:00Z', now)).toBe('9d');
    expect(age(undefined, now)).toBe('-');
  });
});
