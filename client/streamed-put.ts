import { BackendError } from '../common/errors.ts';
import type { BackendResponse } from '../common/http/backend-client.ts';
import { BatchPool, batchChunks, UPLOAD_IDLE_FLUSH_MS, UPLOAD_PIECE_BYTES } from '../common/http/chunk-batches.ts';
import { objectPath, type SwiftClient, type SwiftRequest } from './swift-client.ts';

/**
 * How long a piece may wait to be sent, and the answer after the last one: the image node's
 * node timeout (a large PUT is answered only once every replica has it on disk).
 */
export const UPLOAD_STALL_MS = 60_000;

export interface StreamedPutOptions {
  /**
   * Nothing else holds the source's chunks (`hasOwnChunks`: a request's own socket data): each
   * one's memory is given back as soon as it is copied into a piece.
   */
  readonly release: boolean;
  /**
   * The source's chunks are lent pieces (`readBodyPieces`, `hasLentChunks`): each is written as
   * it is, no copy, and the next asked for only once it is sent.
   */
  readonly lent?: boolean;
  readonly stallMs?: number;
}

/**
 * Sends `body` as the body of `req` and resolves with the answer (any status).
 *
 * Through the seam's `upload` when it has one: the chunks are copied into pieces of up to 1 MiB,
 * each written and waited for until the socket has sent it (that wait is the backpressure),
 * then used again; with `release`, a chunk's memory is given back once copied instead of when
 * V8's collector gets to it: a relayed 1 GiB upload left
 * 16,000 dead 64 KiB chunks to the collector, 80-90 full collections per GiB in the image
 * process (docs/performance.md, "Images"). An answer that comes before the body is all sent
 * stops the sending.
 *
 * A failure of the source is thrown as itself and cuts the request (never a clean end, so
 * nothing of it is stored); a piece or the answer that waits longer than `stallMs` fails the
 * upload with a `BackendError`.
 */
export async function streamedPut(client: SwiftClient, req: Omit<SwiftRequest, 'body'>, body: AsyncIterable<Uint8Array>, options: StreamedPutOptions): Promise<BackendResponse> {
  const upload = await client.upload(req);
  if (!upload) return streamedRequest(client, req, body, options.lent === true);
  const stallMs = options.stallMs ?? UPLOAD_STALL_MS;
  // An answer (or a failure) while a piece waits ends that wait: whether undici still takes
  // the rest of the body then is its business. One slot, not a race per piece: a promise raced
  // against every piece would keep a reaction per piece until the upload ends.
  let answered = false;
  let wake: ((sent: boolean) => void) | undefined;
  const onAnswer = (): void => {
    answered = true;
    wake?.(false);
  };
  upload.response.then(onAnswer, onAnswer);
  // One timer for the whole upload, pushed back before every wait (as the proxy's writes).
  let waiting = false;
  const timer = setTimeout(() => {
    if (waiting) upload.destroy(new BackendError('BACKEND_TIMEOUT', `${req.method} ${objectPath(req.container, req.object)}`, `nothing sent for ${stallMs} ms`));
  }, stallMs);
  let cut = false;
  const pool = new BatchPool(UPLOAD_PIECE_BYTES);
  try {
    try {
      const pieces = options.lent === true ? body : batchChunks(body, { pool, idleFlushMs: UPLOAD_IDLE_FLUSH_MS, releaseSource: options.release });
      for await (const chunk of pieces) {
        waiting = true;
        timer.refresh();
        const sent = answered
          ? false
          : await new Promise<boolean>((resolve) => {
              wake = resolve;
              upload.write(chunk).then(resolve);
            });
        wake = undefined;
        waiting = false;
        // Not sent: the upload failed or was answered, which the answer below tells.
        if (!sent) {
          cut = true;
          break;
        }
        if (options.lent !== true) pool.give(chunk);
      }
    } catch (err) {
      upload.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    upload.end();
    waiting = true;
    timer.refresh();
    const res = await upload.response;
    if (cut && res.status >= 200 && res.status < 300) {
      await res.body.dump();
      throw new BackendError('BACKEND_IO', `${req.method} ${objectPath(req.container, req.object)}`, `answered ${res.status} before the whole body was sent`);
    }
    return res;
  } finally {
    clearTimeout(timer);
    pool.drain();
  }
}

/**
 * Without `upload`: the body as a stream, the source's own failure reported as itself. Lent
 * pieces are copied: a stream reads ahead of what its socket has sent.
 */
async function streamedRequest(client: SwiftClient, req: Omit<SwiftRequest, 'body'>, body: AsyncIterable<Uint8Array>, lent: boolean): Promise<BackendResponse> {
  let failure: unknown;
  const watched = async function* (): AsyncGenerator<Uint8Array> {
    try {
      if (lent) for await (const chunk of body) yield Buffer.from(chunk);
      else yield* body;
    } catch (err) {
      failure = err;
      throw err;
    }
  };
  const res = await client.request({ ...req, body: watched() }).catch((err: unknown) => {
    throw failure ?? err;
  });
  if (failure !== undefined) {
    await res.body.dump();
    throw failure;
  }
  return res;
}
