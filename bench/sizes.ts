import { ScenarioError } from './bench-error.ts';

/**
 * Object sizes: parsing `4KiB`-style values and drawing sizes from a weighted distribution.
 * A distribution is a list of classes; each is one size (`min === max`) or a range drawn
 * uniformly, with a weight. A class is picked in proportion to its weight.
 */
export interface SizeClass {
  readonly min: number;
  readonly max: number;
  readonly weight: number;
}

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Swift's default max_file_size (5 GiB + 2 bytes); a single PUT cannot be larger anywhere. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 3 + 2;

/**
 * Parses a byte count: a non-negative integer, or a string such as `4KiB`, `1.5 MB`, `64MiB`
 * (KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024; case does not matter).
 * @throws {ScenarioError} naming `field` when the value is not a size.
 */
export function parseSize(value: unknown, field: string, source: string): number {
  let bytes: number;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
    if (!m || unit === undefined) throw new ScenarioError(source, field, value, 'not a size (use bytes, or a number with B, KB, KiB, MB, MiB, GB or GiB)');
    bytes = Math.round(Number(m[1]) * unit);
  } else throw new ScenarioError(source, field, value, 'must be a size: a number of bytes or a string like "4KiB"');
  if (!Number.isInteger(bytes) || bytes < 0) throw new ScenarioError(source, field, value, 'must be a whole, non-negative number of bytes');
  if (bytes > MAX_OBJECT_SIZE) throw new ScenarioError(source, field, value, `is larger than one object may be (${formatBytes(MAX_OBJECT_SIZE)})`);
  return bytes;
}

/** `4096` -> `4 KiB`, `1572864` -> `1.5 MiB`; exact byte counts under 1 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = i === 0 ? String(value) : Number(value.toFixed(value >= 100 ? 0 : 2)).toString();
  return `${text} ${units[i]}`;
}

/** A weighted set of size classes, ready to draw from. */
export class SizeDistribution {
  readonly classes: readonly SizeClass[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  /** @throws {RangeError} for an empty list, a class with `min > max`, or no positive weight. */
  constructor(classes: readonly SizeClass[]) {
    if (classes.length === 0) throw new RangeError('a size distribution needs at least one class');
    this.classes = classes;
    this.cumulative = new Float64Array(classes.length);
    let sum = 0;
    classes.forEach((c, i) => {
      if (c.min > c.max || c.weight < 0) throw new RangeError(`bad size class ${JSON.stringify(c)}`);
      sum += c.weight;
      this.cumulative[i] = sum;
    });
    if (sum <= 0) throw new RangeError('a size distribution needs a positive total weight');
    this.total = sum;
  }

  /** One fixed size. */
  static fixed(bytes: number): SizeDistribution {
    return new SizeDistribution([{ min: bytes, max: bytes, weight: 1 }]);
  }

  /** The largest size this distribution can draw (the body buffer is this big). */
  get maxSize(): number {
    return Math.max(...this.classes.map((c) => c.max));
  }

  /** The expected size of one draw, in bytes. */
  get meanSize(): number {
    return this.classes.reduce((sum, c) => sum + (c.weight / this.total) * ((c.min + c.max) / 2), 0);
  }

  /** Draws one size; `random` returns values in [0, 1) like `Math.random`. */
  pick(random: () => number): number {
    const c = this.classes[pickIndex(this.cumulative, this.total, random())] as SizeClass;
    if (c.min === c.max) return c.min;
    return c.min + Math.floor(random() * (c.max - c.min + 1));
  }
}

/**
 * The index whose cumulative-weight interval holds `r * total` (binary search), skipping
 * zero-weight entries. Shared with the operation mix.
 */
export function pickIndex(cumulative: Float64Array, total: number, r: number): number {
  const target = r * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
