import type { VolumeRecords, RecordKind } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeRequest } from './request.ts';

/** The body's `key` object. @throws 400 "Missing required element '<key>' in request body." */
export function bodyObject(req: VolumeRequest, key: string): Record<string, unknown> {
  const body = req.body as Record<string, unknown> | undefined;
  const inner = body && typeof body === 'object' ? body[key] : undefined;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new CinderError(400, `Missing required element '${key}' in request body.`);
  return inner as Record<string, unknown>;
}

/** An optional string field (null allowed). @throws 400 */
export function optionalString(obj: Record<string, unknown>, key: string, max = 255): string | null | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'string' || v.length > max) throw new CinderError(400, `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}.`);
  return v;
}

/** Cinder's boolean parsing (strutils.bool_from_string, strict). @throws 400 */
export function parseBool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
    if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  }
  throw new CinderError(400, `Invalid input received: ${key} must be a boolean, got '${String(v)}'.`);
}

/** Metadata: string keys and values (Cinder's metadata schema). @throws 400 */
export function metadataOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new CinderError(400, 'Invalid input for field/attribute metadata. Value: not a dict.');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string' || k.length === 0 || k.length > 255 || val.length > 255) throw new CinderError(400, `Invalid input for field/attribute metadata. Value: ${JSON.stringify(v)}.`);
    out[k] = val;
  }
  return out;
}

/** A positive whole number of GiB, as an int or its string (volume/api.py's check). */
export function parseSize(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CinderError(400, `Invalid input received: Invalid volume size provided for create request: ${String(v)} (size argument must be an integer (or string representation of an integer) and greater than zero).`);
  }
  return n;
}

/**
 * Cinder's list paging and sorting (`limit`, `marker`, `offset`, `sort` = `key[:dir],...` or
 * `sort_key`/`sort_dir`; default `created_at` descending). @throws 400 for a bad limit or an
 * unknown marker.
 */
export function page<T extends { id: string }>(req: VolumeRequest, rows: T[], notFound: (marker: string) => string): T[] {
  const sort = req.query.get('sort') ?? `${req.query.get('sort_key') ?? 'created_at'}:${req.query.get('sort_dir') ?? 'desc'}`;
  const keys = sort.split(',').map((part) => {
    const [key, dir = 'desc'] = part.split(':');
    if (dir !== 'asc' && dir !== 'desc') throw new CinderError(400, `Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
    return { key: key as string, dir };
  });
  const sorted = [...rows].sort((a, b) => {
    for (const { key, dir } of keys) {
      const x = (a as Record<string, unknown>)[key];
      const y = (b as Record<string, unknown>)[key];
      const c = String(x ?? '').localeCompare(String(y ?? ''), undefined, { numeric: typeof x === 'number' });
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return a.id.localeCompare(b.id);
  });
  let start = 0;
  const marker = req.query.get('marker');
  if (marker !== null) {
    const i = sorted.findIndex((r) => r.id === marker);
    if (i === -1) throw new CinderError(400, notFound(marker));
    start = i + 1;
  }
  const offset = req.query.get('offset');
  if (offset !== null) start += nonNegative(offset, 'offset');
  const limit = req.query.get('limit');
  return sorted.slice(start, limit === null ? undefined : start + nonNegative(limit, 'limit'));
}

function nonNegative(text: string, key: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new CinderError(400, `Invalid input received: ${key} must be an integer and greater than or equal to 0`);
  return n;
}

/** A record of the caller's (or any, for an admin) or 404 with Cinder's "could not be found". */
export async function findOwned<T extends { id: string; project_id: string }>(records: VolumeRecords, kind: RecordKind, req: VolumeRequest, id: string, what: string): Promise<T> {
  const ctx = req.context;
  const found = ctx ? await records.find<T>(kind, id, ctx.projectId, ctx.isAdmin) : undefined;
  if (!found) throw new CinderError(404, `${what} ${id} could not be found.`);
  return found;
}
