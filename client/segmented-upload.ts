import { createHash, randomBytes } from 'node:crypto';
import { SwiftError } from '../common/errors.ts';
import { hasOwnChunks } from '../common/release-buffer.ts';
import { UploadMismatchError } from './errors.ts';
import { streamedPut } from './streamed-put.ts';
import type { SwiftClient } from './swift-client.ts';
import { unexpected } from './swift-client.ts';
import { UploadTally } from './upload-tally.ts';

/** What a stored upload is: its size and hashes, computed on the way through. */
export interface UploadResult {
  readonly size: number;
  /** MD5, hex. */
  readonly md5: string;
  /** SHA-512, hex (Glance's `os_hash_value` with `os_hash_algo` sha512). */
  readonly sha512: string;
  /** The manifest's segment prefix (`<object>/<upload id>/`), for cleanup. */
  readonly segmentPrefix: string;
}

export interface SegmentedUploadOptions {
  /** The container of the manifest (the object the user reads). */
  readonly container: string;
  readonly object: string;
  /** The container the segments go to (made if missing). */
  readonly segmentContainer: string;
  /** Bytes per segment (Glance's swift store: `large_object_chunk_size`). */
  readonly segmentSize: number;
  /** Refuse more than this many bytes (checked as they arrive, before they are stored). */
  readonly maxBytes?: number;
  /** Refuse a body whose MD5 is not this (hex), after reading it, before the manifest. */
  readonly expectedMd5?: string;
  /** Refuse a body whose length is not this (a Content-Length that the client did not keep). */
  readonly expectedSize?: number;
  readonly contentType?: string;
}

/**
 * Stores a stream of any length, chunked or not, as an SLO: the bytes go out as they come in
 * segments of `segmentSize` (`<object>/<upload id>/<00000001>` in `segmentContainer`; the
 * upload id keeps two uploads of one object apart), then the manifest is PUT at
 * `container/object`. Each segment is sized (`Content-Length`) when `expectedSize` is given,
 * chunked otherwise. The whole body's MD5 and SHA-512 are computed on the way; nothing holds more than one
 * chunk of the body. Any failure (the source erring, a limit, a mismatch, the cluster) removes
 * the segments written so far and no manifest exists, so nothing is left behind.
 */
