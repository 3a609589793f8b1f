import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { downloadObject, ObjectMissingError } from '../../client/object-download.ts';
import { deleteSegments, uploadSegmented } from '../../client/segmented-upload.ts';
import type { SwiftClient } from '../../client/swift-client.ts';

/**
 * How a server's disk travels between hosts on a cold migration or resize: the hosts share
 * nothing but the cluster, so the source uploads the disk as a temporary object (named by the
 * migration) and the target downloads it; confirm or revert removes it. Nova's libvirt driver
 * copies the instance directory over ssh/rsync instead.
 */
export interface DiskTransfer {
  /** Stores the file at `path` under `key` (replacing what was there: a rerun uploads again). */
  upload(key: string, path: string): Promise<void>;
  /** Writes `key`'s bytes to `path` (synced, then renamed into place). */
  download(key: string, path: string): Promise<void>;
  /** Removes `key`; nothing when it is already gone. */
  remove(key: string): Promise<void>;
}

/** Writes `chunks` to `path` through a temporary file, fsynced before the rename. */
async function writeSynced(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const tmp = `${path}.part`;
  const file = await open(tmp, 'w');
  try {
    for await (const chunk of chunks) await file.write(chunk);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
}

/** The in-memory twin, for tests with several agents in one process. */
export class MemoryDiskTransfer implements DiskTransfer {
  readonly objects = new Map<string, Buffer>();

  async upload(key: string, path: string): Promise<void> {
    const parts: Buffer[] = [];
    for await (const chunk of createReadStream(path)) parts.push(chunk as Buffer);
    this.objects.set(key, Buffer.concat(parts));
  }

  async download(key: string, path: string): Promise<void> {
    const bytes = this.objects.get(key);
    if (bytes === undefined) throw new ObjectMissingError(`${DISK_CONTAINER}/${key}`);
    await writeSynced(path, (async function* () {
      yield bytes;
    })());
  }

  async remove(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

/** Where migrating disks wait in compute's system account. */
export const DISK_CONTAINER = 'migrating-disks';
const SEGMENT_CONTAINER = `${DISK_CONTAINER}_segments`;
/** Disks go up in segments of this size (a static large object), so none passes the cluster's object size limit. */
const SEGMENT_BYTES = 1024 * 1024 * 1024;

/** Disks in the cluster, as the compute account's large objects. */
export class SwiftDiskTransfer implements DiskTransfer {
  private readonly client: SwiftClient;

  constructor(client: SwiftClient) {
    this.client = client;
  }

  async upload(key: string, path: string): Promise<void> {
    await uploadSegmented(this.client, createReadStream(path), { container: DISK_CONTAINER, object: key, segmentContainer: SEGMENT_CONTAINER, segmentSize: SEGMENT_BYTES, maxBytes: Number.MAX_SAFE_INTEGER });
  }

  async download(key: string, path: string): Promise<void> {
    const got = await downloadObject(this.client, DISK_CONTAINER, key);
    await writeSynced(path, got.body);
  }

  async remove(key: string): Promise<void> {
    const res = await this.client.request({ method: 'DELETE', container: DISK_CONTAINER, object: key, query: { 'multipart-manifest': 'delete' } });
    await res.body.dump();
    await deleteSegments(this.client, SEGMENT_CONTAINER, `${key}/`).catch(() => 0);
  }
}
