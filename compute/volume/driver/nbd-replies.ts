import { NBD_EIO, NbdError } from './nbd-error.ts';
import type { Sink } from './nbd-socket.ts';

/**
 * The reply side of an NBD connection's transmission phase (doc/proto.md "Simple reply message",
 * "Structured reply chunk message"): a parser fed the socket's bytes, which matches each reply to
 * its request by cookie, puts a read's data and holes into its buffer and a block status's
 * extents into its list, and settles the request when its last chunk is in.
 */

const SIMPLE_REPLY_MAGIC = 0x67446698;
const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

export const CMD_READ = 0;

const REPLY_FLAG_DONE = 1;
const REPLY_TYPE_NONE = 0;
const REPLY_TYPE_OFFSET_DATA = 1;
const REPLY_TYPE_OFFSET_HOLE = 2;
const REPLY_TYPE_BLOCK_STATUS = 5;
const REPLY_TYPE_ERROR_BIT = 1 << 15;

/**
 * The largest chunk gathered whole (block status, errors): a server asking for more is broken.
 * Block status over 2 GiB in 512-byte extents would be 32 MiB.
 */
const MAX_CHUNK_PAYLOAD = 64 * 1024 * 1024;
/** Data regions shorter than this are read through the scratch buffer, not one read() each. */
const DIRECT_READ_MIN = 16 * 1024;

export interface NbdExtent {
  offset: number;
  length: number;
  flags: number;
}

/** A request sent and not yet answered. */
export interface Pending {
  readonly command: number;
  readonly offset: number;
  readonly length: number;
  /** A read's destination: exactly `length` bytes. */
  readonly target?: Uint8Array;
  /** A block status request's context id and where its extents go. */
  readonly contextId?: number;
  readonly extents?: NbdExtent[];
  error?: NbdError;
  resolve(): void;
  reject(error: NbdError): void;
}

/** Where the parser is in the reply stream: a reply's header, */
const State = {
  Header: 0,
  /** a structured OFFSET_DATA chunk's 8-byte offset, */
  DataOffset: 1,
  /** payload bytes going into a read's target, */
  Data: 2,
  /** any other structured chunk's payload, gathered whole. */
  Payload: 3,
} as const;
type State = (typeof State)[keyof typeof State];

function u64(view: Uint8Array, at: number): number {
  const v = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return v.readUInt32BE(at) * 2 ** 32 + v.readUInt32BE(at + 4);
}

const EMPTY = Buffer.alloc(0);

function commandName(command: number): string {
  return ['read', 'write', 'disconnect', 'flush', 'trim', 'cache', 'write zeroes', 'block status'][command] ?? `command ${command}`;
}

export class NbdReplies implements Sink {
  readonly #structured: boolean;
  /** Called once the server breaks the protocol: nothing after that can be trusted. */
  readonly #onBroken: (error: NbdError) => void;
  readonly #pending = new Map<number, Pending>();
  #stopped = false;

  #state: State = State.Header;
  readonly #head = Buffer.alloc(20);
  #headHave = 0;
  #headNeed = 4;
  #current: Pending | undefined;
  #currentCookie = 0;
  #chunkFlags = 0;
  #chunkType = 0;
  #chunkLength = 0;
  /** Data state: where the bytes go and how many are still to come. */
  #dataTarget: Uint8Array | undefined;
  #dataPos = 0;
  #dataLeft = 0;
  /** Payload state. */
  #payload = EMPTY;
  #payloadHave = 0;

  constructor(structured: boolean, onBroken: (error: NbdError) => void) {
    this.#structured = structured;
    this.#onBroken = onBroken;
  }

  /** Waits for the reply to `cookie`. */
  expect(cookie: number, pending: Pending): void {
    this.#pending.set(cookie, pending);
  }

  /** Rejects every request waiting with `error` and takes no more bytes (the connection is gone). */
  failAll(error: NbdError): void {
    this.#stopped = true;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#state = State.Header;
    this.#dataTarget = undefined;
    for (const p of pending) p.reject(error);
  }

  readBuffer(scratch: Buffer): Uint8Array {
    return this.#readBuffer(scratch);
  }

