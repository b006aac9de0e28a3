// Turns the checker's end state into the verdict: each gap, replay, reset and liveness check
// becomes a finding that names the fault (or restart) it follows, and the findings decide.
import type { PendingLiveness } from './liveness.ts';
import type { Interval } from './intervals.ts';
import { LIST_LIMIT, type Track } from './track.ts';
import type { Finding, LivenessCheck, Replay, ReplayWindow, Sample, SequenceReport, Validity, Verdict } from './verdict.ts';

export interface CheckerState {
  labels: string[];
  tracks: Track[];
  records: number;
  malformed: number;
  unexpected: number;
  malformedSamples: Sample[];
  unexpectedSamples: Sample[];
  firstMalformedLabel: number;
  firstUnexpectedLabel: number;
  history: boolean;
  strictDuplicates: boolean;
  replayWindows: ReplayWindow[];
  liveness: PendingLiveness[];
  expectResets: Array<{ label: number; seen: boolean }>;
  /** Restores from a checkpoint older than the newest one completed before them. */
  staleRestores: Array<{ id: number; latest: number; label: number }>;
  tEnd: number;
  settleMs: number;
}

/** Findings of one kind listed one by one per sequence; the rest are summed up in one. */
const FINDINGS_PER_KIND = 50;

const range = ([from, to]: Interval): string => (from === to ? `${from}` : `${from}..${to}`);
const ranges = (list: Interval[], max = 5): string => list.slice(0, max).map(range).join(', ') + (list.length > max ? `, … (${list.length - max} more)` : '');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** The mark below which everything should have arrived: that of `settleMs` before the last observation. */
export function settledMark(track: Track, tEnd: number, settleMs: number): number {
  if (!Number.isFinite(tEnd) || Number.isNaN(track.firstT)) return track.hw;
  return track.markAt(tEnd - settleMs);
}

function sequenceReport(track: Track, state: CheckerState, findings: Finding[]): { report: SequenceReport; lost: number; unseen: number } {
  const label = (i: number): string => state.labels[i] ?? 'start';
  const frontier = settledMark(track, state.tEnd, state.settleMs);
  const lost: Interval[] = [];
  const unseen: Interval[] = [];
  let lostCount = 0;
  let unseenCount = 0;
  let listed = 0;
  let unlisted = 0;
  for (const gap of track.seen.gaps()) {
    const lostTo = Math.min(gap.to, frontier);
    if (gap.from <= lostTo) {
      const interval: Interval = [gap.from, lostTo];
      const size = lostTo - gap.from + 1;
      lostCount += size;
      if (lost.length < LIST_LIMIT) lost.push(interval);
      if (listed++ < FINDINGS_PER_KIND) {
        findings.push({
          kind: 'lost',
          fail: true,
          sequence: track.id,
          intervals: [interval],
          count: size,
          after: label(gap.label),
          message: `lost ${range(interval)}${size > 1 ? ` (${size} numbers)` : ''} after ${label(gap.label)}`,
        });
      } else unlisted += size;
    }
    const unseenFrom = Math.max(gap.from, frontier + 1);
    if (unseenFrom <= gap.to) {
      unseenCount += gap.to - unseenFrom + 1;
      if (unseen.length < LIST_LIMIT) unseen.push([unseenFrom, gap.to]);
    }
  }
  if (unlisted) findings.push({ kind: 'lost', fail: true, sequence: track.id, count: unlisted, after: 'start', message: `lost ${unlisted} more numbers in ${track.id} (see the sequence's lost list)` });
  if (unseenCount) {
    findings.push({
      kind: 'unseen',
      fail: false,
      sequence: track.id,
      intervals: unseen.slice(0, 5),
      count: unseenCount,
      after: 'the end',
      message: `${plural(unseenCount, 'number')} of ${track.id} still in flight when the observations ended (${ranges(unseen)}): unseen, not lost`,
    });
  }
  const report: SequenceReport = {
    id: track.id,
    origin: track.origin,
    lowest: track.seen.min,
    highest: track.hw,
    distinct: track.seen.count(),
    lost,
    unseen,
    duplicates: track.dups.intervals(LIST_LIMIT),
    ...(track.prefixes.length ? { prefixes: track.prefixes } : {}),
    ...(track.listsTruncated || lost.length >= LIST_LIMIT || unseen.length >= LIST_LIMIT ? { truncated: true } : {}),
  };
  return { report, lost: lostCount, unseen: unseenCount };
}

