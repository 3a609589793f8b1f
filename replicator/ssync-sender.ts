import { unpack } from 'msgpackr';
import { type BackendClient, backendPath } from '../common/http/backend-client.ts';
import type { Logger } from '../common/logger.ts';
import type { DiskFileManager, ObjectEntry, ObjectReader } from '../object/diskfile/types.ts';
import { decodeWants, encodeFrameHeader, encodeOffers, type Offer, SSYNC_PHASE_HEADER, type UpdatesResult, type Want } from '../object/ssync-protocol.ts';

/** A remote object server device. */
export interface SsyncTarget {
  readonly ip: string;
  readonly port: number;
  readonly device: string;
}

export interface SsyncDeps {
  readonly backend: BackendClient;
  /** The disk files of the policy being pushed. */
  readonly diskFiles: DiskFileManager;
  /** That policy's index, sent as `X-Backend-Storage-Policy-Index` so the remote uses the same one. */
  readonly policyIndex: number;
  readonly logger: Logger;
  readonly nodeTimeoutMs: number;
}

export interface PushResult {
  /** What was offered (for a handoff: what may be removed once every primary took it). */
  readonly offered: readonly ObjectEntry[];
  /** Updates sent (data, tombstones and metadata). */
  readonly sent: number;
  readonly bytes: number;
  readonly failed: number;
}

/**
 * Pushes the objects of some suffixes of a local partition to a remote device (the sending side
 * of `object/ssync-protocol.ts`): offers everything, then sends what the remote wants, data
 * streamed from disk.
 * @throws {Error} when the remote cannot be reached or refuses (the caller counts a failure).
 */
export async function ssyncPush(deps: SsyncDeps, local: { device: string; partition: number }, remote: SsyncTarget, suffixes: readonly string[], signal?: AbortSignal): Promise<PushResult> {
  const offered: ObjectEntry[] = [];
  for await (const entry of deps.diskFiles.objects(local.device, local.partition, suffixes)) offered.push(entry);
  if (offered.length === 0) return { offered, sent: 0, bytes: 0, failed: 0 };
  const offers: Offer[] = offered.map((e) => ({
    hash: e.hash,
    timestamp: ((e.dataTimestamp ?? e.tombstoneTimestamp) as NonNullable<ObjectEntry['dataTimestamp']>).internal,
    deleted: e.tombstoneTimestamp !== undefined,
    ...(e.metaTimestamp ? { metaTimestamp: e.metaTimestamp.internal } : {}),
  }));
  const path = backendPath(remote.device, local.partition);
  const check = await deps.backend.request(remote, { method: 'SSYNC', path, headers: { [SSYNC_PHASE_HEADER]: 'missing-check', 'X-Backend-Storage-Policy-Index': String(deps.policyIndex) }, body: encodeOffers(offers), timeoutMs: deps.nodeTimeoutMs, ...(signal ? { signal } : {}) });
  if (check.status !== 200) {
    await check.body.dump();
    throw new Error(`missing check answered ${check.status}`);
  }
  const wants = decodeWants(await check.body.bytes());
  if (wants.length === 0) return { offered, sent: 0, bytes: 0, failed: 0 };
  const byHash = new Map(offered.map((e) => [e.hash, e]));
  const counter = { bytes: 0 };
  const updates = await deps.backend.request(remote, {
    method: 'SSYNC',
    path,
    headers: { [SSYNC_PHASE_HEADER]: 'updates', 'X-Backend-Storage-Policy-Index': String(deps.policyIndex) },
    body: frames(deps, local, wants, byHash, counter),
    timeoutMs: 0, // the stream may be long; the remote answers once it has applied it all
    ...(signal ? { signal } : {}),
  });
  if (updates.status !== 200) {
    await updates.body.dump();
    throw new Error(`updates answered ${updates.status}`);
  }
  const result = unpack(await updates.body.bytes()) as UpdatesResult;
  for (const [hash, reason] of result.failed) deps.logger.warn('ssync update refused', { remote: `${remote.ip}:${remote.port}/${remote.device}`, hash, reason });
  return { offered, sent: result.applied, bytes: counter.bytes, failed: result.failed.length };
}

/** The update frames for the remote's wants, data read from disk as it is sent. */
async function* frames(deps: SsyncDeps, local: { device: string; partition: number }, wants: readonly Want[], byHash: ReadonlyMap<string, ObjectEntry>, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for (const want of wants) {
    const entry = byHash.get(want.hash);
    if (!entry) continue;
    if (want.data && entry.tombstoneTimestamp) {
      yield encodeFrameHeader({ op: 'DELETE', hash: entry.hash, timestamp: entry.tombstoneTimestamp.internal, metadata: {}, length: 0 });
      continue;
    }
    let reader: ObjectReader;
    try {
      reader = await (await deps.diskFiles.diskFileByHash(local.device, local.partition, entry.hash)).open({ openExpired: true });
    } catch (err) {
      // Deleted, replaced or quarantined since the offer: the next pass sends what is there then.
      deps.logger.info('ssync: object changed since it was offered', { hash: entry.hash, err });
      continue;
    }
    try {
      if (want.data) {
        yield encodeFrameHeader({ op: 'PUT', hash: entry.hash, timestamp: reader.dataTimestamp.internal, metadata: reader.dataFileMetadata, length: reader.contentLength });
        for await (const chunk of reader.read()) {
          counter.bytes += chunk.length;
          yield chunk;
        }
      }
      const meta = reader.metaFileMetadata;
      if (meta && (want.meta || want.data)) {
        yield encodeFrameHeader({ op: 'POST', hash: entry.hash, timestamp: meta['X-Timestamp'] ?? reader.timestamp.internal, metadata: meta, length: 0 });
      }
    } finally {
      await reader.close();
    }
  }
}