export async function uploadSegmented(client: SwiftClient, source: AsyncIterable<Uint8Array>, options: SegmentedUploadOptions): Promise<UploadResult> {
  const uploadId = randomBytes(8).toString('hex');
  const prefix = `${options.object}/${uploadId}/`;
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  const tally = new UploadTally({ maxBytes: options.maxBytes, expectedSize: options.expectedSize }, [md5, sha512]);
  const segments: { path: string; etag: string; size_bytes: number }[] = [];
  const cutter = new ByteCutter(source[Symbol.asyncIterator]());
  // A source whose chunks are its own (a request's socket data) gets each one freed once sent.
  const release = hasOwnChunks(source);
  await client.ensureContainer(options.segmentContainer);
  await client.ensureContainer(options.container);
  try {
    for (let n = 1; ; n++) {
      const first = await cutter.peek();
      if (first === undefined && n > 1) break;
      if (first !== undefined && options.expectedSize !== undefined && tally.total >= options.expectedSize) throw new UploadMismatchError('size', `more than ${options.expectedSize} bytes`);
      const name = `${prefix}${String(n).padStart(8, '0')}`;
      let size = 0;
      // A sized segment when the whole is sized: the storage nodes take a chunked body at about
      // twice the CPU of a sized one (measured: docs/performance.md, "Images").
      const length = options.expectedSize === undefined ? undefined : Math.min(options.segmentSize, options.expectedSize - tally.total);
      const body = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of cutter.take(length ?? options.segmentSize)) {
          tally.count(chunk);
          size += chunk.length;
          yield chunk;
        }
        if (length !== undefined && size < length) tally.end();
      };
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (length !== undefined) headers['content-length'] = String(length);
      const res = await streamedPut(client, { method: 'PUT', container: options.segmentContainer, object: name, headers }, body(), { release });
      if (res.status !== 201) throw await unexpected(res, 'PUT', `${options.segmentContainer}/${name}`);
      await res.body.dump();
      // The proxy's MD5 of the bytes it stored (hashing them here too cost 1.5 CPU-s per GiB);
      // the manifest PUT checks each segment against it.
      const etag = (res.headers['etag'] ?? '').replace(/"/g, '');
      segments.push({ path: `/${options.segmentContainer}/${name}`, etag, size_bytes: size });
      if (first === undefined) break;
    }
    tally.end();
    const result = { size: tally.total, md5: md5.digest('hex'), sha512: sha512.digest('hex'), segmentPrefix: prefix };
    if (options.expectedMd5 !== undefined && options.expectedMd5.toLowerCase() !== result.md5) throw new UploadMismatchError('md5', `${result.md5}, ${options.expectedMd5} expected`);
    // An empty body is one empty segment; SLO refuses a zero-byte segment, so store it plainly.
    const manifest = tally.total === 0 ? undefined : JSON.stringify(segments.filter((s) => s.size_bytes > 0));
    const res = manifest
      ? await client.request({ method: 'PUT', container: options.container, object: options.object, query: { 'multipart-manifest': 'put' }, headers: { 'content-type': options.contentType ?? 'application/octet-stream' }, body: manifest })
      : await client.request({ method: 'PUT', container: options.container, object: options.object, headers: { 'content-type': options.contentType ?? 'application/octet-stream' }, body: '' });
    if (res.status !== 201) throw await unexpected(res, 'PUT', `${options.container}/${options.object}`);
    await res.body.dump();
    if (tally.total === 0) await deleteSegments(client, options.segmentContainer, prefix);
    return result;
  } catch (err) {
    // Stop reading the source: a request body left mid-way keeps its reader's timer alive.
    await cutter.close();
    await deleteSegments(client, options.segmentContainer, prefix).catch(() => undefined);
    throw err;
  }
}

/** Removes every segment under `prefix` (a failed upload's, or a deleted object's). */
export async function deleteSegments(client: SwiftClient, container: string, prefix: string): Promise<number> {
  let removed = 0;
  const names: string[] = [];
  for await (const row of client.listAll(container, { prefix, newest: true })) names.push(row.name);
  for (const name of names) {
    const res = await client.request({ method: 'DELETE', container, object: name });
    await res.body.dump();
    if (res.status === 204) removed++;
    else if (res.status !== 404) throw new SwiftError('SEGMENT_DELETE_FAILED', `DELETE ${container}/${name}: ${res.status}`);
  }
  return removed;
}

/**
 * Cuts a stream of chunks into runs of at most N bytes without copying: a chunk that straddles
 * a boundary goes as two views of it.
 */
class ByteCutter {
  private readonly source: AsyncIterator<Uint8Array>;
  private pending: Uint8Array | undefined;
  private done = false;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.source = source;
  }

  /** Ends the source early (its `finally` blocks run). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.pending = undefined;
    await this.source.return?.().catch(() => undefined);
  }

  /** The next chunk without taking it; undefined at the end. */
  async peek(): Promise<Uint8Array | undefined> {
    while (this.pending === undefined && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) this.pending = next.value;
    }
    return this.pending;
  }

  async *take(limit: number): AsyncGenerator<Uint8Array> {
    let left = limit;
    while (left > 0) {
      const chunk = await this.peek();
      if (chunk === undefined) return;
      if (chunk.length <= left) {
        this.pending = undefined;
        left -= chunk.length;
        yield chunk;
      } else {
        this.pending = chunk.subarray(left);
        yield chunk.subarray(0, left);
        left = 0;
      }
    }
  }
}
