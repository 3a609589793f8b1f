import { ConstraintError } from './errors.ts';

/**
 * Swift's constraints (swift/common/constraints.py defaults), in one place for the proxy and
 * the storage servers. `/info` publishes them, so clients size their requests by them.
 */
export interface Constraints {
  readonly max_file_size: number;
  readonly max_meta_name_length: number;
  readonly max_meta_value_length: number;
  readonly max_meta_count: number;
  readonly max_meta_overall_size: number;
  readonly max_header_size: number;
  readonly max_object_name_length: number;
  readonly container_listing_limit: number;
  readonly account_listing_limit: number;
  readonly max_account_name_length: number;
  readonly max_container_name_length: number;
  readonly extra_header_count: number;
  readonly valid_api_versions: readonly string[];
}

export const DEFAULT_CONSTRAINTS: Constraints = Object.freeze({
  max_file_size: 5_368_709_122,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10_000,
  account_listing_limit: 10_000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  extra_header_count: 0,
  valid_api_versions: Object.freeze(['v1', 'v1.0']),
});

/** Header lookup by lower-case name, as servers receive them (values are latin-1 byte strings). */
export type HeaderBag = Readonly<Record<string, string | undefined>>;

export type MetadataTarget = 'account' | 'container' | 'object';

/**
 * Node hands header values over as latin-1 strings (one char per byte), as WSGI does, so
 * `.length` is the byte length Swift's limits count. This turns one into the UTF-8 text it
 * carries, or `undefined` when the bytes are not valid UTF-8.
 */
export function headerToUtf8(value: string): string | undefined {
  const bytes = Buffer.from(value, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && !text.includes('\uFFFD') ? text : undefined;
}

/**
 * Swift's `check_utf8`: valid UTF-8 without NUL; an `internal` name (reserved names allowed)
 * may hold NUL. Takes a JS (already decoded) string.
 */
export function isValidUtf8Name(text: string, internal = false): boolean {
  return (internal || !text.includes('\u0000')) && text.isWellFormed();
}

/**
 * Swift's `check_metadata`: name and value lengths, count and total size of the
 * `X-<target>-Meta-*` headers, and every header's size.
 * @throws {ConstraintError} `bad_request`, with Swift's message.
 */
export function checkMetadata(headers: HeaderBag, target: MetadataTarget, limits: Constraints = DEFAULT_CONSTRAINTS): void {
  const prefix = `x-${target}-meta-`;
  let count = 0;
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (value.length > limits.max_header_size) {
      throw new ConstraintError('bad_request', `Header value too long: ${name.slice(0, limits.max_meta_name_length)}`);
    }
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    if (key === '') throw new ConstraintError('bad_request', 'Metadata name cannot be empty');
    if (target !== 'object' && (headerToUtf8(key) === undefined || (value !== '' && headerToUtf8(value) === undefined))) {
      throw new ConstraintError('bad_request', 'Metadata must be valid UTF-8');
    }
    count += 1;
    size += key.length + value.length;
    if (key.length > limits.max_meta_name_length) {
      throw new ConstraintError('bad_request', `Metadata name too long: ${prefix}${key}`);
    }
    if (value.length > limits.max_meta_value_length) {
      throw new ConstraintError('bad_request', `Metadata value longer than ${limits.max_meta_value_length}: ${prefix}${key}`);
    }
    if (count > limits.max_meta_count) {
      throw new ConstraintError('bad_request', `Too many metadata items; max ${limits.max_meta_count}`);
    }
    if (size > limits.max_meta_overall_size) {
      throw new ConstraintError('bad_request', `Total metadata too large; max ${limits.max_meta_overall_size}`);
    }
  }
}

/**
 * The size checks of Swift's `check_object_creation` (with swob's `message_length`): a
 * `Transfer-Encoding` must be exactly `chunked` (a list of codings is 501, another coding
 * 400); without it a `Content-Length` is required (411), must be an integer (400) and must
 * fit `max_file_size` (413).
 * @throws {ConstraintError} `not_implemented`, `bad_request`, `too_large` or `length_required`.
 */
