import { createHash } from 'node:crypto';
import { SwiftError } from '../common/errors.ts';
import { hasLentChunks, hasOwnChunks } from '../common/release-buffer.ts';
import { UploadMismatchError } from './errors.ts';
import { streamedPut } from './streamed-put.ts';
import type { SwiftClient } from './swift-client.ts';
import { unexpected } from './swift-client.ts';
import { UploadTally } from './upload-tally.ts';

/** What a stored object upload is: its size and hashes. */
export interface ObjectUploadResult {
  readonly size: number;
  /** MD5, hex: the cluster's ETag of the stored object (see `uploadObject`). */
  readonly md5: string;
  /** SHA-512, hex, computed here on the way through. */
  readonly sha512: string;
}

export interface ObjectUploadOptions {
  readonly container: string;
  readonly object: string;
  /** The body's length: the PUT is sized (a plain object is at most the cluster's max_file_size). */
  readonly size: number;
  /** Refuse more than this many bytes (checked as they arrive, before they are stored). */
  readonly maxBytes?: number;
  /** Refuse a body whose MD5 is not this (hex): sent as the PUT's ETag, so nothing is stored. */
  readonly expectedMd5?: string;
  readonly contentType?: string;
}

const MD5_HEX = /^[0-9a-f]{32}$/;

/**
 * Stores a sized stream as ONE object (`container/object`), as glance_store's swift driver
 * stores an image under `large_object_size`, and returns its MD5 without hashing it here: every
 * object server computes the MD5 of the bytes it writes (and refuses the PUT with 422 when an
 * `ETag` was sent and differs), and the proxy answers 201 only when every replica that stored
 * the object reports the same ETag. That ETag is taken only from a 201 of a plain PUT whose
 * byte count was checked here, and only if it is an MD5 (32 hex digits); anything else fails
 * the upload. SHA-512 (Glance's `os_hash_value`) is computed here, as nothing else has it.
 * Any failure leaves no object: an object server discards a PUT cut short, and a PUT that
 * failed after some replica stored it is deleted again.
 */
export async function uploadObject(client: SwiftClient, source: AsyncIterable<Uint8Array>, options: ObjectUploadOptions): Promise<ObjectUploadResult> {
  const sha512 = createHash('sha512');
  const tally = new UploadTally({ maxBytes: options.maxBytes, expectedSize: options.size }, [sha512]);
  await client.ensureContainer(options.container);
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream', 'content-length': String(options.size) };
  if (options.expectedMd5 !== undefined) headers['etag'] = options.expectedMd5.toLowerCase();
  const path = `${options.container}/${options.object}`;
  try {
    // A source whose chunks are its own (a request's socket data) gets each one freed once sent;
    // lent pieces (`readBodyPieces`) are sent as they are, the tally only looking at each.
    const res = await streamedPut(client, { method: 'PUT', container: options.container, object: options.object, headers }, tally.pass(source), { release: hasOwnChunks(source), lent: hasLentChunks(source) });
    if (res.status === 422 && options.expectedMd5 !== undefined) {
      await res.body.dump();
      throw new UploadMismatchError('md5', `the body's MD5 is not ${options.expectedMd5}`);
    }
    if (res.status !== 201) throw await unexpected(res, 'PUT', path);
    await res.body.dump();
    const etag = (res.headers['etag'] ?? '').replace(/"/g, '').toLowerCase();
    if (!MD5_HEX.test(etag)) throw new SwiftError('UPLOAD_NO_ETAG', `PUT ${path}: answered ETag ${JSON.stringify(res.headers['etag'] ?? null)}, not an MD5`);
    return { size: tally.total, md5: etag, sha512: sha512.digest('hex') };
  } catch (err) {
    // A PUT that failed on its quorum may still have been stored by a replica or two.
    const res = await client.request({ method: 'DELETE', container: options.container, object: options.object }).catch(() => undefined);
    await res?.body.dump();
    throw err;
  }
}
