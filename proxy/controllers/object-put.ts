import { PassThrough } from 'node:stream';
import { backendPath, type BackendResponse, type BackendUpload } from '../../common/http/backend-client.ts';
import { ClientDisconnectError, readBody, readWholeBody } from '../../common/http/body-reader.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { type BackendDeps, makeRequests, send, type Target, writeNodes } from '../backend-requests.ts';
import type { ProxyNode } from '../node-iter.ts';
import { quorumSize } from '../../common/quorum-size.ts';
import { BatchPool, batchChunks, UPLOAD_IDLE_FLUSH_MS, UPLOAD_PIECE_BYTES } from '../../common/http/chunk-batches.ts';
import { offeredPieces } from '../../common/http/offered-pieces.ts';
import { BodyHashes, BOUNDARY_HEADER, blockChecksumsKind, CHECKSUM_HEADER, FOOTER_BLOCK_BYTES, FOOTER_HEADER, footerDocument, footerPreamble, hashFooterLength, newBoundary, OBJ_LENGTH_HEADER } from '../../common/http/put-footer.ts';

/** A body sent in a MIME document with a footer after it (`common/http/put-footer.ts`). */
interface Framing {
  readonly boundary: string;
  readonly preamble: Buffer;
  /** The footer document, once the whole body has been hashed. */
  footer(): Buffer;
  /** The footer document's length, known before. */
  readonly footerLength: number;
}
import { bestResponseIndex } from '../quorum.ts';
import { bodyHashHeaders } from '../../common/http/put-hash-headers.ts';

/** One backend upload in progress. */
class Putter {
  readonly node: ProxyNode;
  readonly slot: number;
  /** Set once the upload can no longer succeed (error, or an answer before the body ended). */
  failure: string | undefined;
  /** The node's answer, if it came. */
  answer: BackendResponse | undefined;
  /** The body as a stream, for a backend client without `upload`. */
  private readonly stream: PassThrough | undefined;
  /** The body written piece by piece, each write saying when the piece has left. */
  private readonly upload: BackendUpload | undefined;
  private readonly controller = new AbortController();
  private readonly settled: Promise<void>;
  private ended = false;
  private finished: Promise<number> | undefined;
  private readonly writeTimeoutMs: number;
  /**
   * The write waiting now, woken (false) if the upload fails first. One slot, not a race
   * against a promise of the failure: each race left a reaction on that promise, one per piece
   * until the upload ended (16,384 per GiB per node).
   */
  private wake: ((sent: boolean) => void) | undefined;
  /**
   * Swift's node timeout on a write: one timer per upload, pushed back at each write (a timer
   * and a promise race per piece per node were a visible share of the proxy's CPU).
   */
  private stallTimer: NodeJS.Timeout | undefined;
  private writing = false;
  private readonly framing: Framing | undefined;
  /** Whether the MIME preamble went out (before the first piece of the body). */
  private opened = false;

  constructor(deps: BackendDeps, node: ProxyNode, slot: number, target: Target, slotHeaders: Record<string, string>, signal: AbortSignal, framing?: Framing) {
    this.node = node;
    this.slot = slot;
    this.framing = framing;
    let headers = slotHeaders;
    if (framing) {
      // Swift's MIME PUT: the body's length moves to its own header, the request's covers the
      // whole document (Swift's goes chunked; a known length lets the object server release
      // the pieces it receives).
      const { 'content-length': length, ...rest } = slotHeaders;
      headers = { ...rest, [FOOTER_HEADER]: 'yes', [BOUNDARY_HEADER]: framing.boundary, [CHECKSUM_HEADER]: blockChecksumsKind(FOOTER_BLOCK_BYTES) };
      if (length !== undefined) {
        headers[OBJ_LENGTH_HEADER] = length;
        headers['content-length'] = String(framing.preamble.length + Number(length) + framing.footerLength);
      }
    }
    this.writeTimeoutMs = deps.nodeTimeoutMs;
    const linked = AbortSignal.any([signal, this.controller.signal]);
    let answer: Promise<BackendResponse>;
    if (deps.backend.upload) {
      this.upload = deps.backend.upload(node, { method: 'PUT', path: backendPath(node.device, target.partition, ...target.names), headers, signal: linked });
      answer = this.upload.response;
    } else {
      this.stream = new PassThrough({ highWaterMark: 256 * 1024 });
      // undici's headers timer starts with the request; a long upload would trip it, so the
      // node timeout is applied here instead: to stalled writes and to the wait for an answer.
      answer = send(deps, node, target, { method: 'PUT', headers, body: this.stream, timeoutMs: 0 }, linked);
    }
    this.settled = answer.then(
      (res) => {
        this.answer = res;
        if (!this.ended) this.fail(`answered ${res.status} before the body was sent`);
      },
      (err: Error) => this.fail(err.message),
    );
  }

