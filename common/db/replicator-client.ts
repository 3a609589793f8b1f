import { backendPath, type BackendClient, type BackendNode } from '../http/backend-client.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';
import type { DumpHeader } from './replication-info.ts';

/**
 * The calling side of the replication RPC (`replicator-rpc.ts`), for the db replicator and
 * tests: one REPLICATE request per call, msgpack both ways, through the `BackendClient`.
 */
export interface ReplicateTarget {
  readonly node: BackendNode;
  readonly device: string;
  readonly partition: number;
  /** The database's hash. */
  readonly hash: string;
}

/** A REPLICATE answer: its status and decoded body. */
export interface ReplicateAnswer {
  readonly status: number;
  /** The decoded msgpack answer; undefined when the answer had no msgpack body. */
  readonly body: unknown;
}

async function answer(res: { status: number; headers: Readonly<Record<string, string>>; body: { bytes(): Promise<Buffer> } }): Promise<ReplicateAnswer> {
  const bytes = await res.body.bytes();
  const msgpack = (res.headers['content-type'] ?? '').startsWith('application/x-msgpack');
  return { status: res.status, body: msgpack && bytes.length > 0 ? decodeRecord(bytes) : undefined };
}

/** Sends `[op, ...args]` to a remote database. */
export async function replicateCall(backend: BackendClient, target: ReplicateTarget, op: string, ...args: unknown[]): Promise<ReplicateAnswer> {
  const res = await backend.request(target.node, {
    method: 'REPLICATE',
    path: backendPath(target.device, target.partition, target.hash),
    headers: { 'Content-Type': 'application/x-msgpack' },
    body: encodeRecord([op, ...args]),
  });
  return answer(res);
}

/**
 * Creates a remote database from a local `dump()` (the `load` op), streaming it: the header
 * first, then each chunk of rows as it is read.
 * @returns 201 when loaded, 409 when the remote already has the database.
 */
export async function replicateLoad(backend: BackendClient, target: ReplicateTarget, sourceId: string, dump: AsyncIterable<DumpHeader | readonly unknown[]>): Promise<ReplicateAnswer> {
  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const part of dump) {
      yield Array.isArray(part) ? encodeRecord(part) : encodeRecord(['load', part, sourceId]);
    }
  }
  const res = await backend.request(target.node, {
    method: 'REPLICATE',
    path: backendPath(target.device, target.partition, target.hash),
    headers: { 'Content-Type': 'application/x-msgpack' },
    body: body(),
  });
  return answer(res);
}
