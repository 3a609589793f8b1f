import { createHash } from 'node:crypto';
import { Timestamp } from '../common/timestamp.ts';
import type { DiskFileManager, ObjectEntry, ObjectLocation } from './diskfile/types.ts';
import { type Offer, readFrames, type UpdateHeader, type UpdatesResult, type Want } from './ssync-protocol.ts';

/**
 * The receiving side of SSYNC (see `ssync-protocol.ts`): what this node wants of a sender's
 * offers, and applying the updates it then sends. Replicated writes go straight to the
 * DiskFile (no container updates: container replication keeps listings in step), with the
 * sender's timestamps and metadata, and the data checked against its ETag as it arrives.
 */
export async function missingCheck(diskFiles: DiskFileManager, device: string, partition: number, offers: readonly Offer[]): Promise<Want[]> {
  const suffixes = [...new Set(offers.map((o) => o.hash.slice(-3)))];
  const local = new Map<string, ObjectEntry>();
  for await (const entry of diskFiles.objects(device, partition, suffixes)) local.set(entry.hash, entry);
  const wants: Want[] = [];
  for (const offer of offers) {
    const mine = local.get(offer.hash);
    const mineTs = newest(mine?.dataTimestamp, mine?.tombstoneTimestamp);
    const offered = Timestamp.parse(offer.timestamp);
    const data = mineTs === undefined || offered.isNewerThan(mineTs);
    let meta = false;
    if (offer.metaTimestamp !== undefined && !offer.deleted) {
      const offeredMeta = Timestamp.parse(offer.metaTimestamp);
      meta = data || (mine?.dataTimestamp?.equals(offered) === true && (mine.metaTimestamp === undefined || offeredMeta.isNewerThan(mine.metaTimestamp)));
    }
    if (data || meta) wants.push({ hash: offer.hash, data, meta });
  }
  return wants;
}

/** Applies an updates stream; a bad frame is recorded and skipped, the stream goes on. */
export async function applyUpdates(diskFiles: DiskFileManager, device: string, partition: number, body: AsyncIterable<Uint8Array>): Promise<UpdatesResult> {
  let applied = 0;
  const failed: [string, string][] = [];
  for await (const { header, data } of readFrames(body)) {
    try {
      await applyOne(diskFiles, device, partition, header, data);
      applied++;
    } catch (err) {
      failed.push([header.hash, (err as Error).message]);
    }
  }
  return { applied, failed };
}

async function applyOne(diskFiles: DiskFileManager, device: string, partition: number, header: UpdateHeader, data: AsyncIterable<Buffer>): Promise<void> {
  if (header.metadata['X-Timestamp'] !== undefined && header.metadata['X-Timestamp'] !== header.timestamp) throw new Error('X-Timestamp does not match the frame');
  const location = locationOf(device, partition, header.metadata['name']);
  const df = location ? await diskFiles.diskFile(location) : await diskFiles.diskFileByHash(device, partition, header.hash);
  if (df.hash !== header.hash) throw new Error(`name ${header.metadata['name']} does not hash to ${header.hash}`);
  if (header.op === 'DELETE') {
    await df.delete(Timestamp.parse(header.timestamp));
    return;
  }
  if (header.op === 'POST') {
    await df.writeMetadata({ ...header.metadata, 'X-Timestamp': header.timestamp });
    return;
  }
  if (!location) throw new Error('a PUT needs the object name in its metadata');
  const writer = await df.create(header.length);
  const md5 = createHash('md5');
  try {
    for await (const chunk of data) {
      md5.update(chunk);
      await writer.write(chunk);
    }
    const etag = md5.digest('hex');
    if (etag !== header.metadata['ETag']) throw new Error(`data does not match its ETag (${etag} != ${header.metadata['ETag']})`);
    await writer.commit({ ...header.metadata, 'X-Timestamp': header.timestamp, 'Content-Length': String(writer.bytesWritten) });
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** `/a/c/o` → a location on this device and partition. */
function locationOf(device: string, partition: number, name: string | undefined): ObjectLocation | undefined {
  if (name === undefined || !name.startsWith('/')) return undefined;
  const [account, container, ...rest] = name.slice(1).split('/');
  if (!account || !container || rest.length === 0) return undefined;
  return { device, partition, account, container, object: rest.join('/') };
}

function newest(a: Timestamp | undefined, b: Timestamp | undefined): Timestamp | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.isNewerThan(b) ? a : b;
}
