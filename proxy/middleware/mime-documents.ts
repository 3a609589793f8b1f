import { SwiftError } from '../../common/errors.ts';

/**
 * A multipart MIME body read as a stream of documents, as Swift's
 * `iter_multipart_mime_documents` and `parse_mime_headers` read it (for FormPost):
 * 1. blank lines, then `--<boundary>` must open the body, or it is not one (MimeInvalidError);
 * 2. each document is header lines up to a blank line, then its body up to `\r\n--<boundary>`;
 * 3. `--` right after a boundary ends the body; so does the end of the stream (the last
 *    document then ends there, with no closing boundary).
 * Nothing is held in memory beyond the current chunk and a boundary's length: a file part of
 * any size streams through.
 */

/** The body does not start with its boundary (Swift's `MimeInvalid`). */
export class MimeInvalidError extends SwiftError {
  constructor(message: string) {
    super('MIME_INVALID', message);
  }
}

/** A document's header block is longer than any form sends. */
export class MimeHeadersTooLongError extends SwiftError {
  constructor(limit: number) {
    super('MIME_HEADERS_TOO_LONG', `MIME headers longer than ${limit} bytes`);
  }
}

/** One document: its headers (lower-case names) and its body, to read once. */
export interface MimeDocument {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterable<Uint8Array>;
}

/** Header blocks past this many bytes are refused rather than buffered. */
const MAX_HEADER_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

/** A pull reader over a chunk stream, keeping only what has not been taken. */
class Source {
  private buffer: Buffer = EMPTY;
  private readonly iterator: AsyncIterator<Uint8Array>;
  ended = false;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  get buffered(): Buffer {
    return this.buffer;
  }

  /** Reads until at least `size` bytes are buffered or the stream ends. */
  async fill(size: number): Promise<void> {
    while (this.buffer.length < size && !this.ended) {
      const step = await this.iterator.next();
      if (step.done) {
        this.ended = true;
        return;
      }
      if (step.value.length === 0) continue;
      const chunk = Buffer.from(step.value.buffer, step.value.byteOffset, step.value.length);
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    }
  }

  /** Reads at least one more chunk (false at the end). */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const before = this.buffer.length;
    await this.fill(before + 1);
    return this.buffer.length > before;
  }

  take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}

/**
 * The documents of a multipart body. Each document's body must be read (or left) before the
 * next is asked for; what is left unread is skipped.
 * @throws {MimeInvalidError} when the body does not open with `--<boundary>`.
 * @throws {MimeHeadersTooLongError} for a header block over 64 KiB.
 */
export async function* mimeDocuments(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<MimeDocument> {
  const source = new Source(body);
  const opening = Buffer.from(`--${boundary}`, 'utf8');
  // Swift reads the first line with readline(len(boundary) + 2), skipping blank lines.
  let line: Buffer;
  do {
    line = await readLine(source, opening.length + 2);
  } while (line.equals(CRLF));
  if (!Buffer.from(line.toString('latin1').trim(), 'latin1').equals(opening)) {
    throw new MimeInvalidError(`invalid starting boundary: wanted ${JSON.stringify(opening.toString())}, got ${JSON.stringify(line.toString('latin1'))}`);
  }
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'utf8');
  let last = false;
  while (!last) {
    const document = new DocumentReader(source, delimiter);
    const headers = await document.readHeaders();
    yield { headers, body: document.chunks() };
    for await (const _chunk of document.chunks()) {
      // skipped
    }
    last = document.last;
  }
}

/** Up to `max` bytes, through the next CRLF if it comes first (Python's `readline(max)`, on `\r\n`). */
async function readLine(source: Source, max: number): Promise<Buffer> {
  for (;;) {
    const end = source.buffered.indexOf(CRLF);
    if (end !== -1 && end + 2 <= max) return source.take(end + 2);
    if (source.buffered.length >= max) return source.take(max);
    if (!(await source.more())) return source.take(source.buffered.length);
  }
}

/** One document of the body: its header lines, then its bytes up to the delimiter. */
class DocumentReader {
  private readonly source: Source;
  private readonly delimiter: Buffer;
  private done = false;
  /** No document follows this one. */
  last = false;

  constructor(source: Source, delimiter: Buffer) {
    this.source = source;
    this.delimiter = delimiter;
  }

  /** Header lines up to a blank line (or the document's end), as Python's email parser reads them. */
  async readHeaders(): Promise<Record<string, string>> {
    const lines: string[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readLine();
      total += line.length;
      if (total > MAX_HEADER_BYTES) throw new MimeHeadersTooLongError(MAX_HEADER_BYTES);
      if (line.length === 0 || line.equals(CRLF) || (line.length === 1 && line[0] === 0x0a)) break;
      // Swift decodes each line as UTF-8, or latin-1 when it is not.
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(line);
      } catch {
        text = line.toString('latin1');
      }
      lines.push(text.replace(/\r?\n$/, ''));
    }
    const headers: Record<string, string> = {};
    let current: string | undefined;
    for (const text of lines) {
      if (/^[ \t]/.test(text) && current !== undefined) {
        headers[current] += ` ${text.trim()}`;
        continue;
      }
      const colon = text.indexOf(':');
      if (colon <= 0) continue;
      current = text.slice(0, colon).trim().toLowerCase();
      // The first of a repeated header wins, as with the email parser's get().
      if (headers[current] === undefined) headers[current] = text.slice(colon + 1).trim();
      else current = undefined;
    }
    return headers;
  }

  /** A line of this document: through CRLF, or up to the delimiter when it comes first. */
  private async readLine(): Promise<Buffer> {
    if (this.done) return EMPTY;
    for (;;) {
      const buffered = this.source.buffered;
      const newline = buffered.indexOf(CRLF);
      const boundary = buffered.indexOf(this.delimiter);
      if (newline !== -1 && (boundary === -1 || newline < boundary)) return this.source.take(newline + 2);
      if (boundary !== -1) return this.finish(boundary);
      if (buffered.length > MAX_HEADER_BYTES) return this.source.take(buffered.length);
      if (!(await this.source.more())) {
        this.done = true;
        this.last = true;
        return this.source.take(buffered.length);
      }
    }
  }

  /** The bytes before the delimiter at `at`; the delimiter and the two bytes after it go. */
  private async finish(at: number): Promise<Buffer> {
    const data = this.source.take(at);
    this.source.take(this.delimiter.length);
    await this.source.fill(2);
    this.last = this.source.buffered.subarray(0, 2).toString('latin1') === '--' || (this.source.ended && this.source.buffered.length === 0);
    this.source.take(Math.min(2, this.source.buffered.length));
    this.done = true;
    return data;
  }

  /** The body's bytes, chunk by chunk, up to the delimiter. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    while (!this.done) {
      await this.source.fill(this.delimiter.length + 2);
      const buffered = this.source.buffered;
      const at = buffered.indexOf(this.delimiter);
      if (at !== -1) {
        const data = await this.finish(at);
        if (data.length > 0) yield data;
        return;
      }
      if (this.source.ended) {
        this.done = true;
        this.last = true;
        const rest = this.source.take(buffered.length);
        if (rest.length > 0) yield rest;
        return;
      }
      // Keep what could be the start of a delimiter split across chunks.
      const safe = buffered.length - (this.delimiter.length - 1);
      if (safe > 0) yield this.source.take(safe);
      else await this.source.more();
    }
  }
}
