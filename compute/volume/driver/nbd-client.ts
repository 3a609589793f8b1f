import { connect as netConnect, type Socket } from 'node:net';
import { NBD_EINVAL, NBD_EIO, NBD_ENOTSUP, NBD_EPERM, NBD_ESHUTDOWN, NBD_ETIMEDOUT, NbdError } from './nbd-error.ts';
import { negotiate, type Negotiated } from './nbd-handshake.ts';

/**
 * A client of the NBD protocol (github.com/NetworkBlockDevice/nbd doc/proto.md) over a unix
 * socket, for reading and writing volumes that qemu-nbd exports: fixed newstyle handshake,
 * structured replies, meta contexts (`base:allocation`, `qemu:dirty-bitmap:<name>`) and
 * NBD_OPT_GO. Requests are pipelined: a large read goes out as many requests at once, matched
 * to their replies by cookie.
 *
 * Replies are read with `onread`: while a read reply's data is coming, the socket reads
 * straight into the caller's buffer, so the bytes are copied once, by the kernel; headers and
 * the rest go through one reused scratch buffer.
 */

const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_WRITE_ZEROES = 6;
const CMD_BLOCK_STATUS = 7;

const FLAG_READ_ONLY = 1 << 1;
const FLAG_SEND_FLUSH = 1 << 2;
const FLAG_SEND_WRITE_ZEROES = 1 << 6;

const REPLY_FLAG_DONE = 1;
const REPLY_TYPE_NONE = 0;
const REPLY_TYPE_OFFSET_DATA = 1;
const REPLY_TYPE_OFFSET_HOLE = 2;
const REPLY_TYPE_BLOCK_STATUS = 5;
const REPLY_TYPE_ERROR_BIT = 1 << 15;

/**
 * Requests are split at this size even when the server takes more. qemu-nbd allocates a buffer
 * per request and works on 16 at once: 1 MiB ones stay in its heap and caches (with the malloc
 * settings startQemuNbd gives it), and a 1 GiB read cost qemu-nbd and this process less CPU than
 * with 4 MiB or 32 MiB ones (docs/performance.md, "Reading qcow2 volumes through qemu-nbd").
 */
const MAX_REQUEST = 1024 * 1024;
/** Write zeroes (no payload) is sent in requests of at most this much (the field is 32 bits). */
const MAX_ZEROES_REQUEST = 2 ** 30;
/** Block status asks at most this much per request (the field is 32 bits). */
const MAX_STATUS_REQUEST = 2 ** 31;
/** Data regions shorter than this are read through the scratch buffer, not one read() each. */
const DIRECT_READ_MIN = 16 * 1024;
const SCRATCH_SIZE = 256 * 1024;

export interface NbdExtent {
  offset: number;
  length: number;
  flags: number;
}

export interface NbdConnectOptions {
  /** The export to open; qemu-nbd's default is the empty name. */
  exportName?: string;
  /** Meta contexts to ask for (NBD_OPT_SET_META_CONTEXT); `contexts` says which the server agreed to. */
  metaContexts?: readonly string[];
  /** false: do not ask for structured replies (servers that lack them; tests of simple replies). */
  structuredReplies?: boolean;
  /**
   * How long the handshake may take; 30 s by default. A server busy with its one allowed client
   * (qemu-nbd's `--shared=1`) leaves a new connection waiting unanswered.
   */
  handshakeTimeoutMs?: number;
}

interface Pending {
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

/** Where the receiver is in the reply stream: a reply's header, */
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

export class NbdClient {
  readonly size: number;
  readonly readOnly: boolean;
  readonly contexts: ReadonlyMap<string, number>;

  readonly #socket: Socket;
  readonly #transmissionFlags: number;
  readonly #structured: boolean;
  readonly #maxRequest: number;
  readonly #pending = new Map<number, Pending>();
  /** The promises of requests not yet answered, for close() to wait on. */
  readonly #inFlight = new Set<Promise<void>>();
  #nextCookie = 1;
  #failure: NbdError | undefined;
  #closing: Promise<void> | undefined;

  // Receive state (see State).
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
  #payload = Buffer.alloc(0);
  #payloadHave = 0;

