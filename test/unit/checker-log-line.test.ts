// Reading captured TaskManager log lines: every shape `kubectl logs` prints (plain, log4j
// pattern, ECS JSON, with --timestamps and --prefix), our job's and the blog's job's records, and
// the line's time. The fast path must agree with parseSequenceLine, which is pinned to the Java
// format, on every line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MALFORMED_LINE, NONE, NUMBER_LINE, newLogLine, parseLogLine, SEQ_LINE, type LogLine } from '../../scenarios/checker/log-line.ts';
import { parseSequenceLine } from '../../scripts/lib/flink/sequence-line.ts';

function read(line: string): { kind: number } & LogLine {
  const out = newLogLine();
  const kind = parseLogLine(line, out);
  return { kind, ...out };
}

const ecs = (message: string, stamp = '2026-11-24T10:00:00.123Z'): string =>
  JSON.stringify({ '@timestamp': stamp, 'ecs.version': '1.2.0', 'log.level': 'INFO', message, 'log.logger': 'dev.flinksandbox.hello.HelloJob' });

const AT = Date.UTC(2026, 10, 24, 10, 0, 0, 123);

describe('parseLogLine', () => {
  it('reads our record in every shape kubectl prints, with its time', () => {
    const cases: Array<[string, number]> = [
      ['SEQ seq=42 subtask=1 attempt=3', Number.NaN],
      ['2026-11-24 10:00:00,123 INFO  dev.flinksandbox.hello.HelloJob                             [] - SEQ seq=42 subtask=1 attempt=3', AT],
      ['2026-11-24T10:00:00.123456789Z 2026-11-24 09:00:00,000 INFO  x [] - SEQ seq=42 subtask=1 attempt=3', AT],
      [ecs('SEQ seq=42 subtask=1 attempt=3'), AT],
      [`2026-11-24T11:00:00.123+01:00 ${ecs('SEQ seq=42 subtask=1 attempt=3', '2020-01-01T00:00:00Z')}`, AT],
      [`[pod/hello-ha-taskmanager-1-1/flink-main-container] 2026-11-24T10:00:00.123999Z ${ecs('SEQ seq=42 subtask=1 attempt=3')}`, AT],
      ['[pod/tm/c] SEQ seq=42 subtask=1 attempt=3  ', Number.NaN],
    ];
    for (const [line, t] of cases) expect(read(line), line).toEqual({ kind: SEQ_LINE, n: 42, attempt: 3, prefix: -1, t });
  });

  it("reads the blog's job's lines, with and without the subtask prefix", () => {
    expect(read('Number: 17')).toMatchObject({ kind: NUMBER_LINE, n: 17, prefix: -1 });
    expect(read('2> Number: 50017')).toMatchObject({ kind: NUMBER_LINE, n: 50_017, prefix: 2 });
    expect(read('2026-11-24T10:00:00.123Z 1> Number: 0')).toMatchObject({ kind: NUMBER_LINE, n: 0, prefix: 1, t: AT });
    expect(read('[pod/tm/c] 12> Number: 5\r')).toMatchObject({ kind: NUMBER_LINE, n: 5, prefix: 12 });
  });

  it('ignores everything else: Flink, stack traces, garbage, blank lines', () => {
    const others = [
      '',
      '2026-11-24 10:00:00,000 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor [] - Receive slot request',
      '\tat org.apache.flink.runtime.taskmanager.Task.run(Task.java:566)',
      ecs('Completed checkpoint 3 for job 2bd1 (15960 bytes).'),
      '{"@timestamp":"2026-11-24T10:00:00Z","message":"Checkpoint storage is set to',
      '\u0000\u0000\u001b[0m��',
      'SEQUENCE seq=1 subtask=0 attempt=0',
      '1> something else',
      'The Number: 5 is not ours',
      '[pod/tm/c] 2026-11-24T10:00:00Z',
    ];
    for (const line of others) expect(read(line).kind, JSON.stringify(line)).toBe(NONE);
  });

  it('flags broken record lines as malformed', () => {
    const broken = ['SEQ seq=12 subt', 'SEQ seq=abc subtask=0 attempt=0', ecs('SEQ seq= subtask=0 attempt=0'), '{"@timestamp":"2026-11-24T10:00:00Z","message":"SEQ seq=12 subtask=0 att', 'Number: ', 'Number: 12abc', '1> Number: -4', `Number: ${'9'.repeat(20)}`];
    for (const line of broken) expect(read(line).kind, line).toBe(MALFORMED_LINE);
  });

  it('agrees with parseSequenceLine on any line around the record, plain or wrapped (property)', () => {
    const around = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', '\t', 'x', 'SEQ ', 'SEQUENCE ', ' trailing', '\u00a0', 'INFO [] - ', '2026-11-24 10:00:00,123 INFO x [] - '));
    const number = fc.oneof(fc.nat(), fc.constantFrom('0', '007', '', 'x', '1.5', '-1', '9'.repeat(16), '123456789012345'));
    fc.assert(
      fc.property(around, number, number, number, around, fc.constantFrom('plain', 'ecs', 'kubectl'), (before, seq, subtask, attempt, after, wrap) => {
        const text = `${before}SEQ seq=${seq} subtask=${subtask} attempt=${attempt}${after}`;
        const line = wrap === 'ecs' ? ecs(text) : wrap === 'kubectl' ? `[pod/p/c] 2026-11-24T10:00:00.123Z ${text}` : text;
        const expected = parseSequenceLine(wrap === 'kubectl' ? text : line);
        const got = read(line);
        if (expected === undefined) expect(got.kind === NONE || got.kind === NUMBER_LINE).toBe(true);
        else if ('malformed' in expected) expect(got.kind).toBe(MALFORMED_LINE);
        else expect(got).toMatchObject({ kind: SEQ_LINE, n: expected.seq, attempt: expected.attempt });
      }),
      { numRuns: 2000 },
    );
  });

  it('reads fractional seconds of any length and zone offsets', () => {
    expect(read('2026-11-24T10:00:00Z SEQ seq=1 subtask=0 attempt=0').t).toBe(Date.UTC(2026, 10, 24, 10));
    expect(read('2026-11-24T10:00:00.5Z SEQ seq=1 subtask=0 attempt=0').t).toBe(Date.UTC(2026, 10, 24, 10, 0, 0, 500));
    expect(read('2026-11-24T05:30:00.123456789-04:30 SEQ seq=1 subtask=0 attempt=0').t).toBe(AT);
  });
});
