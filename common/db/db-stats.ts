import { chexor, EMPTY_DB_HASH } from './chexor.ts';
import type { BaseRow, RowSchema } from './row-schema.ts';

/** Kept beside the rows and updated in the same batch. */
export interface DbStats {
  /** The highest row sequence handed out (Swift's max ROWID); -1 before the first row. */
  readonly max_row: number;
  /** XOR of the MD5s of every row (Swift's `hash`). */
  readonly hash: string;
  /** Per policy index, the sum of the rows' stats vectors. */
  readonly policies: Readonly<Record<string, readonly number[]>>;
}

/**
 * Stats being changed by a batch of row replacements: the sequence, the chexor hash and the
 * per-policy vectors move together, so one put of the result keeps them consistent.
 */
export class StatsAccumulator {
  private maxRow: number;
  private hash: string;
  private readonly policies: Record<string, number[]>;
  private readonly width: number;
  changed = false;

  constructor(stats: DbStats, width: number) {
    this.maxRow = stats.max_row;
    this.hash = stats.hash;
    this.policies = {};
    for (const [k, v] of Object.entries(stats.policies)) this.policies[k] = [...v];
    this.width = width;
  }

  nextSeq(): number {
    this.changed = true;
    this.maxRow += 1;
    return this.maxRow;
  }

  raiseSeq(seq: number): void {
    if (seq > this.maxRow) {
      this.maxRow = seq;
      this.changed = true;
    }
  }

  add<Row extends BaseRow>(schema: RowSchema<Row>, row: Row): void {
    this.apply(schema, row, 1);
  }

  remove<Row extends BaseRow>(schema: RowSchema<Row>, row: Row): void {
    this.apply(schema, row, -1);
  }

  private apply<Row extends BaseRow>(schema: RowSchema<Row>, row: Row, sign: 1 | -1): void {
    this.changed = true;
    const key = String(row.storage_policy_index);
    const vector = (this.policies[key] ??= new Array<number>(this.width).fill(0));
    schema.stats(row).forEach((v, i) => {
      vector[i] = (vector[i] ?? 0) + sign * v;
    });
    this.hash = chexor(this.hash, schema.identity(row));
  }

  result(): DbStats {
    return { max_row: this.maxRow, hash: this.hash, policies: this.policies };
  }
}

/** The stats of a database with no rows yet. */
export const EMPTY_STATS: DbStats = Object.freeze({ max_row: -1, hash: EMPTY_DB_HASH, policies: Object.freeze({}) });
