/**
 * Mapping a byte range of a large object onto its segments. Both large-object kinds walk their
 * segments in order (DLO: page by page of a listing; SLO: manifest by manifest), so the walk
 * takes one segment length at a time and never needs the whole list.
 */

/** Inclusive bounds of the bytes to read from one segment. */
export interface SegmentSpan {
  readonly first: number;
  readonly last: number;
}

/**
 * Walks the inclusive range [first, last] of the whole object over its segments (Swift's
 * `first_byte`/`last_byte` bookkeeping in `_segment_listing_iterator`). `last` may be
 * `Infinity` for "to the end". Empty segments never hold a byte of the range, so they are
 * always skipped.
 */
export class RangeWalker {
  private first: number;
  private last: number;

  constructor(first: number, last: number) {
    this.first = first;
    this.last = last;
  }

  /** Whether no later segment can hold a byte of the range. */
  get done(): boolean {
    return this.last < 0;
  }

  /** The part of the next segment (of `length` bytes) inside the range, or undefined for none. */
  next(length: number): SegmentSpan | undefined {
    if (this.last < 0) return undefined;
    const wanted = length > 0 && this.first < length ? { first: Math.max(0, this.first), last: Math.min(length - 1, this.last) } : undefined;
    this.first -= length;
    this.last -= length;
    return wanted;
  }
}

/** The spans of the inclusive range [first, last] of the whole object over segments of the given lengths. */
export function spansOver(lengths: readonly number[], first: number, last: number): { index: number; span: SegmentSpan }[] {
  const walker = new RangeWalker(first, last);
  const out: { index: number; span: SegmentSpan }[] = [];
  for (let index = 0; index < lengths.length && !walker.done; index++) {
    const span = walker.next(lengths[index] as number);
    if (span) out.push({ index, span });
  }
  return out;
}
