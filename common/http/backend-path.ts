import { InvalidPathError } from '../errors.ts';

/**
 * Swift's `split_path` for backend paths: splits `/a/b/c` into between `min` and `max`
 * percent-decoded segments. With `restWithLast` the last segment takes the rest of the path,
 * slashes included (object names). Required segments must not be empty; segments must be valid
 * UTF-8 without NUL.
 * @throws {InvalidPathError} with the reason.
 */
export function splitPath(rawPath: string, min: number, max: number, restWithLast = false): string[] {
  if (!rawPath.startsWith('/')) throw new InvalidPathError(rawPath, 'must start with /');
  let parts = rawPath.slice(1).split('/');
  if (restWithLast && parts.length > max) parts = [...parts.slice(0, max - 1), parts.slice(max - 1).join('/')];
  if (parts.length < min || parts.length > max) throw new InvalidPathError(rawPath, `expected ${min === max ? min : `${min} to ${max}`} segments`);
  const last = parts.length - 1;
  return parts.map((part, i) => {
    if (part === '' && (i < min || i !== last || !restWithLast)) throw new InvalidPathError(rawPath, 'empty segment');
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw new InvalidPathError(rawPath, 'invalid percent-encoding or UTF-8');
    }
    if (decoded.includes('\u0000')) throw new InvalidPathError(rawPath, 'contains NUL');
    return decoded;
  });
}

/** A partition segment: a non-negative integer. @throws {InvalidPathError} */
export function parsePartition(segment: string, rawPath: string): number {
  if (!/^\d+$/.test(segment) || !Number.isSafeInteger(Number(segment))) throw new InvalidPathError(rawPath, `invalid partition ${JSON.stringify(segment)}`);
  return Number(segment);
}
