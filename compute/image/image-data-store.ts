import { downloadObject, type ObjectDownload } from '../../client/object-download.ts';
import { uploadObject } from '../../client/object-upload.ts';
import { deleteSegments, uploadSegmented } from '../../client/segmented-upload.ts';
import type { SwiftClient } from '../../client/swift-client.ts';
import { BackendError } from '../../common/errors.ts';
import { passChunkMarks } from '../../common/release-buffer.ts';
import { DATA_CONTAINER, SEGMENT_CONTAINER } from './deps.ts';

/** An image's stored bytes: size, hashes, and where its segments are (none: one object). */
export interface StoredImageData {
  readonly size: number;
  readonly md5: string;
  readonly sha512: string;
  /** The segments' prefix; absent when the image is one plain object. */
  readonly segmentPrefix?: string;
  readonly virtualSize: number | null;
}

/**
 * Image bytes in the cluster, as Glance's swift store keeps them (glance_store
 * `_drivers/swift/store.py`, `add`): an image whose size is known and under `largeObjectSize`
 * is one object named by its id, and its `checksum` is the cluster's ETag of that object (the
 * object servers' MD5, see `uploadObject`), so only SHA-512 is computed here; a larger image,
 * or one of unknown size (a chunked upload), is a manifest over segments
 * (`image-data_segments/<id>/<upload>/<n>`) of `segmentSize` bytes, hashed here.
 * Deleting the object with `multipart-manifest=delete` removes either.
 */
export async function storeImageData(client: SwiftClient, id: string, body: AsyncIterable<Uint8Array>, options: { segmentSize: number; largeObjectSize: number; maxBytes: number; expectedMd5?: string; expectedSize?: number }): Promise<StoredImageData> {
  const header = new QcowHeaderTap();
  const md5 = options.expectedMd5 !== undefined ? { expectedMd5: options.expectedMd5 } : {};
  if (options.expectedSize !== undefined && options.expectedSize < options.largeObjectSize) {
    const result = await uploadObject(client, header.tap(body), { container: DATA_CONTAINER, object: id, size: options.expectedSize, maxBytes: options.maxBytes, ...md5 });
    return { ...result, virtualSize: header.virtualSize() };
  }
  const result = await uploadSegmented(client, header.tap(body), {
    container: DATA_CONTAINER,
    object: id,
    segmentContainer: SEGMENT_CONTAINER,
    segmentSize: options.segmentSize,
    maxBytes: options.maxBytes,
    ...md5,
    ...(options.expectedSize !== undefined ? { expectedSize: options.expectedSize } : {}),
  });
  return { ...result, virtualSize: header.virtualSize() };
}

/**
 * An image's bytes, whole (`range` absent) or a range. An image stored as one object
 * (`segmented: false`, its record has no segment prefix) is one plain GET. Otherwise a whole
 * image is read segment by segment
 * from its manifest (`multipart-manifest=get&format=raw`), each a plain GET: the proxy's large
 * object path cost three times the CPU of plain GETs for the same bytes (docs/performance.md,
 * "Images"). Each segment must still have the manifest's ETag, and a cut one is resumed as
 * `downloadObject` does. A range goes through the proxy's large object GET.
 * @throws {ObjectMissingError} {RangeNotSatisfiableError} as `downloadObject`.
 */
export async function readImageData(client: SwiftClient, id: string, options: { range?: string; segmented?: boolean } = {}): Promise<ObjectDownload> {
  if (options.range !== undefined) return downloadObject(client, DATA_CONTAINER, id, { range: options.range });
  if (options.segmented === false) return downloadObject(client, DATA_CONTAINER, id);
  const res = await client.request({ method: 'GET', container: DATA_CONTAINER, object: id, query: { 'multipart-manifest': 'get', format: 'raw' } });
  if (res.status !== 200 || res.headers['x-static-large-object'] === undefined) {
    // Not a manifest (an empty image is stored plainly) or missing: the ordinary GET says which.
    await res.body.dump();
    return downloadObject(client, DATA_CONTAINER, id);
  }
  const segments = (await res.body.json()) as { path: string; etag: string; size_bytes: number }[];
  const size = segments.reduce((sum, s) => sum + s.size_bytes, 0);
  const open = async (segment: { path: string; etag: string }): Promise<AsyncIterable<Uint8Array>> => {
    const slash = segment.path.indexOf('/', 1);
    const part = await downloadObject(client, segment.path.slice(1, slash), segment.path.slice(slash + 1));
    if ((part.headers['etag'] ?? '').replace(/"/g, '') !== segment.etag) {
      for await (const _ of part.body) break;
      throw new BackendError('BACKEND_IO', `${DATA_CONTAINER}/${id}`, `segment ${segment.path} is not the one the manifest names`);
    }
    return part.body;
  };
  // The first segment is opened before answering, so a missing or changed one is an error
  // status rather than a cut body.
  const first = segments[0] ? await open(segments[0]) : undefined;
  const body = async function* (): AsyncGenerator<Uint8Array> {
    for (const [i, segment] of segments.entries()) yield* i === 0 && first ? first : await open(segment);
  };
  return { status: 200, headers: { 'content-length': String(size), etag: res.headers['etag'] ?? '' }, body: body() };
}

/** Removes an image's bytes (manifest and segments, or its one object); nothing when there are none. */
export async function deleteImageData(client: SwiftClient, id: string): Promise<void> {
  const res = await client.request({ method: 'DELETE', container: DATA_CONTAINER, object: id, query: { 'multipart-manifest': 'delete' } });
  await res.body.dump();
  // SLO's delete refuses an object that is not a manifest (`Not an SLO manifest`, in a 200's
  // body, as Swift's): an image stored as one object, or an empty one, goes with a plain DELETE.
  const plain = await client.request({ method: 'DELETE', container: DATA_CONTAINER, object: id });
  await plain.body.dump();
  // Segments of an upload whose manifest was never written (a crash), and any left by the above.
  await deleteSegments(client, SEGMENT_CONTAINER, `${id}/`).catch(() => 0);
}

/**
 * Keeps the first bytes of an upload to read a qcow2 header's virtual size (bytes 24-31,
 * big-endian, after the `QFI\xfb` magic), as Glance's image inspector does on upload.
 */
class QcowHeaderTap {
  private head = Buffer.alloc(0);

  /** `body` as it is (marked as it is: the header is a copy, so its chunks stay its own, or lent). */
  tap(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    return passChunkMarks(body, this.read(body));
  }

  private async *read(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      if (this.head.length < 32) this.head = Buffer.concat([this.head, Buffer.from(chunk.subarray(0, 32 - this.head.length))]);
      yield chunk;
    }
  }

  virtualSize(): number | null {
    if (this.head.length < 32 || this.head.readUInt32BE(0) !== 0x514649fb) return null;
    return Number(this.head.readBigUInt64BE(24));
  }
}
