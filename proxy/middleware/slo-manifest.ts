import { createHash } from 'node:crypto';
import { SwiftError } from '../../common/errors.ts';
import { listingToJson } from '../../common/listing-format.ts';
import { parseRange, type RangeSpec, rangesForLength } from '../../common/http/range.ts';
import { splitSegmentName } from './segment-path.ts';

/**
 * SLO manifests in their two forms, and the pure rules about them.
 *
 * - The *put form* is what a client sends with `?multipart-manifest=put`: a JSON list of
 *   `{"path", "etag"?, "size_bytes"?, "range"?}` (an object segment) or `{"data"}` (base64
 *   inline bytes).
 * - The *stored form* is what the manifest object holds (and `?multipart-manifest=get`
 *   returns): `{"name", "bytes", "hash", "content_type", "last_modified"[, "range"][, "sub_slo"]}`
 *   or `{"data"}`, written by this middleware after it checked every segment.
 */

/** Sysmeta of an SLO manifest: the large object's etag and size, so a HEAD needs no body. */
export const SYSMETA_SLO_ETAG = 'x-object-sysmeta-slo-etag';
export const SYSMETA_SLO_SIZE = 'x-object-sysmeta-slo-size';
/** The container listing's etag for the manifest: `<manifest md5>; slo_etag=<slo etag>`. */
export const OVERRIDE_ETAG = 'x-object-sysmeta-container-update-override-etag';

/** An object segment of the put form, after parsing. */
export interface PutObjectSegment {
  readonly path: string;
  readonly etag?: string;
  readonly size_bytes?: number;
  /** The one byte range of the segment to use, as sent (`M-N`, `M-`, `-N`). */
  readonly range?: RangeSpec;
}

/** An inline data segment; `data` is base64 with normalized padding. */
export interface DataSegment {
  readonly data: string;
}

/** One entry of a put-form manifest. */
export type PutSegment = PutObjectSegment | DataSegment;

/** An object segment of the stored form. */
export interface StoredObjectSegment {
  readonly name: string;
  readonly bytes: number;
  readonly hash: string;
  readonly content_type: string;
  readonly last_modified: string;
  /** `M-N`, inclusive, within the object; absent when the whole object is used. */
  readonly range?: string;
  /** The segment is itself an SLO manifest. */
  readonly sub_slo?: boolean;
}

/** One entry of a stored manifest. */
export type StoredSegment = StoredObjectSegment | DataSegment;

/** A stored segment with what a read needs: its length in the large object, and decoded data. */
export type AnnotatedSegment =
  | (StoredObjectSegment & { readonly segmentLength: number; readonly rangeStart: number })
  | { readonly raw: Buffer; readonly segmentLength: number };

/** A manifest sent with `multipart-manifest=put` is not acceptable; `problems` are Swift's lines. */
export class SloManifestError extends SwiftError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('SLO_MANIFEST_INVALID', problems.join('\n'));
    this.problems = problems;
  }
}

/** Whether a segment is inline data rather than an object. */
export function isDataSegment(segment: PutSegment | StoredSegment): segment is DataSegment {
  return 'data' in segment;
}

/**
 * Swift's `parse_and_validate_input`: parses a put-form manifest and checks what can be
 * checked without looking at the segments. `manifest` is the manifest's own
 * `/container/object`, which may not list itself.
 * @throws {SloManifestError} with Swift's messages, one per problem found.
 */
export function parsePutManifest(body: string, manifest: { container: string; object: string }): PutSegment[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SloManifestError(['Manifest must be valid JSON.']);
  }
  if (!Array.isArray(parsed)) throw new SloManifestError(['Manifest must be a list.']);
  const problems: string[] = [];
  const out: PutSegment[] = [];
  parsed.forEach((item: unknown, index: number) => {
    const result = parseSegment(item, index === parsed.length - 1, manifest);
    if (typeof result === 'string') problems.push(`Index ${index}: ${result}`);
    else out.push(result);
  });
  if (parsed.length > 0 && problems.length === 0 && out.every(isDataSegment)) problems.push('Inline data segments require at least one object-backed segment.');
  if (problems.length > 0) throw new SloManifestError(problems);
  return out;
}

const KEYS = { data: ['data'], path: ['path', 'range', 'etag', 'size_bytes'] } as const;