  private constructor(socket: Socket, negotiated: Negotiated) {
    this.#socket = socket;
    this.size = negotiated.size;
    this.#transmissionFlags = negotiated.transmissionFlags;
    this.readOnly = (negotiated.transmissionFlags & FLAG_READ_ONLY) !== 0;
    this.contexts = negotiated.contexts;
    this.#structured = negotiated.structured;
    this.#maxRequest = Math.min(MAX_REQUEST, negotiated.maxPayload);
  }

  /**
   * Connects to the NBD server listening on `socketPath` and opens `exportName`.
   * @throws {NbdError} the socket refuses, the handshake fails, or the server refuses the export
   * (the server's message included).
   */
  static async connect(socketPath: string, options: NbdConnectOptions = {}): Promise<NbdClient> {
    const wire = new Wire();
    const socket = netConnect({ path: socketPath, onread: { buffer: () => wire.nextBuffer(), callback: (n, buf) => wire.received(n, buf) } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    } catch (err) {
      socket.destroy();
      throw new NbdError(NBD_ESHUTDOWN, `cannot connect to ${socketPath}: ${(err as Error).message}`, { cause: err });
    }
    const handshake = new HandshakeReader(socket);
    wire.sink = handshake;
    const timeoutMs = options.handshakeTimeoutMs ?? 30_000;
    const timer = setTimeout(() => handshake.fail(new NbdError(NBD_ETIMEDOUT, `no handshake from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    let negotiated: Negotiated;
    try {
      negotiated = await negotiate(handshake, (bytes) => socket.write(bytes), {
        exportName: options.exportName ?? '',
        metaContexts: options.metaContexts ?? [],
        structuredReplies: options.structuredReplies ?? true,
      });
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const leftover = handshake.detach();
    const client = new NbdClient(socket, negotiated);
    wire.sink = client.#receiver();
    if (leftover.length > 0) client.#feed(leftover);
    socket.on('error', (err) => client.#fail(new NbdError(NBD_ESHUTDOWN, `connection lost: ${err.message}`, { cause: err })));
    socket.on('close', () => client.#fail(new NbdError(NBD_ESHUTDOWN, 'connection closed by the server')));
    return client;
  }

  /**
   * Reads `buffer.length` bytes at `offset` into `buffer` (holes as zeros), as requests of at most
   * 1 MiB all sent at once. Returns how many bytes were read: fewer only at the end of the export.
   * @throws {NbdError} with the server's errno and message
   */
  async readInto(buffer: Uint8Array, offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new NbdError(NBD_EINVAL, `bad offset ${offset}`);
    const n = Math.max(0, Math.min(buffer.length, this.size - offset));
    const replies: Promise<void>[] = [];
    this.#socket.cork();
    for (let done = 0; done < n; done += this.#maxRequest) {
      const length = Math.min(this.#maxRequest, n - done);
      replies.push(this.#request(CMD_READ, offset + done, length, { target: buffer.subarray(done, done + length) }));
    }
    this.#socket.uncork();
    await settleAll(replies);
    return n;
  }

  /**
   * Writes `data` at `offset`, as pipelined requests no larger than the server takes. `data`
   * must not change until this resolves (the socket sends from it). Not durable before `flush()`.
   * @throws {NbdError} EPERM on a read-only export; the server's errno otherwise
   */
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new NbdError(NBD_EPERM, 'the export is read-only');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new NbdError(NBD_EINVAL, `bad offset ${offset}`);
    if (offset + data.length > this.size) throw new NbdError(NBD_EINVAL, `write of ${data.length} bytes at ${offset} passes the end of the export (${this.size} bytes)`);
    const replies: Promise<void>[] = [];
    this.#socket.cork();
    for (let done = 0; done < data.length; done += this.#maxRequest) {
      const length = Math.min(this.#maxRequest, data.length - done);
      replies.push(this.#request(CMD_WRITE, offset + done, length, { payload: data.subarray(done, done + length) }));
    }
    this.#socket.uncork();
    await settleAll(replies);
  }

  /**
   * Makes [offset, offset + length) read as zeros without sending them (NBD_CMD_WRITE_ZEROES; the
   * server may punch a hole or mark qcow2 clusters zero). Not durable before `flush()`.
   * @throws {NbdError} EPERM on a read-only export, ENOTSUP when the server lacks the command
   */
  async writeZeroes(offset: number, length: number): Promise<void> {
    if (this.readOnly) throw new NbdError(NBD_EPERM, 'the export is read-only');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new NbdError(NBD_EINVAL, `bad offset ${offset}`);
    if (offset + length > this.size) throw new NbdError(NBD_EINVAL, `${length} zeros at ${offset} pass the end of the export (${this.size} bytes)`);
    if ((this.#transmissionFlags & FLAG_SEND_WRITE_ZEROES) === 0) throw new NbdError(NBD_ENOTSUP, 'the server does not take write zeroes');
    const replies: Promise<void>[] = [];
    for (let done = 0; done < length; done += MAX_ZEROES_REQUEST) replies.push(this.#request(CMD_WRITE_ZEROES, offset + done, Math.min(MAX_ZEROES_REQUEST, length - done), {}));
    await settleAll(replies);
  }

  /** Makes every write the server has acknowledged durable (NBD_CMD_FLUSH; qemu: fdatasync). */
  async flush(): Promise<void> {
    // A server without a volatile cache does not advertise flush, and must not be sent one.
    if ((this.#transmissionFlags & FLAG_SEND_FLUSH) === 0) return;
    await this.#request(CMD_FLUSH, 0, 0, {});
  }

  /**
   * Extents of meta context `context` over [offset, offset + length), consecutive and merged when
   * their flags match; asks again until the range is covered (servers may answer for less).
   * For `qemu:dirty-bitmap:*`, flags & 1 is dirty; for `base:allocation`, 1 a hole, 2 zeros.
   * @throws {NbdError} EINVAL when the server did not agree to `context` at connect
   */
  async blockStatus(context: string, offset: number, length: number): Promise<NbdExtent[]> {
    const contextId = this.contexts.get(context);
    if (contextId === undefined) throw new NbdError(NBD_EINVAL, `meta context ${context} was not negotiated`);
    const end = Math.min(offset + length, this.size);
    const out: NbdExtent[] = [];
    let pos = offset;
    while (pos < end) {
      const extents: NbdExtent[] = [];
      await this.#request(CMD_BLOCK_STATUS, pos, Math.min(end - pos, MAX_STATUS_REQUEST), { contextId, extents });
      const before = pos;
      for (const e of extents) {
        const length = Math.min(e.length, end - pos);
        if (length <= 0) break;
        const last = out[out.length - 1];
        if (last !== undefined && last.flags === e.flags) last.length += length;
        else out.push({ offset: pos, length, flags: e.flags });
        pos += length;
      }
      if (pos === before) throw new NbdError(NBD_EIO, `the server sent no extents of ${context} at ${pos}`);
    }
    return out;
  }

  /** Waits for requests in flight, sends NBD_CMD_DISC and ends the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#inFlight);
      if (this.#failure === undefined) {
        this.#socket.write(this.#header(CMD_DISC, 0, 0, 0));
        this.#failure = new NbdError(NBD_ESHUTDOWN, 'the client is closed');
      }
      await new Promise<void>((resolve) => {
        if (this.#socket.closed) resolve();
        else {
          this.#socket.once('close', () => resolve());
          this.#socket.end();
        }
      });
    })();
    return this.#closing;
  }

  #header(command: number, cookie: number, offset: number, length: number): Buffer {
    const h = Buffer.allocUnsafe(28);
    h.writeUInt32BE(REQUEST_MAGIC, 0);
    h.writeUInt16BE(0, 4);
    h.writeUInt16BE(command, 6);
    h.writeUInt32BE(0, 8);
    h.writeUInt32BE(cookie, 12);
    h.writeUInt32BE(Math.floor(offset / 2 ** 32), 16);
    h.writeUInt32BE(offset >>> 0, 20);
    h.writeUInt32BE(length, 24);
    return h;
  }

  #request(command: number, offset: number, length: number, extra: { target?: Uint8Array; payload?: Uint8Array; contextId?: number; extents?: NbdExtent[] }): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (command === CMD_BLOCK_STATUS && !this.#structured) return Promise.reject(new NbdError(NBD_EINVAL, 'block status needs structured replies'));
    const cookie = this.#nextCookie;
    this.#nextCookie = this.#nextCookie >= 0xffffffff ? 1 : this.#nextCookie + 1;
    const reply = new Promise<void>((resolve, reject) => {
      this.#pending.set(cookie, { ...extra, command, offset, length, resolve, reject });
      this.#socket.write(this.#header(command, cookie, offset, length));
      if (extra.payload !== undefined) this.#socket.write(extra.payload);
    });
    this.#inFlight.add(reply);
    const forget = (): void => {
      this.#inFlight.delete(reply);
    };
    reply.then(forget, forget);
    return reply;
  }

  /** Rejects every request in flight and every later one with `error` (the connection is gone). */
  #fail(error: NbdError): void {
    this.#failure ??= error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#state = State.Header;
    this.#dataTarget = undefined;
    for (const p of pending) p.reject(this.#failure);
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  /** A protocol violation by the server: nothing after it can be trusted. */
  #broken(reason: string): void {
    this.#fail(new NbdError(NBD_EIO, `server broke the protocol: ${reason}`));
  }

  #finish(p: Pending): void {
    if (p.error !== undefined) p.reject(p.error);
    else p.resolve();
  }

  #receiver(): Sink {
    return {
      readBuffer: (scratch) => this.#readBuffer(scratch),
      directReceived: (n) => this.#dataDone(n),
      feed: (bytes) => this.#feed(bytes),
    };
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
    while (at < bytes.length && this.#failure === undefined) {
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

const EMPTY = Buffer.alloc(0);

function commandName(command: number): string {
  return ['read', 'write', 'disconnect', 'flush', 'trim', 'cache', 'write zeroes', 'block status'][command] ?? `command ${command}`;
}

/** Waits for every promise; then throws the first failure (so no request still writes into a buffer). */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** What the socket's bytes go to: the handshake reader, then the client's reply parser. */
interface Sink {
  /** Where the next read() should put bytes directly, or undefined for the scratch buffer. */
  /** Where the next read() should put bytes: a part of `scratch`, or a read's own target (then `directReceived`). */
  readBuffer?(scratch: Buffer): Uint8Array;
  directReceived?(n: number): void;
  /** Bytes read into the scratch buffer: copy what must outlive the call. */
  feed(bytes: Uint8Array): void;
}

/** The socket's `onread`: a reused scratch buffer, or the read's own target while its data comes. */
class Wire {
  sink: Sink = { feed: () => {} };
  // Its own memory (not the shared pool), so a buffer on it is known by its ArrayBuffer.
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);

  nextBuffer(): Uint8Array {
    return this.sink.readBuffer?.(this.#scratch) ?? this.#scratch;
  }

  received(n: number, buf: Uint8Array): boolean {
    if (buf.buffer !== this.#scratch.buffer) this.sink.directReceived?.(n);
    else this.sink.feed(buf.subarray(0, n));
    return true;
  }
}

/** Handshake bytes, read as `read(n)` calls: option haggling is strictly one exchange at a time. */
class HandshakeReader implements Sink {
  #chunks: Buffer[] = [];
  #have = 0;
  #waiter: { n: number; resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  #failure: NbdError | undefined;
  readonly #socket: Socket;
  readonly #onClose = (): void => this.#fail(new NbdError(NBD_ESHUTDOWN, 'connection closed during the handshake'));
  readonly #onError = (err: Error): void => this.#fail(new NbdError(NBD_ESHUTDOWN, `connection lost during the handshake: ${err.message}`, { cause: err }));

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
  }

  feed(bytes: Uint8Array): void {
    this.#chunks.push(Buffer.from(bytes));
    this.#have += bytes.length;
    this.#pump();
  }

  read(n: number): Promise<Buffer> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { n, resolve, reject };
      this.#pump();
    });
  }

  /** Stops listening; returns bytes read past the handshake (none from a server that waits for requests). */
  detach(): Buffer {
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
    const rest = Buffer.concat(this.#chunks);
    this.#chunks = [];
    return rest;
  }

  /** Ends the handshake with `error`: the waiting read and every later one reject with it. */
  fail(error: NbdError): void {
    this.#fail(error);
  }

  #fail(error: NbdError): void {
    this.#failure ??= error;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(error);
  }

  #pump(): void {
    const w = this.#waiter;
    if (w === undefined || this.#have < w.n) return;
    this.#waiter = undefined;
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    this.#chunks = all.length > w.n ? [all.subarray(w.n)] : [];
    this.#have -= w.n;
    w.resolve(all.subarray(0, w.n));
  }
}