function replayFindings(track: Track, state: CheckerState, findings: Finding[], replays: Replay[]): { resets: number; replayed: number } {
  let resets = 0;
  let replayed = 0;
  let listed = 0;
  for (const ep of track.episodes) {
    const after = state.labels[ep.after] ?? 'start';
    replays.push({ sequence: track.id, from: ep.from, to: ep.to, duplicates: ep.duplicates, outside: ep.outside, reset: ep.reset, after });
    replayed += ep.duplicates - ep.outside;
    const span: Interval = [ep.from, ep.to];
    if (ep.reset) {
      resets++;
      const what = ep.resetExpected ? 'expected reset' : ep.resetExcused ? 'reset before any checkpoint (nothing to restore)' : 'reset (state lost)';
      findings.push({
        kind: 'reset',
        fail: !ep.resetExpected && !ep.resetExcused,
        sequence: track.id,
        intervals: [span],
        count: 1,
        after,
        message: `${what}: ${track.id} fell back to ${ep.from} after reaching ${ep.to}, after ${after}`,
      });
    } else if (ep.outside > 0 && state.strictDuplicates) {
      const outside = ep.outsideSet.intervals(LIST_LIMIT);
      findings.push({
        kind: 'duplicates',
        fail: true,
        sequence: track.id,
        intervals: outside,
        count: ep.outside,
        after,
        message: `${plural(ep.outside, 'duplicate')} of ${track.id} outside every replay window (${ranges(outside)}) after ${after}`,
      });
    } else if (ep.duplicates > 0 && listed++ < FINDINGS_PER_KIND) {
      const why = ep.outside === 0 && state.history ? ', inside the replay window' : '';
      findings.push({
        kind: 'replay',
        fail: false,
        sequence: track.id,
        intervals: [span],
        count: ep.duplicates,
        after,
        message: `replayed ${range(span)} of ${track.id} (${plural(ep.duplicates, 'duplicate')}${why}) after ${after}`,
      });
    }
  }
  return { resets, replayed };
}

function livenessChecks(state: CheckerState, findings: Finding[]): LivenessCheck[] {
  return state.liveness.map((p): LivenessCheck => {
    const after = state.labels[p.label] ?? 'start';
    const marks = p.targets.map((t) => t.above).filter(Number.isFinite);
    const mark = marks.length ? Math.max(...marks) : undefined;
    const what = mark === undefined ? 'the first record' : `the mark ${mark}`;
    const base: Omit<LivenessCheck, 'status'> = { after, ...(mark === undefined ? {} : { mark }), deadlineMs: p.deadlineMs };
    if (Number.isNaN(p.startT)) return { ...base, status: 'not-resumed' };
    if (p.open === 0) {
      const passedAt = Math.max(...p.targets.map((t) => t.passedAt));
      if (!Number.isFinite(passedAt)) return { ...base, status: 'passed' };
      const tookMs = Math.max(0, passedAt - p.startT);
      if (tookMs <= p.deadlineMs) return { ...base, status: 'passed', tookMs };
      findings.push({ kind: 'liveness', fail: true, count: 1, after, message: `liveness: after ${after} the sequence passed ${what} only after ${seconds(tookMs)} (deadline ${seconds(p.deadlineMs)})` });
      return { ...base, status: 'late', tookMs };
    }
    if (state.tEnd - p.startT >= p.deadlineMs) {
      findings.push({ kind: 'liveness', fail: true, count: 1, after, message: `liveness: after ${after} the sequence did not pass ${what} within ${seconds(p.deadlineMs)}` });
      return { ...base, status: 'never' };
    }
    findings.push({
      kind: 'liveness',
      fail: false,
      count: 1,
      after,
      message: `liveness undecided: the observations end ${seconds(Math.max(0, state.tEnd - p.startT))} after ${after}, before the ${seconds(p.deadlineMs)} deadline, and ${what} was not passed yet`,
    });
    return { ...base, status: 'undecided' };
  });
}

