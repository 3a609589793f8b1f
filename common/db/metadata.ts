import { type Constraints, DEFAULT_CONSTRAINTS } from '../constraints.ts';
import { ConstraintError } from '../errors.ts';

/**
 * A database's metadata as Swift keeps it: header name → `[value, timestamp]`, where the
 * timestamp (internal form) is when that key was last set. A key is removed by setting it to
 * `''`; the empty value stays (so an older set cannot resurrect it) until `reclaim` drops it.
 */
export type Metadata = Readonly<Record<string, readonly [value: string, timestamp: string]>>;

/**
 * Applies `updates` where they are newer than what is stored (newest timestamp wins per key).
 * @returns the merged metadata, or undefined when nothing changes.
 */
export function mergeMetadata(current: Metadata, updates: Metadata): Metadata | undefined {
  let merged: Record<string, readonly [string, string]> | undefined;
  for (const [key, entry] of Object.entries(updates)) {
    const old = current[key];
    if (old !== undefined && entry[1] <= old[1]) continue;
    merged ??= { ...current };
    merged[key] = [entry[0], entry[1]];
  }
  return merged;
}

/**
 * Swift's `validate_metadata`: the count and total size of the user metadata of a whole
 * database (not just one request) must stay within the limits.
 * @throws {ConstraintError} `bad_request` with Swift's message.
 */
export function checkMetadataTotals(metadata: Metadata, limits: Constraints = DEFAULT_CONSTRAINTS): void {
  let count = 0;
  let size = 0;
  for (const [key, [value]] of Object.entries(metadata)) {
    if (value === '') continue;
    const lower = key.toLowerCase();
    const prefix = lower.startsWith('x-account-meta-') ? 'x-account-meta-' : lower.startsWith('x-container-meta-') ? 'x-container-meta-' : undefined;
    if (prefix === undefined) continue;
    count += 1;
    size += Buffer.byteLength(key.slice(prefix.length)) + Buffer.byteLength(value);
  }
  if (count > limits.max_meta_count) throw new ConstraintError('bad_request', `Too many metadata items; max ${limits.max_meta_count}`);
  if (size > limits.max_meta_overall_size) throw new ConstraintError('bad_request', `Total metadata too large; max ${limits.max_meta_overall_size}`);
}

/** Every key set to `''` at `timestamp`: what deleting a database does to its metadata. */
export function clearMetadata(metadata: Metadata, timestamp: string): Metadata {
  const cleared: Record<string, readonly [string, string]> = {};
  for (const key of Object.keys(metadata)) cleared[key] = ['', timestamp];
  return cleared;
}

/**
 * Drops keys whose value is `''` and whose timestamp is older than `ageTimestamp`.
 * @returns the metadata without them, or undefined when none was dropped.
 */
export function reclaimMetadata(metadata: Metadata, ageTimestamp: string): Metadata | undefined {
  const kept: Record<string, readonly [string, string]> = {};
  let dropped = false;
  for (const [key, entry] of Object.entries(metadata)) {
    if (entry[0] === '' && entry[1] < ageTimestamp) dropped = true;
    else kept[key] = entry;
  }
  return dropped ? kept : undefined;
}

/** The keys with a value, for response headers. */
export function liveMetadata(metadata: Metadata): [string, string][] {
  return Object.entries(metadata)
    .filter(([, [value]]) => value !== '')
    .map(([key, [value]]) => [key, value]);
}
