import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as assert from 'uvu/assert';
import { Pool } from 'undici';
import { startCluster } from './cluster.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity } from './identity.ts';
import { IMAGE_ACCOUNT_USERS, startImage } from './image.ts';

/** Deterministic bytes, 1 MiB at a time, each block different (nothing is held whole). */
async function* generated(bytes: number, onProgress: (sent: number) => void): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(1_048_576);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let sent = 0, n = 0; sent < bytes; n++) {
    block.writeUInt32LE(n, 0);
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, bytes - sent)));
    sent += chunk.length;
    onProgress(sent);
    yield chunk;
  }
}

/**
 * An image of `bytes` through the image API on an in-process cluster (4 nodes, 3 replicas):
 * uploaded while one storage node is stopped a third of the way in, downloaded while another
 * is stopped a third of the way in; the bytes that come back have the SHA-512 of those sent,
 * which is the image's `os_hash_value`. With `largeObjectSize` above `bytes` (the default,
 * 5 GiB) the image is one object, else segments of `segmentSize`. Used by the probe test (small) and the 1 GiB run.
 */
export async function imageRoundTrip(bytes: number, limits: { segmentSize: number; largeObjectSize?: number }): Promise<{ upMBs: number; downMBs: number }> {
  // The test cluster's 2 s node timeout is for failover tests; bulk segments on a shared,
  // loaded machine need the production order of magnitude, or a busy (not stopped) node fails
  // the upload.
  const cluster = await startCluster({ users: { ...IDENTITY_ACCOUNT_USERS, ...IMAGE_ACCOUNT_USERS }, proxy: { node_timeout: 30 } });
  const identity = await startIdentity({ cluster });
  const image = await startImage({ cluster, identity, limits });
  const pool = new Pool(image.url, { headersTimeout: 1_800_000, bodyTimeout: 1_800_000 });
  try {
    const token = await identity.token();
    const made = await image.request('POST', '/v2/images', { token, body: { name: 'big', disk_format: 'raw', container_format: 'bare' } });
    const id = made.json.id as string;
    const sentHash = createHash('sha512');
    let stopped: Promise<void> | undefined;
    const body = Readable.from(
      (async function* () {
        for await (const chunk of generated(bytes, (sent) => {
          if (!stopped && sent >= bytes / 3) stopped = cluster.stopNode(1);
        })) {
          sentHash.update(chunk);
          yield chunk;
        }
      })(),
    );
    let started = performance.now();
    const put = await pool.request({ method: 'PUT', path: `/v2/images/${id}/file`, headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': String(bytes) }, body });
    const putText = await put.body.text();
    const upMBs = bytes / 1e6 / ((performance.now() - started) / 1000);
    assert.is(put.statusCode, 204, putText);
    await stopped;
    await cluster.startNode(1);
    const shown = await image.request('GET', `/v2/images/${id}`, { token });
    const expected = sentHash.digest('hex');
    assert.is(shown.json.os_hash_value, expected);
    assert.is(shown.json.size, bytes);

    const gotHash = createHash('sha512');
    let received = 0;
    let stopped2: Promise<void> | undefined;
    started = performance.now();
    const get = await pool.request({ method: 'GET', path: `/v2/images/${id}/file`, headers: { 'x-auth-token': token } });
    assert.is(get.statusCode, 200);
    for await (const chunk of get.body) {
      gotHash.update(chunk);
      received += chunk.length;
      if (!stopped2 && received >= bytes / 3) stopped2 = cluster.stopNode(2);
    }
    const downMBs = bytes / 1e6 / ((performance.now() - started) / 1000);
    await stopped2;
    assert.is(received, bytes);
    assert.is(gotHash.digest('hex'), expected, 'the bytes downloaded are the bytes uploaded');
    return { upMBs, downMBs };
  } finally {
    await pool.close();
    await image.close();
    await identity.close();
    await cluster.close();
  }
}