  directReceived(n: number): void {
    this.#dataDone(n);
  }

  feed(bytes: Uint8Array): void {
    this.#feed(bytes);
  }

  /** A protocol violation by the server: nothing after it can be trusted. */
  #broken(reason: string): void {
    const error = new NbdError(NBD_EIO, `server broke the protocol: ${reason}`);
    this.failAll(error);
    this.#onBroken(error);
  }

  #finish(p: Pending): void {
    if (p.error !== undefined) p.reject(p.error);
    else p.resolve();
  }

  /**
   * Where the socket's next read goes: the rest of a read's data straight into its target; a
   * reply's header (and a data chunk's offset) alone, so the data after it is not read into
   * scratch and copied (that was a quarter of the bytes with 256 KiB scratch reads).
   */
  #readBuffer(scratch: Buffer): Uint8Array {
    const header = this.#structured ? 28 : 16;
    switch (this.#state) {
      case State.Data:
        if (this.#dataTarget !== undefined && this.#dataLeft >= DIRECT_READ_MIN) return this.#dataTarget.subarray(this.#dataPos, this.#dataPos + this.#dataLeft);
        return scratch.subarray(0, Math.min(scratch.length, this.#dataLeft + header));
      case State.Header:
        return this.#pending.size > 0 ? scratch.subarray(0, header - this.#headHave) : scratch;
      case State.DataOffset:
        return scratch.subarray(0, 8 - this.#headHave);
      default:
        return scratch;
    }
  }

  /** `n` bytes landed in the data target (directly or copied). */
  #dataDone(n: number): void {
    this.#dataPos += n;
    this.#dataLeft -= n;
    if (this.#dataLeft === 0) this.#endChunk();
  }

  #feed(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length && !this.#stopped) {
      switch (this.#state) {
        case State.Header: {
          const take = Math.min(this.#headNeed - this.#headHave, bytes.length - at);
          this.#head.set(bytes.subarray(at, at + take), this.#headHave);
          this.#headHave += take;
          at += take;
          if (this.#headHave === this.#headNeed) this.#onHeaderBytes();
          break;
        }
        case State.DataOffset: {
          const take = Math.min(8 - this.#headHave, bytes.length - at);
          this.#head.set(bytes.subarray(at, at + take), this.#headHave);
          this.#headHave += take;
          at += take;
          if (this.#headHave === 8) this.#onDataOffset();
          break;
        }
        case State.Data: {
          const take = Math.min(this.#dataLeft, bytes.length - at);
          this.#dataTarget?.set(bytes.subarray(at, at + take), this.#dataPos);
          at += take;
          this.#dataDone(take);
          break;
        }
        case State.Payload: {
          const take = Math.min(this.#payload.length - this.#payloadHave, bytes.length - at);
          this.#payload.set(bytes.subarray(at, at + take), this.#payloadHave);
          this.#payloadHave += take;
          at += take;
          if (this.#payloadHave === this.#payload.length) this.#onPayload();
          break;
        }
      }
    }
  }

  #onHeaderBytes(): void {
    const magic = this.#head.readUInt32BE(0);
    if (this.#headNeed === 4) {
      if (magic === SIMPLE_REPLY_MAGIC) this.#headNeed = 16;
      else if (magic === STRUCTURED_REPLY_MAGIC && this.#structured) this.#headNeed = 20;
      else {
        this.#broken(`reply magic 0x${magic.toString(16)}`);
        return;
      }
      return;
    }
    const cookieHigh = this.#head.readUInt32BE(8);
    const cookie = this.#head.readUInt32BE(12);
    const p = cookieHigh === 0 ? this.#pending.get(cookie) : undefined;
    if (p === undefined) {
      this.#broken(`reply to unknown cookie ${cookieHigh}:${cookie}`);
      return;
    }
    this.#current = p;
    this.#currentCookie = cookie;
    this.#headHave = 0;
    this.#headNeed = 4;
    if (magic === SIMPLE_REPLY_MAGIC) {
      const errno = this.#head.readUInt32BE(4);
      this.#chunkFlags = REPLY_FLAG_DONE;
      if (errno !== 0) p.error = new NbdError(errno, `${commandName(p.command)} of ${p.length} bytes at ${p.offset} failed`);
      if (p.command === CMD_READ && errno === 0 && p.length > 0) {
        this.#startData(p.target, 0, p.length);
        return;
      }
      this.#endChunk();
      return;
    }
    this.#chunkFlags = this.#head.readUInt16BE(4);
    this.#chunkType = this.#head.readUInt16BE(6);
    this.#chunkLength = this.#head.readUInt32BE(16);
    if (this.#chunkType === REPLY_TYPE_OFFSET_DATA) {
      if (p.command !== CMD_READ || this.#chunkLength < 8) {
        this.#broken('data chunk out of place');
        return;
      }
      this.#state = State.DataOffset;
      return;
    }
    if (this.#chunkLength === 0) {
      this.#onPayload();
      return;
    }
    if (this.#chunkLength > MAX_CHUNK_PAYLOAD) {
      this.#broken(`a ${this.#chunkLength}-byte reply chunk`);
      return;
    }
    this.#payload = Buffer.allocUnsafe(this.#chunkLength);
    this.#payloadHave = 0;
    this.#state = State.Payload;
  }

  #onDataOffset(): void {
    const p = this.#current as Pending;
    const at = u64(this.#head, 0) - p.offset;
    const length = this.#chunkLength - 8;
    this.#headHave = 0;
    if (at < 0 || at + length > p.length) {
      this.#broken(`data chunk outside the read (${at + p.offset}+${length})`);
      return;
    }
    if (length === 0) this.#endChunk();
    else this.#startData(p.target, at, length);
  }

  #startData(target: Uint8Array | undefined, at: number, length: number): void {
    this.#state = State.Data;
    this.#dataTarget = target;
    this.#dataPos = at;
    this.#dataLeft = length;
  }

  #onPayload(): void {
    const p = this.#current as Pending;
    const payload = this.#payload.subarray(0, this.#chunkLength);
    const type = this.#chunkType;
    if (type === REPLY_TYPE_OFFSET_HOLE) {
      if (payload.length !== 12 || p.target === undefined) {
        this.#broken('hole chunk out of place');
        return;
      }
      const at = u64(payload, 0) - p.offset;
      const length = payload.readUInt32BE(8);
      if (at < 0 || at + length > p.length) {
        this.#broken('hole chunk outside the read');
        return;
      }
      p.target.fill(0, at, at + length);
    } else if (type === REPLY_TYPE_BLOCK_STATUS) {
      if (payload.length < 4 || (payload.length - 4) % 8 !== 0) {
        this.#broken('bad block status chunk');
        return;
      }
      if (payload.readUInt32BE(0) === p.contextId && p.extents !== undefined) {
        let offset = p.offset;
        for (let i = 4; i < payload.length; i += 8) {
          const length = payload.readUInt32BE(i);
          p.extents.push({ offset, length, flags: payload.readUInt32BE(i + 4) });
          offset += length;
        }
      }
    } else if ((type & REPLY_TYPE_ERROR_BIT) !== 0) {
      const errno = payload.length >= 4 ? payload.readUInt32BE(0) : NBD_EIO;
      const messageLength = payload.length >= 6 ? payload.readUInt16BE(4) : 0;
      const message = payload.subarray(6, 6 + messageLength).toString('utf8');
      p.error ??= new NbdError(errno || NBD_EIO, message || `${commandName(p.command)} of ${p.length} bytes at ${p.offset} failed`);
    } else if (type !== REPLY_TYPE_NONE) {
      p.error ??= new NbdError(NBD_EIO, `unknown reply chunk type ${type}`);
    }
    this.#endChunk();
  }

  /** The chunk is over; the request too when the server said so. */
  #endChunk(): void {
    this.#state = State.Header;
    this.#dataTarget = undefined;
    this.#payload = EMPTY;
    const p = this.#current as Pending;
    this.#current = undefined;
    if ((this.#chunkFlags & REPLY_FLAG_DONE) === 0) return;
    this.#pending.delete(this.#currentCookie);
    this.#finish(p);
  }
}