  get live(): boolean {
    return this.failure === undefined;
  }

  /** Whether a handoff could take this node's place: it failed as a server, not as a judge. */
  get replaceable(): boolean {
    return this.failure !== undefined && (this.answer === undefined || this.answer.status === 507 || this.answer.status >= 500);
  }

  /**
   * Sends a piece. True when this node's connection does not hold it (any more): it went out
   * (only a backend client with `upload` says so), or this node had failed before and never got
   * it. False when it may still be held.
   */
  async write(chunk: Uint8Array): Promise<boolean> {
    if (this.framing && !this.opened) {
      this.opened = true;
      await this.send(this.framing.preamble);
    }
    return this.send(chunk);
  }

  private async send(chunk: Uint8Array): Promise<boolean> {
    if (!this.live) return true;
    if (this.upload) {
      const upload = this.upload;
      return this.within(upload.write(chunk));
    }
    const stream = this.stream as PassThrough;
    if (stream.write(chunk)) return false;
    await this.within(new Promise<boolean>((resolve) => stream.once('drain', () => resolve(false))));
    return false;
  }

  /** `sent`, unless the node fails or stalls longer than the node timeout first (then false). */
  private async within(sent: Promise<boolean>): Promise<boolean> {
    this.writing = true;
    if (this.stallTimer) this.stallTimer.refresh();
    else {
      this.stallTimer = setTimeout(() => {
        if (this.writing) this.fail('write timed out');
      }, this.writeTimeoutMs);
    }
    try {
      if (!this.live) return false;
      return await new Promise<boolean>((resolve, reject) => {
        this.wake = resolve;
        sent.then(resolve, reject);
      });
    } finally {
      this.wake = undefined;
      this.writing = false;
    }
  }

  /** Ends the body and waits (at most the node timeout) for the answer's status. Idempotent. */
  finish(): Promise<number> {
    this.finished ??= this.settle();
    return this.finished;
  }

  private async settle(): Promise<number> {
    clearTimeout(this.stallTimer);
    if (this.live && this.framing) {
      if (!this.opened) {
        this.opened = true;
        await this.send(this.framing.preamble);
      }
      await this.send(this.framing.footer());
      clearTimeout(this.stallTimer);
    }
    if (this.live) {
      this.ended = true;
      if (this.upload) this.upload.end();
      else this.stream?.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.writeTimeoutMs)))]);
      clearTimeout(timer);
      if (!this.answer) this.fail('no answer in time');
      // A server failure (507, 5xx) after the body is still a failure a handoff can make good.
      else if (this.answer.status >= 500) this.fail(`answered ${this.answer.status}`);
    }
    if (this.answer) await this.answer.body.dump();
    return this.answer?.status ?? 503;
  }

  fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    clearTimeout(this.stallTimer);
    this.wake?.(false);
    this.stream?.destroy();
    if (!this.answer) this.controller.abort(new Error(reason));
    this.upload?.destroy(new Error(reason));
  }
}