/** One segment description, or the problem with it. */
function parseSegment(item: unknown, isLast: boolean, manifest: { container: string; object: string }): PutSegment | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not a JSON object';
  const seg = item as Record<string, unknown>;
  const kind = 'data' in seg ? 'data' : 'path' in seg ? 'path' : undefined;
  if (!kind) return `expected keys to include one of 'data' or 'path'`;
  const extraneous = Object.keys(seg).filter((k) => !(KEYS[kind] as readonly string[]).includes(k)).sort();
  if (extraneous.length > 0) return `extraneous keys ${extraneous.map((k) => JSON.stringify(k)).join(', ')}`;
  if (kind === 'data') {
    const data = typeof seg['data'] === 'string' ? strictBase64(seg['data']) : undefined;
    if (!data) return 'data must be valid base64';
    if (data.length < 1) return 'too small; each segment must be at least 1 byte.';
    return { data: data.toString('base64') };
  }
  const path = seg['path'];
  if (typeof path !== 'string') return '"path" must be a string';
  const etag = seg['etag'];
  if (etag !== undefined && etag !== null && typeof etag !== 'string') return '"etag" must be a string or null (if provided)';
  const target = path.replace(/^\/+|\/+$/g, '').includes('/') ? splitSegmentName(path) : undefined;
  if (!target) return 'path does not refer to an object. Path must be of the form /container/object.';
  let size: number | undefined;
  if (seg['size_bytes'] !== undefined && seg['size_bytes'] !== null) {
    size = pythonInt(seg['size_bytes']);
    if (size === undefined) return 'invalid size_bytes';
    if (size < 1 && !isLast) return 'too small; each segment must be at least 1 byte.';
  }
  if (target.container === manifest.container && target.object === manifest.object) return 'manifest must not include itself as a segment';
  let range: RangeSpec | undefined;
  if (seg['range'] !== undefined && seg['range'] !== null && seg['range'] !== '') {
    const specs = typeof seg['range'] === 'string' ? parseRange(`bytes=${seg['range']}`) : undefined;
    if (!specs) return 'invalid range';
    if (specs.length > 1) return 'multiple ranges (only one allowed)';
    range = specs[0];
    if (size !== undefined && rangesForLength(specs, size)?.length !== 1) return 'unsatisfiable range';
  }
  return { path, ...(typeof etag === 'string' ? { etag } : {}), ...(size !== undefined ? { size_bytes: size } : {}), ...(range ? { range } : {}) };
}

/** Python's `int()` of a JSON value: integers, integral strings, floats truncated, booleans. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/** Swift's `strict_b64decode`: only base64 characters, correctly padded; undefined otherwise. */
export function strictBase64(value: string): Buffer | undefined {
  const unpadded = value.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(unpadded) || unpadded.length % 4 === 1 || value.length % 4 !== 0) return undefined;
  return Buffer.from(value, 'base64');
}

/**
 * The SLO's etag (Swift's `slo_etag`): the MD5 of each segment's contribution in order, its
 * etag; `<etag>:<range>;` for a ranged segment; the MD5 of the bytes of inline data.
 */
export function sloEtag(segments: readonly StoredSegment[]): string {
  const md5 = createHash('md5');
  for (const seg of segments) {
    if (isDataSegment(seg)) md5.update(createHash('md5').update(Buffer.from(seg.data, 'base64')).digest('hex'));
    else if (seg.range) md5.update(`${seg.hash}:${seg.range};`);
    else md5.update(seg.hash);
  }
  return md5.digest('hex');
}

/** The stored manifest as Python's `json.dumps` writes it (Swift's exact bytes and MD5). */
export function storedManifestJson(segments: readonly StoredSegment[]): string {
  return listingToJson(segments.map((seg) => ({ ...seg })));
}

/**
 * Parses a stored manifest.
 * @throws {SloManifestError} when it is not a JSON list of segments.
 */
export function parseStoredManifest(body: string): StoredSegment[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SloManifestError(['Unable to load SLO manifest']);
  }
  if (!Array.isArray(parsed) || parsed.some((s) => typeof s !== 'object' || s === null || (!('data' in s) && typeof (s as Record<string, unknown>)['name'] !== 'string'))) {
    throw new SloManifestError(['Unable to load SLO manifest']);
  }
  return (parsed as Record<string, unknown>[]).map((s) => {
    if ('data' in s) return { data: String(s['data']) };
    return {
      name: String(s['name']),
      bytes: Number(s['bytes']) || 0,
      hash: String(s['hash'] ?? ''),
      content_type: String(s['content_type'] ?? ''),
      last_modified: String(s['last_modified'] ?? ''),
      ...(typeof s['range'] === 'string' && s['range'] !== '' ? { range: s['range'] } : {}),
      ...(s['sub_slo'] === true || String(s['sub_slo']).toLowerCase() === 'true' ? { sub_slo: true } : {}),
    };
  });
}

/** Each segment's length in the large object, its range start, and decoded inline data. */
export function annotateSegments(segments: readonly StoredSegment[]): AnnotatedSegment[] {
  return segments.map((seg) => {
    if (isDataSegment(seg)) {
      const raw = Buffer.from(seg.data, 'base64');
      return { raw, segmentLength: raw.length };
    }
    const m = seg.range ? /^(\d+)-(\d+)$/.exec(seg.range) : null;
    if (m) return { ...seg, rangeStart: Number(m[1]), segmentLength: Number(m[2]) - Number(m[1]) + 1 };
    return { ...seg, rangeStart: 0, segmentLength: seg.bytes };
  });
}

/** The size and etag of an SLO from its segments (for manifests stored without the sysmeta). */
export function sloTotals(segments: readonly StoredSegment[]): { size: number; etag: string } {
  return { size: annotateSegments(segments).reduce((n, s) => n + s.segmentLength, 0), etag: sloEtag(segments) };
}

/**
 * The put form back from the stored form (`?multipart-manifest=get&format=raw`): `path`,
 * `etag`, `size_bytes` (and `range`), keys sorted as Swift's `json.dumps(sort_keys=True)`, so
 * the result can be PUT again as a manifest (server-side copy does).
 */
export function rawManifestJson(segments: readonly StoredSegment[]): string {
  return listingToJson(
    segments.map((seg) => {
      if (isDataSegment(seg)) return { data: seg.data };
      return { etag: seg.hash, path: seg.name, ...(seg.range ? { range: seg.range } : {}), size_bytes: seg.bytes };
    }),
  );
}
