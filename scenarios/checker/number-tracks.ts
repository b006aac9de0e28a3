// The blog's job numbers its records from 0 and its source splits the range across subtasks, so
// one job prints several independent contiguous sequences (0.., 50000.., ...), and the `K>`
// prefix of a sequence may change after a restore. Sequences are therefore told apart by
// continuity, not by prefix: a number belongs to the sequence whose range it extends.
//
// A number far above the mark of the sequence below it is either the start of another sequence
// or a jump over lost numbers in that one. Which, only the future tells: if the sequence below
// moves on afterwards, both are alive and independent; if it never moves again, the new one is
// its continuation and what lies between was lost. So such a track stays tentative until the end.
import { Track } from './track.ts';

export class NumberTracks {
  /** Sorted by origin (each track's first number). */
  readonly tracks: Track[] = [];

  /** The track `n` belongs to, starting a new one when it extends none. */
  assign(n: number, label: number): Track {
    const { tracks } = this;
    let i = tracks.length - 1;
    while (i >= 0 && tracks[i]!.origin > n) i--;
    if (i >= 0 && n <= tracks[i]!.hw + 1) return tracks[i]!;
    const track = new Track(`Number from ${n}`, n);
    track.bornUnder = label;
    if (i >= 0) {
      track.parent = tracks[i];
      track.parentAdvancesAtBirth = tracks[i]!.advances;
    }
    tracks.splice(i + 1, 0, track);
    return track;
  }

  /** The track holding `n` now (no new track), for declarations that name a number. */
  find(n: number): Track | undefined {
    for (let i = this.tracks.length - 1; i >= 0; i--) if (this.tracks[i]!.origin <= n) return this.tracks[i];
    return undefined;
  }

  /**
   * The sequences: every tentative track folded into its parent when the parent never moved again
   * (what lies between was lost), or when a replay filled the gap so that both now touch.
   */
  settle(): Track[] {
    const kept: Track[] = [];
    const foldedInto = new Map<Track, Track>();
    for (const track of this.tracks) {
      const parent = track.parent;
      const into = parent && (foldedInto.get(parent) ?? parent);
      if (parent && into && (parent.advances === track.parentAdvancesAtBirth || into.hw + 1 >= track.origin)) {
        fold(into, track);
        foldedInto.set(track, into);
      } else kept.push(track);
    }
    return kept;
  }
}

/** Makes `upper` (all of whose numbers lie above `into`'s) part of `into`; the hole between is a gap. */
function fold(into: Track, upper: Track): void {
  into.seen.absorbAbove(upper.seen, upper.bornUnder);
  for (const [from, to] of upper.dups.intervals()) into.dups.addRange(from, to);
  for (const [from, to] of upper.allowed.intervals()) into.allowed.addRange(from, to);
  into.hw = Math.max(into.hw, upper.hw);
  into.duplicates += upper.duplicates;
  into.listsTruncated ||= upper.listsTruncated;
  into.episodes.push(...upper.episodes);
  into.rings.push(...upper.rings);
  for (const prefix of upper.prefixes) into.notePrefix(prefix);
}