export function buildVerdict(state: CheckerState): Verdict {
  const findings: Finding[] = [];
  const replays: Replay[] = [];
  const sequences: SequenceReport[] = [];
  let lost = 0;
  let unseen = 0;
  let resets = 0;
  let replayed = 0;
  let duplicates = 0;
  for (const track of state.tracks) {
    const s = sequenceReport(track, state, findings);
    sequences.push(s.report);
    lost += s.lost;
    unseen += s.unseen;
    duplicates += track.duplicates;
    const r = replayFindings(track, state, findings, replays);
    resets += r.resets;
    replayed += r.replayed;
  }
  for (const e of state.expectResets) {
    if (e.seen) continue;
    const after = e.label < 0 ? 'the end' : state.labels[e.label]!;
    findings.push({ kind: 'reset-missing', fail: true, count: 1, after, message: `a reset was declared for ${e.label < 0 ? 'a fault that never came' : after}, but no sequence fell back to its start` });
  }
  for (const r of state.staleRestores) {
    const after = state.labels[r.label] ?? 'start';
    findings.push({ kind: 'stale-restore', fail: true, count: 1, after, message: `restored from checkpoint ${r.id}, older than the last completed checkpoint ${r.latest}, after ${after}` });
  }
  const liveness = livenessChecks(state, findings);
  if (state.malformed) {
    const first = state.malformedSamples[0];
    findings.push({
      kind: 'malformed',
      fail: true,
      count: state.malformed,
      after: state.labels[state.firstMalformedLabel] ?? 'start',
      message: `${plural(state.malformed, 'malformed record line')}${first ? ` (first: ${first.source}: ${first.text})` : ''}`,
    });
  }
  if (state.unexpected) {
    const first = state.unexpectedSamples[0];
    findings.push({
      kind: 'unexpected',
      fail: true,
      count: state.unexpected,
      after: state.labels[state.firstUnexpectedLabel] ?? 'start',
      message: `${plural(state.unexpected, 'impossible value')}${first ? ` (first: ${first.source}: ${first.text})` : ''}`,
    });
  }
  const failed = findings.filter((f) => f.fail);
  const undecided = liveness.some((l) => l.status === 'undecided');
  let valid: Validity;
  let summary: string;
  if (state.records === 0) {
    valid = failed.length ? false : 'unknown';
    summary = failed.length ? `invalid: no valid records, ${failed.map((f) => f.message).join('; ')}` : 'unknown: no records seen';
  } else if (failed.length) {
    valid = false;
    summary = `invalid: ${failed.length === 1 ? failed[0]!.message : plural(failed.length, 'problem')}`;
  } else if (undecided) {
    valid = 'unknown';
    summary = 'unknown: the observations end before a liveness deadline';
  } else {
    valid = true;
    summary = `valid: ${plural(state.records, 'record')}, nothing lost, ${resets ? `${plural(resets, 'reset')} (expected, or before any checkpoint)` : 'no reset'}, ${duplicates ? `${plural(duplicates, 'duplicate')} in ${plural(replays.length, 'replay')}` : 'no duplicates'}`;
  }
  return {
    valid,
    summary,
    counts: { records: state.records, sequences: sequences.length, lost, unseen, duplicates, replayed, resets, malformed: state.malformed, unexpected: state.unexpected },
    history: state.history,
    strictDuplicates: state.strictDuplicates,
    sequences,
    replayWindows: state.replayWindows,
    replays,
    liveness,
    findings,
    malformedSamples: state.malformedSamples,
    unexpectedSamples: state.unexpectedSamples,
  };
}
