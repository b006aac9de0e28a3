// The TypeScript parser and the Java job's log format are pinned together: this test reads the
// format literal out of HelloJob.java and feeds the parser lines built from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSequenceLine } from '../../scripts/lib/flink/sequence-line.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const javaFile = path.join(repoRoot, 'job', 'src', 'main', 'java', 'dev', 'flinksandbox', 'hello', 'HelloJob.java');
const javaSource = readFileSync(javaFile, 'utf8');

/** The string literal assigned to SEQ_FORMAT in HelloJob.java. */
function javaFormat(): string {
  const m = /static final String SEQ_FORMAT\s*=\s*"((?:[^"\\]|\\.)*)"\s*;/.exec(javaSource);
  if (!m?.[1]) throw new Error(`no SEQ_FORMAT literal in ${javaFile}`);
  return m[1];
}

/** What SLF4J prints for the format: each {} replaced by the next argument. */
function render(format: string, ...args: number[]): string {
  let i = 0;
  return format.replace(/\{\}/g, () => String(args[i++]));
}

/** A line as the ECS JSON template layout writes it. */
function ecsLine(message: string): string {
  return JSON.stringify({
    '@timestamp': '2026-11-24T10:00:00.123Z',
    'ecs.version': '1.2.0',
    'log.level': 'INFO',
    message,
    'process.thread.name': 'log-sequence (2/2)#0',
    'log.logger': 'dev.flinksandbox.hello.HelloJob',
    'flink-job-id': '2bd169b220ae0d7e26f3edf0869c244f',
  });
}

describe('the Java log format and the parser', () => {
  it('HelloJob logs every record through SEQ_FORMAT with seq, subtask and attempt, in that order', () => {
    expect(javaFormat().match(/\{\}/g)).toHaveLength(3);
    expect(javaSource).toMatch(/LOG\.info\(SEQ_FORMAT, seq, subtask, attempt\);/);
    expect(javaSource).toMatch(/subtask = task\.getIndexOfThisSubtask\(\);/);
    expect(javaSource).toMatch(/attempt = task\.getAttemptNumber\(\);/);
  });

  it('parses a line rendered from the Java format literal', () => {
    expect(parseSequenceLine(render(javaFormat(), 42, 1, 0))).toEqual({ seq: 42, subtask: 1, attempt: 0 });
  });

  it('parses any rendered line, raw or JSON-wrapped (property)', () => {
    const format = javaFormat();
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(1024), fc.nat(10_000), fc.boolean(), (seq, subtask, attempt, json) => {
        const message = render(format, seq, subtask, attempt);
        expect(parseSequenceLine(json ? ecsLine(message) : message)).toEqual({ seq, subtask, attempt });
      }),
    );
  });
});

describe('parseSequenceLine', () => {
  it('accepts the raw text line after a pattern-layout prefix', () => {
    const line = '2026-11-24 10:00:00,123 INFO  dev.flinksandbox.hello.HelloJob [] - SEQ seq=7 subtask=0 attempt=2';
    expect(parseSequenceLine(line)).toEqual({ seq: 7, subtask: 0, attempt: 2 });
  });

  it('accepts the JSON layout line whose message holds the record, with surrounding whitespace', () => {
    expect(parseSequenceLine(`  ${ecsLine('SEQ seq=123456 subtask=1 attempt=0')}\n`)).toEqual({ seq: 123456, subtask: 1, attempt: 0 });
  });

  it('returns undefined for lines that are not ours', () => {
    const others = [
      '',
      '   ',
      'Starting Task Manager',
      ecsLine('Completed checkpoint 360 for job 2bd169b220ae0d7e26f3edf0869c244f (15960 bytes).'),
      '{"message": 17}',
      '[1,2,3]',
      'null',
      'Number: 17',
      'SEQUENCE seq=1 subtask=0 attempt=0',
      '{"log.level":"INFO","message":"Completed checkpo',
    ];
    for (const line of others) expect(parseSequenceLine(line), JSON.stringify(line)).toBeUndefined();
  });

  it('flags our lines that are broken as malformed, keeping the original line', () => {
    const broken = [
      'SEQ seq=12 subtask=0 attem',
      'SEQ seq=abc subtask=0 attempt=0',
      'SEQ seq=-1 subtask=0 attempt=0',
      'SEQ seq=1.5 subtask=0 attempt=0',
      'SEQ seq=1 subtask=0 attempt=0 trailing',
      'SEQ seq=99999999999999999999 subtask=0 attempt=0',
      'SEQ',
      ecsLine('SEQ seq= subtask=0 attempt=0'),
      '{"@timestamp":"2026-11-24T10:00:00Z","message":"SEQ seq=12 subtask=0 att',
    ];
    for (const line of broken) expect(parseSequenceLine(line), line).toEqual({ malformed: line });
  });
});