export function checkObjectSize(headers: HeaderBag, limits: Constraints = DEFAULT_CONSTRAINTS): void {
  const te = headers['transfer-encoding'];
  const chunked = te !== undefined && te !== '';
  if (chunked) {
    const codings = te.split(',');
    if (codings.length > 1) throw new ConstraintError('not_implemented', 'Unsupported Transfer-Coding header value specified in Transfer-Encoding header');
    if (te.toLowerCase() !== 'chunked') throw new ConstraintError('bad_request', 'Invalid Transfer-Encoding header value');
    return;
  }
  const length = headers['content-length'];
  if (length === undefined) throw new ConstraintError('length_required', 'Missing Content-Length header.');
  if (!/^\s*\+?\d+\s*$/.test(length)) throw new ConstraintError('bad_request', 'Invalid Content-Length header value');
  if (Number(length) > limits.max_file_size) throw new ConstraintError('too_large', 'Your request is too large.');
}

/** Object names: length in UTF-8 bytes, valid UTF-8, no NUL unless `internal` (reserved names allowed). */
export function checkObjectName(name: string, limits: Constraints = DEFAULT_CONSTRAINTS, internal = false): void {
  if (name === '') throw new ConstraintError('bad_request', 'Object name cannot be empty');
  if (!isValidUtf8Name(name, internal)) throw new ConstraintError('bad_request', 'Invalid UTF8 or contains NULL');
  const length = Buffer.byteLength(name);
  if (length > limits.max_object_name_length) {
    throw new ConstraintError('bad_request', `Object name length of ${length} longer than ${limits.max_object_name_length}`);
  }
}

/** Container names: not empty, no `/`, valid UTF-8, within `max_container_name_length` bytes. */
export function checkContainerName(name: string, limits: Constraints = DEFAULT_CONSTRAINTS, internal = false): void {
  if (name === '') throw new ConstraintError('bad_request', 'Container name cannot be empty');
  if (name.includes('/')) throw new ConstraintError('bad_request', 'Container name cannot contain slashes');
  if (!isValidUtf8Name(name, internal)) throw new ConstraintError('bad_request', 'Invalid UTF8 or contains NULL');
  const length = Buffer.byteLength(name);
  if (length > limits.max_container_name_length) {
    throw new ConstraintError('bad_request', `Container name length of ${length} longer than ${limits.max_container_name_length}`);
  }
}

/** Account names: not empty, no `/`, valid UTF-8, within `max_account_name_length` bytes. */
export function checkAccountName(name: string, limits: Constraints = DEFAULT_CONSTRAINTS, internal = false): void {
  if (name === '') throw new ConstraintError('bad_request', 'Account name cannot be empty');
  if (name.includes('/')) throw new ConstraintError('bad_request', 'Account name cannot contain slashes');
  if (!isValidUtf8Name(name, internal)) throw new ConstraintError('bad_request', 'Invalid UTF8 or contains NULL');
  const length = Buffer.byteLength(name);
  if (length > limits.max_account_name_length) {
    throw new ConstraintError('bad_request', `Account name length of ${length} longer than ${limits.max_account_name_length}`);
  }
}

/** Python's `int()` of a header: optional sign and surrounding blanks. */
const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Swift's `normalize_delete_at_timestamp`: whole seconds, clamped to 0..9999999999. */
function normalizeDeleteAt(seconds: number): number {
  return Math.floor(Math.min(Math.max(0, seconds), 9_999_999_999));
}

/**
 * Swift's `check_delete_headers`: turns `X-Delete-After` into an absolute `X-Delete-At`
 * (seconds) and checks both. Both must be integers; a time beyond 9999999999 (even 100
 * digits of one) is taken as 9999999999, as Swift does. Returns the delete-at time, or
 * undefined when neither is set.
 * @throws {ConstraintError} `bad_request` for a non-integer value or a time not in the future.
 */
export function deleteAtFrom(headers: HeaderBag, nowSeconds: number): number | undefined {
  const after = headers['x-delete-after'];
  if (after !== undefined) {
    if (!INTEGER.test(after)) throw new ConstraintError('bad_request', 'Non-integer X-Delete-After');
    const at = normalizeDeleteAt(nowSeconds + Number(after));
    if (at <= nowSeconds) throw new ConstraintError('bad_request', 'X-Delete-After in past');
    return at;
  }
  const given = headers['x-delete-at'];
  if (given === undefined) return undefined;
  if (!INTEGER.test(given)) throw new ConstraintError('bad_request', 'Non-integer X-Delete-At');
  const at = normalizeDeleteAt(Number(given));
  if (at <= nowSeconds) throw new ConstraintError('bad_request', 'X-Delete-At in past');
  return at;
}