export interface PutResult {
  readonly status: number;
  readonly etag?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The largest conditional write into a system account (a service's record, `If-Match` or
 * `If-None-Match`) that the proxy reads whole before deciding it on one replica
 * (controllers/object.ts); any other PUT is read whole up to `WHOLE_PUT_BYTES`.
 */
export const WHOLE_BODY_BYTES = 64 * 1024;

/**
 * A PUT body up to this size (with a Content-Length) is read whole and sent to each replica as
 * one buffer, as a small one is, without the MD5 footer (its hashes go in headers instead:
 * `HASHED_WHOLE_PUT_BYTES`).
 * Streamed, a 200 KB PUT (a backup's changed extent, a sync tool's chunk) cost the proxy about
 * twice the CPU (pieces awaited per replica, a stall timer, the MIME framing); at 700 KB the
 * replicas' three MD5s outweigh what the proxy saves, and the footered document sent whole
 * cost the proxy more than streaming it (docs/performance.md, "Mid-size PUTs").
 */
export const WHOLE_PUT_BYTES = 256 * 1024;

/**
 * A whole body larger than this carries its MD5 and block-checksum digest in headers
 * (`common/http/put-hash-headers.ts`): one MD5 in the proxy instead of one per replica, whose
 * writer checks the digest it computes anyway. Smaller ones (objects kept in the object
 * servers' databases) stay as they were: their MD5s cost next to nothing.
 */
export const HASHED_WHOLE_PUT_BYTES = 64 * 1024;

/**
 * Streams an object body to its replicas at once (Swift's replicated object PUT). Each slot
 * starts on a primary; a node that fails early (refused, 507, 5xx) is replaced by the next
 * handoff, which gets the first `replayBytes` of the body replayed, so a write succeeds with
 * one or two primaries down. Later failures just drop a node; the write succeeds when a
 * quorum of nodes stored it with the same ETag.
 */
export async function putObject(deps: BackendDeps, target: Target, headersPerSlot: readonly Record<string, string>[], body: AsyncIterable<Uint8Array>, options: { clientTimeoutMs: number; replayBytes: number; maxBytes: number; expectedBytes?: number; signal: AbortSignal; releaseChunks?: boolean; footer?: boolean }): Promise<PutResult> {
  if (options.expectedBytes !== undefined && options.expectedBytes <= WHOLE_PUT_BYTES && options.expectedBytes <= options.maxBytes) {
    const bytes = await readWhole(body, options.expectedBytes, options.clientTimeoutMs);
    // Hashed once here rather than MD5 on each replica (see HASHED_WHOLE_PUT_BYTES).
    const slotHeaders = options.footer && bytes.length > HASHED_WHOLE_PUT_BYTES ? withHeaders(headersPerSlot, bodyHashHeaders(bytes)) : headersPerSlot;
    return putWhole(deps, target, slotHeaders, bytes, options.signal);
  }
  const slots = headersPerSlot.length;
  const quorum = quorumSize(slots);
  const nodes = writeNodes(deps, target);
  const putters: Putter[] = [];
  const retired: Putter[] = [];
  const replay: Uint8Array[] = [];
  let replayBytes = 0;
  let replayIntact = true;
  // The body's MD5 computed here once, with a cheap checksum the object servers verify instead
  // of each hashing MD5 again (docs/decisions.md, "The proxy computes a large PUT's MD5").
  const hashes = options.footer ? new BodyHashes() : undefined;
  let framing: Framing | undefined;
  if (hashes) {
    const boundary = newBoundary();
    let footer: Buffer | undefined;
    framing = { boundary, preamble: footerPreamble(boundary), footer: () => (footer ??= footerDocument(boundary, hashes.footer())), footerLength: hashFooterLength(boundary) };
  }
  const startOn = (slot: number): Putter | undefined => {
    const step = nodes.next();
    if (step.done) return undefined;
    return new Putter(deps, step.value, slot, target, headersPerSlot[slot] as Record<string, string>, options.signal, framing);
  };
  for (let slot = 0; slot < slots; slot++) {
    const p = startOn(slot);
    if (p) putters.push(p);
  }
  /** Replaces early failures with handoffs while the replay buffer still holds everything sent. */
  const replaceFailed = async (): Promise<void> => {
    // Putters fail when the client goes away too; that is no reason to blame their nodes.
    if (options.signal.aborted) return;
    for (let i = 0; i < putters.length; i++) {
      const p = putters[i] as Putter;
      if (p.live || !p.replaceable || !replayIntact) continue;
      deps.logger.warn('object PUT moving to a handoff', { node: `${p.node.ip}:${p.node.port}/${p.node.device}`, reason: p.failure });
      if (p.answer?.status === 507) deps.limiter.errorLimit(p.node);
      else deps.limiter.errorOccurred(p.node);
      retired.push(p);
      const next = startOn(p.slot);
      if (!next) {
        putters.splice(i--, 1);
        continue;
      }
      putters[i] = next;
      for (const chunk of replay) await next.write(chunk);
      i--; // look at the replacement again: it may have failed at once too
    }
  };

  const tooFewLive = (): boolean => putters.filter((p) => p.live).length < quorum;
  let total = 0;
  let quorumLost = false;
  const pool = new BatchPool(UPLOAD_PIECE_BYTES);
  // The client's socket data in lent 1 MiB pieces, copied in its own `data` events, where the
  // body offers them (the proxy server's requests); else its chunks batched here.
  const readPieces = offeredPieces(body);
  const lent = readPieces !== undefined;
  // A lent piece is filled again once the next is asked for, which happens once every socket
  // wrote it: a stream body (a backend client without `upload`) queues it, so gets a copy.
  const copyLent = lent && deps.backend.upload === undefined;
  const pieces = readPieces ? readPieces({ idleMs: options.clientTimeoutMs }) : batchChunks(readBody(body, options.clientTimeoutMs), { pool, idleFlushMs: UPLOAD_IDLE_FLUSH_MS, releaseSource: options.releaseChunks === true });
  try {
    for await (const piece of pieces) {
      total += piece.length;
      if (total > options.maxBytes) throw new HttpError(413, 'Your request is too large.');
      hashes?.update(piece);
      const chunk = copyLent ? Buffer.from(piece) : piece;
      // Replace first: a new handoff gets the bytes sent so far, then this chunk like the rest.
      await replaceFailed();
      let kept = false;
      if (replayIntact) {
        if (replayBytes + chunk.length <= options.replayBytes) {
          // The replay buffer outlives a lent piece: it keeps a copy.
          replay.push(lent && !copyLent ? Buffer.from(chunk) : chunk);
          replayBytes += chunk.length;
          kept = true;
        } else {
          replayIntact = false;
          replay.length = 0;
        }
      }
      const sent = await Promise.all(putters.map((p) => p.write(chunk)));
      // Every connection is done with the piece: it takes the next bytes (a socket that may
      // still hold it keeps it from the pool; the replay buffer keeps its own). A lent piece
      // goes back when the next is asked for; a node whose write failed is cut off first
      // (`Putter.fail`), so whatever it still held is never stored.
      if (!lent && !kept && sent.every(Boolean)) pool.give(chunk);
      if (tooFewLive()) {
        await replaceFailed();
        if (tooFewLive()) {
          // Too few nodes left to store it (full disks, say): the rest of the body is not read,
          // no node keeps a part of it, and the answer is the nodes' (503), not a client that
          // went away (499).
          quorumLost = true;
          for (const p of putters) p.fail('too few nodes left for a quorum');
          break;
        }
      }
    }
    if (!quorumLost && options.expectedBytes !== undefined && total < options.expectedBytes) throw new ClientDisconnectError(`body ended after ${total} of ${options.expectedBytes} bytes`);
  } catch (err) {
    for (const p of putters) p.fail('upload aborted');
    throw err;
  } finally {
    pool.drain();
  }
  // A small body is sent before a refused connection is even noticed: keep replacing failed
  // nodes with handoffs (replaying the whole body) until every slot has an answer.
  let statuses = await Promise.all(putters.map((p) => p.finish()));
  while (!quorumLost && replayIntact && !options.signal.aborted && putters.some((p) => !p.live && p.replaceable)) {
    await replaceFailed();
    statuses = await Promise.all(putters.map((p) => p.finish()));
  }
  if (hashes && !quorumLost) statuses = storedOtherBytes(deps, putters, statuses, hashes.footer()['Etag'] as string);
  while (statuses.length < slots) statuses.push(503);
  const index = bestResponseIndex(statuses, quorum);
  if (index === undefined) {
    if (options.signal.aborted) throw new ClientDisconnectError('client disconnected during the upload');
    deps.logger.error('object PUT returning 503', { statuses: statuses.join(','), failures: [...retired, ...putters].map((p) => p.failure).filter(Boolean).join('; ') });
    return { status: 503, headers: {} };
  }
  return putResult(statuses, index, putters.map((p) => p.answer?.headers ?? {}));
}

/**
 * A node that answered success for a footered PUT with an ETag other than the proxy's MD5 did
 * not store the client's bytes (an object server too old for footers stores the MIME document
 * itself): its answer counts as a failure, so the client is never told 201 for bytes a
 * quorum does not hold.
 */
function storedOtherBytes(deps: BackendDeps, putters: readonly Putter[], statuses: readonly number[], etag: string): number[] {
  return statuses.map((status, i) => {
    if (status < 200 || status >= 300) return status;
    const stored = (putters[i]?.answer?.headers['etag'] ?? '').replace(/^"|"$/g, '');
    if (stored === etag) return status;
    const node = putters[i]?.node;
    deps.logger.error('object PUT: a node stored other bytes than were sent', { node: node ? `${node.ip}:${node.port}/${node.device}` : '', etag: stored, expected: etag });
    return 503;
  });
}

/** A small body, all of it: each slot sends it to the first node that takes it (primaries, then handoffs). */
async function putWhole(deps: BackendDeps, target: Target, headersPerSlot: readonly Record<string, string>[], bytes: Buffer, signal: AbortSignal): Promise<PutResult> {
  const { replies } = await makeRequests(deps, target, { method: 'PUT', headersPerSlot, body: bytes }, signal, writeNodes(deps, target));
  const statuses = replies.map((r) => r.status);
  const index = bestResponseIndex(statuses, quorumSize(headersPerSlot.length));
  if (index === undefined) {
    if (signal.aborted) throw new ClientDisconnectError('client disconnected during the upload');
    return { status: 503, headers: {} };
  }
  return putResult(statuses, index, replies.map((r) => r.headers));
}

/** The chosen answer; a success only if every replica that stored the object agrees on its ETag. */
function putResult(statuses: readonly number[], index: number, headers: readonly Readonly<Record<string, string>>[]): PutResult {
  const status = statuses[index] as number;
  const chosen = headers[index] ?? {};
  if (status >= 200 && status < 300) {
    const etags = new Set(headers.filter((_, i) => (statuses[i] as number) >= 200 && (statuses[i] as number) < 300).map((h) => h['etag']));
    if (etags.size > 1) throw new HttpError(500, 'Object PUT: replicas disagree on the ETag');
  }
  return { status, ...(chosen['etag'] ? { etag: chosen['etag'] } : {}), headers: chosen };
}

/** Each slot's headers with `extra` added. */
function withHeaders(headersPerSlot: readonly Record<string, string>[], extra: Readonly<Record<string, string>>): Record<string, string>[] {
  return headersPerSlot.map((h) => ({ ...h, ...extra }));
}

/** Reads a body of a known, small length; short is a client disconnect. */
async function readWhole(body: AsyncIterable<Uint8Array>, expected: number, clientTimeoutMs: number): Promise<Buffer> {
  // The HTTP parser stops at Content-Length, so the limit only guards a caller's mistake.
  const bytes = await readWholeBody(body, clientTimeoutMs, expected, () => new HttpError(413, 'Your request is too large.'));
  if (bytes.length < expected) throw new ClientDisconnectError(`body ended after ${bytes.length} of ${expected} bytes`);
  return bytes;
}
