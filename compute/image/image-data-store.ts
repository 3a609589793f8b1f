import { downloadObject, type ObjectDownload } from '../../client/object-download.ts';
import { deleteSegments, uploadSegmented, type UploadResult } from '../../client/segmented-upload.ts';
import type { SwiftClient } from '../../client/swift-client.ts';
import { BackendError } from '../../common/errors.ts';
import { DATA_CONTAINER, SEGMENT_CONTAINER } from './deps.ts';

/**
 * Image bytes in the cluster, as Glance's swift store keeps them: one object per image, named
 * by its id, a manifest over segments (`image-data_segments/<id>/<upload>/<n>`) of
 * `segmentSize` bytes; deleting the manifest with `multipart-manifest=delete` removes them.
 */
export async function storeImageData(client: SwiftClient, id: string, body: AsyncIterable<Uint8Array>, options: { segmentSize: number; maxBytes: number; expectedMd5?: string; expectedSize?: number }): Promise<UploadResult & { virtualSize: number | null }> {
  const header = new QcowHeaderTap();
  const result = await uploadSegmented(client, header.tap(body), {
    container: DATA_CONTAINER,
    object: id,
    segmentContainer: SEGMENT_CONTAINER,
    segmentSize: options.segmentSize,
    maxBytes: options.maxBytes,
    ...(options.expectedMd5 !== undefined ? { expectedMd5: options.expectedMd5 } : {}),
    ...(options.expectedSize !== undefined ? { expectedSize: options.expectedSize } : {}),
  });
  return { ...result, virtualSize: header.virtualSize() };
}

/**
 * An image's bytes, whole (`range` absent) or a range. A whole image is read segment by segment
 * from its manifest (`multipart-manifest=get&format=raw`), each a plain GET: the proxy's large
 * object path cost three times the CPU of plain GETs for the same bytes (docs/performance.md,
 * "Images"). Each segment must still have the manifest's ETag, and a cut one is resumed as
 * `downloadObject` does. A range goes through the proxy's large object GET.
 * @throws {ObjectMissingError} {RangeNotSatisfiableError} as `downloadObject`.
 */
export async function readImageData(client: SwiftClient, id: string, options: { range?: string } = {}): Promise<ObjectDownload> {
  if (options.range !== undefined) return downloadObject(client, DATA_CONTAINER, id, { range: options.range });
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

/** Removes an image's bytes (manifest and segments); nothing when there are none. */
export async function deleteImageData(client: SwiftClient, id: string): Promise<void> {
  const res = await client.request({ method: 'DELETE', container: DATA_CONTAINER, object: id, query: { 'multipart-manifest': 'delete' } });
  await res.body.dump();
  // Segments of an upload whose manifest was never written (a crash), and any left by the above.
  await deleteSegments(client, SEGMENT_CONTAINER, `${id}/`).catch(() => 0);
}

/**
 * Keeps the first bytes of an upload to read a qcow2 header's virtual size (bytes 24-31,
 * big-endian, after the `QFI\xfb` magic), as Glance's image inspector does on upload.
 */
class QcowHeaderTap {
  private head = Buffer.alloc(0);

  async *tap(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
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
