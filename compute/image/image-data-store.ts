import { deleteSegments, uploadSegmented, type UploadResult } from '../../client/segmented-upload.ts';
import type { SwiftClient } from '../../client/swift-client.ts';
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
