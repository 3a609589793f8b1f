import { ConstraintError } from '../errors.ts';

/**
 * Decodes a request path the way Swift's WSGI layer does (`unquote` to bytes, then
 * `check_utf8`): `%XX` escapes become bytes, a `%` not followed by two hex digits stays as it
 * is, and the bytes must be UTF-8 without NUL. An `internal` path (a storage server's, or a
 * proxy subrequest allowed reserved names) may hold NUL: `check_utf8(path, internal=True)`.
 * @throws {ConstraintError} `precondition` (Swift's 412 "Invalid UTF8 or contains NULL").
 */
export function decodePath(raw: string, internal = false): string {
  if (!raw.includes('%')) {
    if ((!internal && raw.includes('\u0000')) || !raw.isWellFormed()) throw new ConstraintError('precondition', 'Invalid UTF8 or contains NULL');
    return raw;
  }
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Node hands raw non-ASCII path bytes over one char per byte (latin-1).
      bytes.push(c & 0xff);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new ConstraintError('precondition', 'Invalid UTF8 or contains NULL');
  }
  if (!internal && text.includes('\u0000')) throw new ConstraintError('precondition', 'Invalid UTF8 or contains NULL');
  return text;
}

/**
 * Swift's `split_path`: `/a/b[/c...]` into `minSegs`..`maxSegs` segments; the last one keeps
 * any further `/` when `restWithLast`. Missing optional segments are undefined.
 * @throws {ConstraintError} `bad_request`: Swift's "Invalid path: ..." (400).
 */
export function splitPath(path: string, minSegs: number, maxSegs = minSegs, restWithLast = false): (string | undefined)[] {
  const segs = restWithLast ? splitLimited(path, maxSegs) : splitLimited(path, maxSegs + 1);
  const count = segs.length;
  const min = minSegs + 1;
  const max = maxSegs + 1;
  if (segs[0] !== '' || count < min) throw invalidPath(path);
  for (let i = 1; i < min; i++) if (segs[i] === '') throw invalidPath(path);
  if (restWithLast ? count > max : count > max + 1 || (count === max + 1 && segs[max] !== '')) throw invalidPath(path);
  // Every request's path is split here (twice or more in a proxy): no copies on the way.
  const out: (string | undefined)[] = [];
  for (let i = 1; i < max; i++) out.push(segs[i]);
  return out;
}

function invalidPath(path: string): ConstraintError {
  return new ConstraintError('bad_request', `Invalid path: ${encodeURI(path)}`);
}

/** Python's `str.split('/', n)`: at most `n` splits. */
function splitLimited(path: string, n: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (out.length < n) {
    const i = path.indexOf('/', start);
    if (i === -1) break;
    out.push(path.slice(start, i));
    start = i + 1;
  }
  out.push(path.slice(start));
  return out;
}

/**
 * Swift's `validate_device_partition`, plus: a partition must be a number, because the
 * databases are indexed by it.
 * @throws {ConstraintError} `bad_request`: "Invalid device: ..." / "Invalid partition: ..." (400).
 */
export function validateDevicePartition(device: string, partition: string): number {
  if (device === '' || device === '.' || device === '..' || device.includes('/')) {
    throw new ConstraintError('bad_request', `Invalid device: ${encodeURIComponent(device)}`);
  }
  if (!/^\d{1,10}$/.test(partition) || Number(partition) > 0xffffffff) {
    throw new ConstraintError('bad_request', `Invalid partition: ${encodeURIComponent(partition)}`);
  }
  return Number(partition);
}
