import { TimestampError } from './errors.ts';

/** Swift keeps timestamps to 10 microseconds: 5 decimal places of a second. */
const TICKS_PER_SECOND = 100_000;
/** Timestamps are below 10^10 seconds, so the internal form is always 16 characters. */
const MAX_TICKS = 10_000_000_000 * TICKS_PER_SECOND;
const PLAIN_DECIMAL = /^\+?(\d*)(?:\.(\d*))?$/;
const HEX_OFFSET = /^[0-9a-fA-F]{1,16}$/;

/**
 * Swift's timestamp: the version of every write. A point in time to 10 µs plus an `offset`
 * that orders several events stamped with the same time (Swift writes `_<16 hex digits>` for it).
 *
 * - `internal`: `1700000000.12345` (zero-padded to 16 characters), or with an offset
 *   `1700000000.12345_000000000000000a`. File names and database rows use it; it sorts as text.
 * - `normal`: `1700000000.12345`, what `X-Timestamp` headers carry.
 */
export class Timestamp {
  /** Time in units of 10 µs since the Unix epoch. */
  readonly ticks: number;
  /** Tie-breaker among events with the same `ticks`. */
  readonly offset: number;

  constructor(ticks: number, offset = 0) {
    if (!Number.isSafeInteger(ticks) || ticks < 0) throw new TimestampError(ticks, 'timestamp cannot be negative');
    if (ticks >= MAX_TICKS) throw new TimestampError(ticks, 'timestamp too large');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new TimestampError(offset, 'offset must be a non-negative integer');
    this.ticks = ticks;
    this.offset = offset;
  }

  /**
   * Parses the internal, normal or offset form, or a number of seconds.
   * @throws {TimestampError} for anything else, naming the value.
   */
  static parse(value: string | number): Timestamp {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TimestampError(value, 'not a finite number');
      if (value < 0) throw new TimestampError(value, 'timestamp cannot be negative');
      return new Timestamp(Math.round(value * TICKS_PER_SECOND));
    }
    const text = value.trim();
    const sep = text.indexOf('_');
    const base = sep === -1 ? text : text.slice(0, sep);
    let offset = 0;
    if (sep !== -1) {
      const hex = text.slice(sep + 1);
      if (!HEX_OFFSET.test(hex)) throw new TimestampError(value, 'offset must be up to 16 hex digits');
      offset = Number.parseInt(hex, 16);
      if (!Number.isSafeInteger(offset)) throw new TimestampError(value, 'offset too large');
    }
    return new Timestamp(parseTicks(base, value), offset);
  }

  /** The timestamp of a wall-clock reading in milliseconds. */
  static fromMillis(ms: number, offset = 0): Timestamp {
    return new Timestamp(Math.round(ms * (TICKS_PER_SECOND / 1000)), offset);
  }

  /** Seconds since the epoch, as a float (loses the offset). */
  get seconds(): number {
    return this.ticks / TICKS_PER_SECOND;
  }

  /** `1700000000.12345`: what `X-Timestamp` carries. */
  get normal(): string {
    const whole = Math.floor(this.ticks / TICKS_PER_SECOND);
    const frac = this.ticks % TICKS_PER_SECOND;
    return `${whole}.${String(frac).padStart(5, '0')}`;
  }

  /** `0001700000000.12345` padded to 16 characters, plus `_<hex offset>` when there is one. */
  get internal(): string {
    const base = this.normal.padStart(16, '0');
    return this.offset > 0 ? `${base}_${this.offset.toString(16).padStart(16, '0')}` : base;
  }

  /** `2023-11-14T22:13:20.123450`: the form of `last_modified` in listings (UTC, no zone). */
  get isoformat(): string {
    const ms = Math.floor(this.ticks / 100);
    const iso = new Date(ms).toISOString(); // 2023-11-14T22:13:20.123Z
    const micros = String((this.ticks % TICKS_PER_SECOND) * 10).padStart(6, '0');
    return `${iso.slice(0, 19)}.${micros}`;
  }

  /** Orders by time, then offset: negative, zero or positive as in `Array.sort`. */
  compare(other: Timestamp): number {
    return this.ticks - other.ticks || this.offset - other.offset;
  }

  equals(other: Timestamp): boolean {
    return this.ticks === other.ticks && this.offset === other.offset;
  }

  isNewerThan(other: Timestamp): boolean {
    return this.compare(other) > 0;
  }

  /**
   * Swift's `~Timestamp`: the time mirrored below 10^10 seconds, so later times sort first as
   * text (object versioning names versions by it).
   * @throws {TimestampError} for a timestamp with an offset.
   */
  get inverted(): Timestamp {
    if (this.offset > 0) throw new TimestampError(this.internal, 'cannot invert a timestamp with an offset');
    return new Timestamp(MAX_TICKS - 1 - this.ticks);
  }

  /** The same time with the given offset. */
  withOffset(offset: number): Timestamp {
    return new Timestamp(this.ticks, offset);
  }

  toString(): string {
    return this.internal;
  }

  toJSON(): string {
    return this.internal;
  }
}

/** Parses the time part exactly (no float rounding for the usual decimal forms). */
function parseTicks(text: string, original: string | number): number {
  const plain = PLAIN_DECIMAL.exec(text);
  if (plain && (plain[1] !== '' || (plain[2] ?? '') !== '')) {
    const whole = plain[1] === '' ? 0 : Number(plain[1]);
    const digits = plain[2] ?? '';
    let frac = Number(digits.slice(0, 5).padEnd(5, '0'));
    if (digits.length > 5 && digits.charCodeAt(5) >= 53 /* '5' */) frac += 1;
    const ticks = whole * TICKS_PER_SECOND + frac;
    if (whole >= 10_000_000_000 || ticks >= MAX_TICKS) throw new TimestampError(original, 'timestamp too large');
    return ticks;
  }
  // Exponent forms ("1.7e9") are what float() accepts too; anything else is garbage.
  if (/^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(text)) {
    const seconds = Number(text);
    if (seconds < 0) throw new TimestampError(original, 'timestamp cannot be negative');
    if (seconds >= 10_000_000_000) throw new TimestampError(original, 'timestamp too large');
    return Math.round(seconds * TICKS_PER_SECOND);
  }
  if (/^-/.test(text)) throw new TimestampError(original, 'timestamp cannot be negative');
  throw new TimestampError(original, 'not a number of seconds');
}
