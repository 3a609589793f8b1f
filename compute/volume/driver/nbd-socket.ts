import type { Socket } from 'node:net';
import { NBD_ESHUTDOWN, NbdError } from './nbd-error.ts';

/**
 * An NBD connection's socket bytes: read with `onread` into one reused scratch buffer or, while
 * a read reply's data comes, straight into the caller's buffer (the Sink says which), and handed
 * to the handshake reader, then to the reply parser (nbd-replies.ts).
 */

const SCRATCH_SIZE = 256 * 1024;

/** What the socket's bytes go to: the handshake reader, then the client's reply parser. */
export interface Sink {
  /** Where the next read() should put bytes: a part of `scratch`, or a read's own target (then `directReceived`). */
  readBuffer?(scratch: Buffer): Uint8Array;
  directReceived?(n: number): void;
  /** Bytes read into the scratch buffer: copy what must outlive the call. */
  feed(bytes: Uint8Array): void;
}

/** The socket's `onread`: a reused scratch buffer, or the read's own target while its data comes. */
export class Wire {
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
export class HandshakeReader implements Sink {
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
