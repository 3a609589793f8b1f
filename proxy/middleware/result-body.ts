import { ConstraintError } from '../../common/errors.ts';
import { listingContentType } from '../../common/listing-format.ts';

/**
 * The result bodies of requests that act on many objects (Swift's bulk `get_response_body`),
 * which SLO uses too: the errors of a manifest PUT, the outcome of `multipart-manifest=delete`
 * and of a PUT with `heartbeat=on`. Clients parse them, so the shape is Swift's to the byte.
 */

/** The formats such a body comes in (Swift's `ACCEPTABLE_FORMATS`). */
export type ResultFormat = 'text/plain' | 'application/json' | 'application/xml' | 'text/xml';

/** One failed object: its quoted path and a status line or message. */
export type ResultError = readonly [name: string, status: string];

/**
 * The format for an `Accept` header (swob's `best_match` over the four formats); undefined
 * when the header is malformed or accepts none of them.
 */
export function resultFormat(accept: string | undefined): ResultFormat | undefined {
  try {
    return listingContentType(undefined, accept);
  } catch (err) {
    if (err instanceof ConstraintError) return undefined;
    throw err;
  }
}

/**
 * The body: JSON as Python's `json.dumps` (keys in the order given, then `Errors`), XML
 * under `<root>` (no declaration), plain text as sorted `Key: value` lines then `Errors:` and
 * one `name, status` line per error.
 */
export function resultBody(format: ResultFormat | undefined, fields: Readonly<Record<string, string | number>>, errors: readonly ResultError[], root: string): string {
  if (format === 'application/json') {
    const parts = Object.entries(fields).map(([k, v]) => `${pyJson(k)}: ${typeof v === 'number' ? String(v) : pyJson(v)}`);
    parts.push(`"Errors": [${errors.map(([name, status]) => `[${pyJson(name)}, ${pyJson(status)}]`).join(', ')}]`);
    return `{${parts.join(', ')}}`;
  }
  const keys = Object.keys(fields).sort();
  if (format?.endsWith('/xml')) {
    let out = `<${root}>\n`;
    for (const key of keys) {
      const tag = key.replace(/ /g, '_').toLowerCase();
      out += `<${tag}>${escapeXml(String(fields[key]))}</${tag}>\n`;
    }
    out += '<errors>\n';
    for (const [name, status] of errors) out += `<object><name>${escapeXml(name)}</name><status>${escapeXml(status)}</status></object>\n`;
    return `${out}</errors>\n</${root}>\n`;
  }
  let out = '';
  for (const key of keys) out += `${key}: ${String(fields[key])}\n`;
  out += 'Errors:\n';
  for (const [name, status] of errors) out += `${name}, ${status}\n`;
  return out;
}

/** Python's `json.dumps` of a string (`ensure_ascii`: everything outside space..`~` escaped). */
function pyJson(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `xml.sax.saxutils.escape`. */
function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A result body that keeps the connection alive while `work` runs (Swift's bulk and SLO
 * heartbeats): every `intervalMs` it sends whitespace (`firstBeat` the first time, e.g. the
 * XML declaration), then the result, after a blank line if anything was sent before it.
 * With `beatAtOnce` the first beat goes out immediately (SLO's `heartbeat=on` answers 202 at once).
 */
export async function* keepAliveBody(work: Promise<string>, options: { intervalMs: number; sleep: (ms: number, signal: AbortSignal) => Promise<void>; beatAtOnce?: boolean; firstBeat?: string }): AsyncGenerator<Uint8Array> {
  let result: { text: string } | undefined;
  let failure: { error: unknown } | undefined;
  const settled = work.then(
    (text) => {
      result = { text };
    },
    (error: unknown) => {
      failure = { error };
    },
  );
  let beats = 0;
  const beat = (): Uint8Array => Buffer.from(beats++ === 0 ? (options.firstBeat ?? ' ') : ' ');
  if (options.beatAtOnce) yield beat();
  while (!result && !failure) {
    const tick = new AbortController();
    await Promise.race([settled, options.sleep(options.intervalMs, tick.signal).catch(() => undefined)]);
    tick.abort();
    if (!result && !failure) yield beat();
  }
  if (failure) throw failure.error;
  yield Buffer.from(`${beats > 0 ? '\r\n\r\n' : ''}${result?.text ?? ''}`);
}
