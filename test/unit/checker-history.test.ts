// The run history's line format: every event kind round-trips through formatHistoryLine and
// parseHistoryLine; anything else is refused with a reason (never a crash), so that a reader can
// name the damaged line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatHistoryLine, type HistoryEvent, parseHistoryLine } from '../../scenarios/checker/history.ts';

const t = 1_795_514_400_000;
const EVENTS: HistoryEvent[] = [
  { t, kind: 'record', seq: 42, subtask: 1, attempt: 0, source: 'pod/hello-ha-taskmanager-1-1/flink-main-container' },
  { t, kind: 'number', n: 50_017, prefix: 2, source: 'pod/blog-taskmanager-1-1/flink-main-container' },
  { t, kind: 'malformed', line: 'SEQ seq=12 subt', source: 'pod/tm/c' },
  { t, kind: 'fault', name: 'kill-taskmanager', deadline: 90_000 },
  { t, kind: 'checkpoint', id: 7, triggered: t - 40 },
  { t, kind: 'savepoint', path: 's3://flink-data/savepoints/savepoint-2bd169-1', seq: 812 },
  { t, kind: 'suspend' },
  { t, kind: 'resume' },
  { t, kind: 'restore', from: 'checkpoint', id: 7 },
  { t, kind: 'restore', from: 'savepoint', path: 's3://flink-data/savepoints/savepoint-2bd169-1' },
  { t, kind: 'expect-reset' },
  { t, kind: 'expect-rewind', to: 300 },
];

describe('history lines', () => {
  it('round-trips every kind of event', () => {
    for (const ev of EVENTS) {
      const line = formatHistoryLine(ev);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(parseHistoryLine(line)).toEqual(ev);
    }
  });

  it('skips blank lines', () => {
    expect(parseHistoryLine('')).toBeUndefined();
    expect(parseHistoryLine('   ')).toBeUndefined();
  });

  it('refuses what is not an event, saying why', () => {
    const refused: Array<[string, RegExp]> = [
      ['{"t":1,"kind":"checkpoint","i', /^not JSON/],
      ['[1,2]', /must be object/],
      ['{"t":1,"kind":"explode"}', /"kind" must be one of: record, number, malformed, fault, checkpoint/],
      ['{"t":1}', /kind/],
      ['{"t":1,"kind":"record","seq":1,"subtask":0,"source":"x"}', /must have required property 'attempt'/],
      ['{"t":1,"kind":"record","seq":-1,"subtask":0,"attempt":0,"source":"x"}', /^seq must be >= 0/],
      ['{"t":1,"kind":"record","seq":1.5,"subtask":0,"attempt":0,"source":"x"}', /^seq must be integer/],
      ['{"t":"now","kind":"fault","name":"x"}', /^t must be number/],
      ['{"t":1,"kind":"fault","name":"x","deadlin":5}', /^unknown key "deadlin"/],
      ['{"t":1,"kind":"restore","from":"backup"}', /^from must be equal to one of the allowed values/],
    ];
    for (const [line, why] of refused) {
      const r = parseHistoryLine(line);
      expect(r, line).toHaveProperty('error');
      expect((r as { error: string }).error, line).toMatch(why);
    }
  });

  it('never throws, whatever the line (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ t: 1, kind: 'record', seq: v }))), (line) => {
        const r = parseHistoryLine(line);
        expect(r === undefined || 'error' in r || typeof r.kind === 'string').toBe(true);
      }),
    );
  });
});
