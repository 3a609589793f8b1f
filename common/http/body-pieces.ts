import type { Readable } from 'node:stream';
import { markLentChunks, releaseBuffer } from '../release-buffer.ts';
import { brokenBody, ClientTimeoutError } from './body-reader.ts';
import { UPLOAD_IDLE_FLUSH_MS, UPLOAD_PIECE_BYTES } from './chunk-batches.ts';

export interface BodyPiecesOptions {
  /** The longest the client may send nothing while the reader waits (Swift's `client_timeout`): `ClientTimeoutError`. */
  readonly idleMs: number;
  /** Bytes per piece (`UPLOAD_PIECE_BYTES`). */
  readonly pieceBytes?: number;
  /** A partial piece is handed over once the client has sent nothing for this long (`UPLOAD_IDLE_FLUSH_MS`). */
  readonly idleFlushMs?: number;
  /** Nothing else holds the body's chunks (a request's socket data): each is released once copied. */
  readonly releaseChunks: boolean;
}

/** Pieces filled ahead of the one lent: reading goes on while the caller sends one. */
const AHEAD = 2;

/**
 * A request body in pieces of `pieceBytes`, copied together from the socket's chunks as they
 * arrive (`data` events: no promise, no generator step per 64 KiB chunk; `readBody` and
 * `batchChunks` took three async steps per chunk, a tenth of the image service's upload
 * CPU: docs/performance.md, "Images: the upload's own CPU"). The pieces are LENT (marked so,
 * `hasLentChunks`): each is the caller's until it asks for the next, then filled again, so
 * a caller must be done with a piece (sent, hashed, copied) before it asks. A few pieces are
 * filled ahead; past that the request is paused (backpressure to the client).
 *
 * Fails as `readBody` does: `ClientTimeoutError` when the client sends nothing for `idleMs`
 * while the caller waits, `ClientDisconnectError` when the connection breaks (also before the
 * first read). Stopping early (`return`, or a failure) destroys the request, as leaving a
 * request's async iterator does.
 */
export function readBodyPieces(body: Readable, options: BodyPiecesOptions): AsyncIterable<Buffer> {
  return markLentChunks({ [Symbol.asyncIterator]: () => new BodyPieces(body, options) });
}

class BodyPieces implements AsyncIterator<Buffer> {
  private readonly body: Readable;
  private readonly size: number;
  private readonly idleMs: number;
  private readonly idleFlushMs: number;
  private readonly releaseChunks: boolean;
  private readonly free: Buffer[] = [];
  private made = 0;
  private filling: Buffer | undefined;
  private fill = 0;
  /** Pieces ready to lend, and how many bytes of each. */
  private readonly ready: { piece: Buffer; length: number }[] = [];
  private lent: Buffer | undefined;
  /** A chunk not yet all copied for want of a free piece (the request is paused meanwhile). */
  private rest: { chunk: Buffer; at: number } | undefined;
  private started = false;
  private ended = false;
  private stopped = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** Chunks so far: the timer tells a quiet client from a busy one by it, with no clock read per chunk. */
  private chunks = 0;
  private chunksAtTick = 0;
  private quietMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(body: Readable, options: BodyPiecesOptions) {
    this.body = body;
    this.size = options.pieceBytes ?? UPLOAD_PIECE_BYTES;
    this.idleMs = options.idleMs;
    this.idleFlushMs = Math.min(options.idleFlushMs ?? UPLOAD_IDLE_FLUSH_MS, options.idleMs);
    this.releaseChunks = options.releaseChunks;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (this.stopped) return { done: true, value: undefined };
    if (!this.started) this.start();
    if (this.lent) {
      this.free.push(this.lent);
      this.lent = undefined;
    }
    if (this.rest) {
      const { chunk, at } = this.rest;
      this.rest = undefined;
      this.copy(chunk, at);
      if (!this.rest && !this.ended) this.body.resume();
    }
    for (;;) {
      const first = this.ready.shift();
      if (first) {
        this.lent = first.piece;
        return { done: false, value: first.length === this.size ? first.piece : first.piece.subarray(0, first.length) };
      }
      if (this.failure) {
        // As leaving a request's iterator on an error did: the rest is not read.
        this.stop(!this.ended);
        throw this.failure;
      }
      if (this.ended) {
        if (this.filling && this.fill > 0) {
          this.handOver();
          continue;
        }
        this.stop(false);
        return { done: true, value: undefined };
      }
      await this.waitForChange();
    }
  }

  async return(): Promise<IteratorResult<Buffer>> {
    this.stop(!this.ended);
    return { done: true, value: undefined };
  }

  private start(): void {
    this.started = true;
    if (this.body.readableEnded) this.ended = true;
    // Broken before the caller began to read: no event will come to say so.
    else if (this.body.destroyed) this.failure = brokenBody(this.body.errored);
    this.body.on('data', this.onData);
    this.body.once('end', this.onEnd);
    this.body.on('error', this.onError);
    this.body.once('close', this.onClose);
  }

  private stop(destroy: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('close', this.onClose);
    // An error after this is the stream's own business, but must not be an uncaught one.
    if (destroy) this.body.destroy();
    // Pieces no socket holds are freed now; the lent one may still be in a socket's queue.
    for (const piece of [...this.free, ...this.ready.map((r) => r.piece), ...(this.filling ? [this.filling] : [])]) releaseBuffer(piece);
    this.free.length = 0;
    this.ready.length = 0;
    this.filling = this.lent = this.rest = undefined;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks++;
    this.copy(chunk, 0);
    if (this.ready.length > 0) this.wakeUp();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wakeUp();
  };

  private readonly onError = (err: Error): void => {
    this.failure ??= brokenBody(err);
    this.wakeUp();
  };

  private readonly onClose = (): void => {
    if (!this.ended) this.failure ??= brokenBody();
    this.wakeUp();
  };

  /** Copies `chunk` from `at` into pieces; pauses the request, keeping the rest, when none is free. */
  private copy(chunk: Buffer, at: number): void {
    const size = this.size;
    while (at < chunk.length) {
      if (!this.filling) {
        const piece = this.free.pop() ?? (this.made < AHEAD + 1 ? this.make() : undefined);
        if (!piece) {
          this.rest = { chunk, at };
          this.body.pause();
          return;
        }
        this.filling = piece;
        this.fill = 0;
      }
      const n = Math.min(size - this.fill, chunk.length - at);
      this.filling.set(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === size) this.handOver();
    }
    if (this.releaseChunks) releaseBuffer(chunk);
  }

  private make(): Buffer {
    this.made++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  private handOver(): void {
    this.ready.push({ piece: this.filling as Buffer, length: this.fill });
    this.filling = undefined;
    this.fill = 0;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for a piece, the end or a failure; a quiet client gets its partial piece handed over, then timed out. */
  private waitForChange(): Promise<void> {
    this.chunksAtTick = this.chunks;
    this.quietMs = 0;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.tick, this.idleFlushMs);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private readonly tick = (): void => {
    if (!this.wake || this.stopped) return;
    if (this.chunks !== this.chunksAtTick) {
      this.chunksAtTick = this.chunks;
      this.quietMs = 0;
    } else {
      this.quietMs += this.idleFlushMs;
      if (this.filling && this.fill > 0) {
        this.handOver();
        this.wakeUp();
        return;
      }
      if (this.quietMs >= this.idleMs) {
        this.failure ??= new ClientTimeoutError(this.idleMs);
        this.wakeUp();
        return;
      }
    }
    this.timer?.refresh();
  };
}
