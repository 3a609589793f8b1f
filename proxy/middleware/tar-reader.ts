import { SwiftError } from '../../common/errors.ts';

/**
 * A streaming tar reader for extract-archive (what Python's `tarfile.open(mode='r|')` reads):
 * ustar and GNU headers, pax extended headers (`path`, `size`, xattrs) and GNU long names.
 * Entries come one at a time and a file's data is a stream of the request body itself, so an
 * archive of any size passes through with backpressure and never sits in memory.
 */

/** The archive is not a tar file, or ends early. Messages are `tarfile`'s. */
export class TarError extends SwiftError {
  constructor(message: string) {
    super('TAR_INVALID', message);
  }
}

/** One archive member. */
export interface TarEntry {
  /** The member's name, as bytes (tar names need not be UTF-8). */
  readonly name: Buffer;
  readonly size: number;
  /** Regular file (types `0`, NUL, `7`); directories, links, devices are not. */
  readonly isFile: boolean;
  /** The pax extended header records that applied to it (keys and values as UTF-8 text). */
  readonly pax: Readonly<Record<string, string>>;
  /** The member's data (`size` bytes). Read it or not: the reader skips what is left. */
  readonly data: AsyncIterable<Uint8Array>;
}

const BLOCK = 512;

/** Pulls exact byte counts from a stream of chunks. */
class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes (fewer only at the end; empty at the end). */
  async some(max: number): Promise<Buffer> {
    while (this.buffered.length === 0 && !this.ended) {
      const step = await this.iterator.next();
      if (step.done) this.ended = true;
      else this.buffered = Buffer.from(step.value);
    }
    const out = this.buffered.subarray(0, max);
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.some(n - got);
      if (part.length === 0) break;
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** A NUL-terminated field. */
function field(block: Buffer, start: number, length: number): Buffer {
  const raw = block.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return nul === -1 ? raw : raw.subarray(0, nul);
}

/** `tarfile.nti`: octal digits (space/NUL padded), or GNU base-256 when the top bit is set. */
function number(block: Buffer, start: number, length: number): number {
  const raw = block.subarray(start, start + length);
  if (((raw[0] as number) & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < raw.length; i++) n = n * 256 + (raw[i] as number);
    return (raw[0] as number) === 0xff ? -n : n;
  }
  const text = field(block, start, length).toString('latin1').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError('invalid header');
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = number(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** Pax records: `"<length> <key>=<value>\n"`, repeated. */
function parsePax(data: Buffer, into: Record<string, string>): void {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new TarError('invalid header');
    const record = data.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq !== -1) into[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString('utf8');
    at += length;
  }
}

/**
 * The members of a tar stream, in order. No data at all, or a bad first header, is a
 * `TarError` (`empty file`, `invalid header`, `bad checksum`); a zero block, or after a good
 * member a header that does not parse, ends the archive, as with `tarfile`. Data cut short is `unexpected end of data`.
 * @throws {TarError}
 */
export async function* readTar(body: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const source = new ByteSource(body);
  let first = true;
  let globalPax: Record<string, string> = {};
  try {
    for (;;) {
      let pax: Record<string, string> = { ...globalPax };
      let longName: Buffer | undefined;
      let header: Buffer;
      let type: string;
      // Extension headers (pax, GNU long name) describe the next real header.
      for (;;) {
        header = await source.exactly(BLOCK);
        if (header.length === 0) {
          if (first) throw new TarError('empty file');
          return;
        }
        if (header.length < BLOCK) {
          if (first) throw new TarError('truncated header');
          return;
        }
        // A zero block ends the archive (at the start: an empty one, not an error).
        if (header.every((b) => b === 0)) return;
        let size: number;
        try {
          if (!checksumOk(header)) throw new TarError('bad checksum');
          size = number(header, 124, 12);
        } catch (err) {
          // Only a bad first header is an error; later, tarfile takes it as the end.
          if (first) throw err;
          return;
        }
        type = String.fromCharCode(header[156] as number);
        if (type !== 'x' && type !== 'g' && type !== 'L' && type !== 'K') break;
        const data = await source.exactly(size);
        if (data.length < size) throw new TarError('unexpected end of data');
        await source.exactly((BLOCK - (size % BLOCK)) % BLOCK);
        if (type === 'x') parsePax(data, pax);
        else if (type === 'g') {
          globalPax = { ...globalPax };
          parsePax(data, globalPax);
          pax = { ...globalPax, ...pax };
        } else if (type === 'L') longName = field(data, 0, data.length);
      }
      first = false;
      const magic = header.subarray(257, 263).toString('latin1');
      const prefix = magic === 'ustar\u0000' ? field(header, 345, 155) : Buffer.alloc(0);
      let name = field(header, 0, 100);
      if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
      if (longName) name = longName;
      if (pax['path'] !== undefined) name = Buffer.from(pax['path'], 'utf8');
      let size = number(header, 124, 12);
      if (pax['size'] !== undefined && /^\d+$/.test(pax['size'])) size = Number(pax['size']);
      const isFile = type === '0' || type === '\u0000' || type === '7';
      // Directories and links carry no data even when a size is set.
      const dataSize = isFile || !['1', '2', '3', '4', '5', '6'].includes(type) ? size : 0;
      let remaining = dataSize;
      const data: AsyncIterable<Uint8Array> = {
        async *[Symbol.asyncIterator]() {
          while (remaining > 0) {
            const chunk = await source.some(Math.min(remaining, 64 * 1024));
            if (chunk.length === 0) throw new TarError('unexpected end of data');
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { name, size, isFile, pax, data };
      while (remaining > 0) {
        const chunk = await source.some(Math.min(remaining, 64 * 1024));
        if (chunk.length === 0) throw new TarError('unexpected end of data');
        remaining -= chunk.length;
      }
      await source.exactly((BLOCK - (dataSize % BLOCK)) % BLOCK);
    }
  } finally {
    await source.close();
  }
}
