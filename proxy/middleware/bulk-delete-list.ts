import { HttpError } from '../../common/http/http-error.ts';
import { percentDecode } from './url-quote.ts';

/** Limits on a bulk-delete body (Swift's `max_deletes_per_request`, `MAX_PATH_LENGTH`). */
export interface DeleteListLimits {
  /** Most names one request may list (Swift: 10,000). */
  readonly maxDeletes: number;
  /** Longest `/container/object` path (Swift: object + container name limits + 2). */
  readonly maxPathLength: number;
}

const NEWLINE = 0x0a;

/** Python's `bytes.strip()`: ASCII whitespace off both ends. */
function strip(bytes: Buffer): Buffer {
  const ws = (b: number | undefined): boolean => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
  let start = 0;
  let end = bytes.length;
  while (start < end && ws(bytes[start])) start++;
  while (end > start && ws(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

/**
 * Reads a bulk-delete body (Swift's `get_objs_to_delete`): newline-separated, URL-encoded
 * `/container/object` or `/container` names. Each line is stripped of whitespace and unquoted
 * at the byte level, so a name that is not UTF-8 is kept as sent and reported, not refused
 * wholesale. Blank lines count toward the limit as in Swift (they are skipped later); a blank
 * last line does not. Names are returned as bytes.
 * @throws {HttpError} 413 `Maximum Bulk Deletes: N per request` past the limit (the rest of the
 * body is not read); 400 `Invalid File Name` for a line longer than twice the longest path.
 */
export async function readDeleteList(body: AsyncIterable<Uint8Array>, limits: DeleteListLimits): Promise<Buffer[]> {
  const names: Buffer[] = [];
  let pending = Buffer.alloc(0);
  const take = (line: Buffer): void => {
    names.push(percentDecode(strip(line)));
    if (names.length > limits.maxDeletes) throw new HttpError(413, `Maximum Bulk Deletes: ${limits.maxDeletes} per request`);
  };
  for await (const chunk of body) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    let from = 0;
    for (let at = pending.indexOf(NEWLINE, from); at !== -1; at = pending.indexOf(NEWLINE, from)) {
      take(pending.subarray(from, at));
      from = at + 1;
    }
    pending = pending.subarray(from);
    if (pending.length > limits.maxPathLength * 2) throw new HttpError(400, 'Invalid File Name');
  }
  const last = percentDecode(strip(pending));
  if (last.length > 0) {
    names.push(last);
    if (names.length > limits.maxDeletes) throw new HttpError(413, `Maximum Bulk Deletes: ${limits.maxDeletes} per request`);
  }
  return names;
}
