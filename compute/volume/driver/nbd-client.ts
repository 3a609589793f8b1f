import { connect as netConnect, type Socket } from 'node:net';
import { NBD_EINVAL, NBD_EIO, NBD_ENOTSUP, NBD_EPERM, NBD_ESHUTDOWN, NBD_ETIMEDOUT, NbdError } from './nbd-error.ts';
import { negotiate, type Negotiated } from './nbd-handshake.ts';
import { CMD_READ, type NbdExtent, NbdReplies } from './nbd-replies.ts';
import { HandshakeReader, Wire } from './nbd-socket.ts';

export type { NbdExtent } from './nbd-replies.ts';

/**
 * A client of the NBD protocol (github.com/NetworkBlockDevice/nbd doc/proto.md) over a unix
 * socket, for reading and writing volumes that qemu-nbd exports: fixed newstyle handshake,
 * structured replies, meta contexts (`base:allocation`, `qemu:dirty-bitmap:<name>`) and
 * NBD_OPT_GO. Requests are pipelined: a large read goes out as many requests at once, matched
 * to their replies by cookie.
 *
 * An incremental backup's read, for example (qemu-nbd.ts starts the server):
 *
 *   const nbd = await startQemuNbd({ path, format: 'qcow2', readOnly: true, bitmaps: [name], dir });
 *   const context = `qemu:dirty-bitmap:${name}`;
 *   const client = await NbdClient.connect(nbd.socket, { metaContexts: [context] });
 *   for (const e of await client.blockStatus(context, 0, client.size))
 *     if (e.flags & 1) await client.readInto(buffer.subarray(0, e.length), e.offset); // dirty
 *   await client.close();
 *   await nbd.stop();
 *
 * Replies are read with `onread` (nbd-socket.ts) and parsed by nbd-replies.ts: while a read
 * reply's data is coming, the socket reads straight into the caller's buffer, so the bytes are
 * copied once, by the kernel; headers and the rest go through one reused scratch buffer.
 */

const REQUEST_MAGIC = 0x25609513;

const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_WRITE_ZEROES = 6;
const CMD_BLOCK_STATUS = 7;

const FLAG_READ_ONLY = 1 << 1;
const FLAG_SEND_FLUSH = 1 << 2;
const FLAG_SEND_WRITE_ZEROES = 1 << 6;

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

export class NbdClient {
  readonly size: number;
  readonly readOnly: boolean;
  readonly contexts: ReadonlyMap<string, number>;

  readonly #socket: Socket;
  readonly #transmissionFlags: number;
  readonly #structured: boolean;
  readonly #maxRequest: number;
  readonly #replies: NbdReplies;
  /** The promises of requests not yet answered, for close() to wait on. */
  readonly #inFlight = new Set<Promise<void>>();
  #nextCookie = 1;
  #failure: NbdError | undefined;
  #closing: Promise<void> | undefined;

  private constructor(socket: Socket, negotiated: Negotiated) {
    this.#socket = socket;
    this.size = negotiated.size;
    this.#transmissionFlags = negotiated.transmissionFlags;
    this.readOnly = (negotiated.transmissionFlags & FLAG_READ_ONLY) !== 0;
    this.contexts = negotiated.contexts;
    this.#structured = negotiated.structured;
    this.#maxRequest = Math.min(MAX_REQUEST, negotiated.maxPayload);
    this.#replies = new NbdReplies(negotiated.structured, (error) => this.#fail(error));
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
    wire.sink = client.#replies;
    if (leftover.length > 0) client.#replies.feed(leftover);
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
      this.#replies.expect(cookie, { ...extra, command, offset, length, resolve, reject });
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
    this.#replies.failAll(this.#failure);
    if (!this.#socket.destroyed) this.#socket.destroy();
  }
}

/** Waits for every promise; then throws the first failure (so no request still writes into a buffer). */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
