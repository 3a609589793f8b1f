import type { HeaderBag } from '../constraints.ts';
import { parseHttpDate } from './http-date.ts';

/** Strips the quotes of a quoted entity tag, as swob's `normalize_etag` does. */
export function normalizeEtag(tag: string): string {
  return tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;
}

/** The tags of an `If-Match`/`If-None-Match` header, normalized; `*` stays `*`. */
export function parseMatch(header: string | undefined): Set<string> | undefined {
  if (header === undefined) return undefined;
  const tags = new Set<string>();
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if (tag !== '') tags.add(normalizeEtag(tag));
  }
  return tags;
}

function matches(tags: Set<string>, etag: string): boolean {
  return tags.has('*') || tags.has(normalizeEtag(etag));
}

/**
 * Swift's conditional response (swob `_get_conditional_response_status`), in its order:
 * If-None-Match match → 304; If-Match miss → 412; If-Match `*` with nothing there → 412;
 * not modified since If-Modified-Since → 304; modified since If-Unmodified-Since → 412.
 * Returns the status, or undefined to serve normally.
 */
export function conditionalStatus(headers: HeaderBag, entity: { exists: boolean; etag?: string; lastModified?: number }): 304 | 412 | undefined {
  const ifNoneMatch = parseMatch(headers['if-none-match']);
  const ifMatch = parseMatch(headers['if-match']);
  if (entity.exists && entity.etag !== undefined) {
    if (ifNoneMatch && matches(ifNoneMatch, entity.etag)) return 304;
    if (ifMatch && !matches(ifMatch, entity.etag)) return 412;
  }
  if (!entity.exists && ifMatch?.has('*')) return 412;
  if (entity.exists && entity.lastModified !== undefined) {
    const since = parseHttpDate(headers['if-modified-since']);
    if (since !== undefined && entity.lastModified <= since) return 304;
    const unmodified = parseHttpDate(headers['if-unmodified-since']);
    if (unmodified !== undefined && entity.lastModified > unmodified) return 412;
  }
  return undefined;
}
