/** What every row has: an object row of a container, or a container row of an account. */
export interface BaseRow {
  readonly name: string;
  readonly deleted: 0 | 1;
  readonly storage_policy_index: number;
}

/** A row as replication sends it: with its sequence number in the sending database. */
export type WireRow<Row> = Row & { readonly ROWID: number };

/** How one kind of row is keyed, stored, counted and merged. */
export interface RowSchema<Row extends BaseRow> {
  /** Length of the per-policy stats vector (`[objects, bytes]`, `[containers, objects, bytes]`). */
  readonly statsWidth: number;
  /** The row key: rows with the same key are versions of one row, and the newest wins. */
  key(row: Row): string;
  encode(row: Row): unknown[];
  decode(rowKey: string, deleted: boolean, fields: readonly unknown[]): Row;
  /** What the row adds to the stats of its policy. */
  stats(row: Row): readonly number[];
  /** The text whose MD5 the database hash (chexor) folds in. */
  identity(row: Row): string;
  /** A deleted row older than the reclaim age (by this timestamp) is purged. */
  reclaimTimestamp(row: Row): string;
  /** Swift's merge rule: the row to store, or undefined when the existing row stays. */
  merge(existing: Row | undefined, incoming: Row): Row | undefined;
  /** Checks and normalizes a row received for replication. @throws {ReplicationRequestError} */
  fromWire(raw: unknown): Row & { readonly ROWID?: number };
}

/** The row without the `ROWID` replication adds. */
export function stripRowId<Row>(row: Row & { readonly ROWID?: number }): Row {
  if (!('ROWID' in row)) return row;
  const { ROWID: _, ...rest } = row;
  return rest as Row;
}
