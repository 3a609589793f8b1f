import type { Dispatcher } from 'undici';
import type { BackendBodyStream, BackendResponse } from './backend-client.ts';

/**
 * Body bytes held for the reader before the connection is paused. Well above one socket read
 * (64 KiB): the object server sends ~1 MiB at a time, and a pause per read (what a stream at
 * its 64 KiB mark did) costs a parser pause, a resume and the socket's data read again.
 */
const QUEUE_BYTES = 1024 * 1024;

/** How much of an unread body `dump()` reads to keep the connection; past it, the connection goes. */
const DUMP_LIMIT = 128 * 1024;

type Controller = Dispatcher.DispatchController;

/**
 * An undici dispatch handler whose response body is a queue of the chunks as the parser
 * handed them over (no stream between: a stream's `read()` joins whatever is buffered into a
 * fresh copy, and its 'readable' turn costs a tick per chunk). The reader takes chunks in
 * order; the connection is paused while `QUEUE_BYTES` wait unread and resumed below it.
 * `response` resolves at the headers, or rejects (through `toError`) when none came.
 */
export class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly response: Promise<BackendResponse>;
  private controller: Controller | undefined;
  private resolve!: (response: BackendResponse) => void;
  private reject!: (err: unknown) => void;
  private readonly toError: (err: unknown) => Error;
  private readonly signal: AbortSignal | undefined;
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  /** The reader waiting for a chunk, if any. */
  private waiting: { resolve: (step: IteratorResult<Buffer>) => void; reject: (err: unknown) => void } | undefined;
  private started = false;
  private readonly onAbort = (): void => this.abort(this.signal?.reason instanceof Error ? this.signal.reason : abortError());

  constructor(signal: AbortSignal | undefined, toError: (err: unknown) => Error) {
    this.signal = signal;
    this.toError = toError;
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.signal?.aborted) this.onAbort();
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.started = true;
    const flat: Record<string, string> = {};
    for (const k in headers) {
      const v = headers[k];
      if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    this.resolve({ status: statusCode, headers: flat, body: this.body() });
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    // undici's parser, resumed with nothing new on the socket, hands over an empty body span.
    // Passed on, it reached a COPY's upload as an empty piece, which undici never writes (its
    // writer skips empty chunks), so its write was never reported sent and timed out.
    if (chunk.length === 0) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= QUEUE_BYTES) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.finish();
    if (this.waiting && this.head === this.chunks.length) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  onResponseError(_controller: Controller | null, err: Error): void {
    this.fail(this.toError(err));
  }

  /** Ends the request (and its connection) unless its answer has all come. */
  private abort(reason: Error): void {
    if (this.ended || this.failure) return;
    if (this.controller) this.controller.abort(reason);
    else this.fail(this.toError(reason));
  }

  private fail(err: Error): void {
    if (this.failure || this.ended) return;
    this.failure = err;
    this.finish();
    if (!this.started) this.reject(err);
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = undefined;
      reject(err);
    }
  }

  private finish(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private next(): Promise<IteratorResult<Buffer>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head] as Buffer;
      this.chunks[this.head++] = undefined as unknown as Buffer;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      }
      this.queued -= chunk.length;
      if (this.queued < QUEUE_BYTES && this.controller?.paused) this.controller.resume();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const step = new Promise<IteratorResult<Buffer>>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    // The reader waits before the parser resumes: a resume parses what the socket holds at
    // once, and its first chunk must go to this reader, not into the queue behind it.
    if (this.controller?.paused) this.controller.resume();
    return step;
  }

  /** Stops reading: the connection is closed unless the body had all come. */
  private stop(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.queued = 0;
    this.abort(abortError());
  }

  /**
   * The whole body in memory of its own (never a slice of node's shared pool, which cannot be
   * handed to another thread: volume backups pass bodies read whole to their workers).
   */
  private async all(): Promise<Buffer> {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const step = await this.next();
      if (step.done) break;
      parts.push(step.value);
      total += step.value.length;
    }
    const whole = Buffer.from(new ArrayBuffer(total));
    let at = 0;
    for (const part of parts) at += part.copy(whole, at);
    return whole;
  }

  private body(): BackendBodyStream {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.next(),
        return: async () => {
          this.stop();
          return { done: true, value: undefined };
        },
      }),
      text: async () => (await this.all()).toString(),
      json: async () => JSON.parse((await this.all()).toString()) as unknown,
      bytes: () => this.all(),
      dump: async () => {
        let read = 0;
        try {
          while (!this.ended && read <= DUMP_LIMIT) {
            const step = await this.next();
            if (step.done) return;
            read += step.value.length;
          }
        } catch {
          return;
        }
        if (!this.ended) this.stop();
        else this.chunks.length = this.head = this.queued = 0;
      },
    };
  }
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}
