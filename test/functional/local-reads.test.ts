import { createHash, randomBytes } from 'node:crypto';
import { copyFile, open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEADER_SIZE } from '../../object/diskfile/format.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';
import { systemClock } from '../../common/clock.ts';
import { lentChunks } from '../../common/http/lendable-body.ts';
import type { LocalFileAnswer } from '../../common/http/local-file-read.ts';
import type { ServerRequest } from '../../common/http/server.ts';
import { nullLogger } from '../../common/logger.ts';
import { DiskLocalDataFiles } from '../../object/diskfile/local-data-files.ts';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/** Reads ask node 1's replica first, then node 2's, ...: zones are node numbers in the test cluster. */
const BY_NODE = { sorting_method: 'affinity', read_affinity: 'r1z1=1, r1z2=2, r1z3=3, r1z4=4' };

async function withCluster(fn: (c: TestCluster) => Promise<void>, proxy: Record<string, unknown> = {}): Promise<void> {
  const c = await startCluster({ proxy: { ...BY_NODE, ...proxy } });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** The proxy's count of local reads with this outcome (`swiftlet_proxy_local_reads_total`). */
async function localReads(c: TestCluster, outcome: 'local' | 'fallback'): Promise<number> {
  const text = await c.proxy.metrics.registry.metrics();
  const m = new RegExp(`^swiftlet_proxy_local_reads_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The data file of an object on the first primary (the replica a GET reads first). */
async function firstReplicaFile(c: TestCluster, container: string, object: string): Promise<{ path: string; node: number }> {
  const { partition, nodes } = c.rings.object.getNodes('AUTH_test', container, object);
  // The primary a read asks first (BY_NODE): the lowest-numbered node.
  const node = Math.min(...nodes.map((d) => c.nodes.findIndex((n) => n.ports.object === d.port)));
  const { devices, device } = c.nodes[node] as (typeof c.nodes)[number];
  const hash = c.hashPath.hash('AUTH_test', container, object);
  const dir = join(devices, device, 'objects', String(partition), hash.slice(-3), hash);
  const name = (await readdir(dir)).find((f) => f.endsWith('.data'));
  assert.ok(name, 'the primary read first holds the object');
  return { path: join(dir, name), node: node + 1 };
}

/** Runs `step` before each open of a file the proxy's local reads are named (what happens in between). */
function beforeEachOpen(c: TestCluster, step: () => Promise<void>): void {
  const original = c.proxy.context.localReads;
  assert.ok(original, 'local reads are on');
  const hooked: typeof original = {
    isLocal: (node) => original.isLocal(node),
    open: async (file, etag) => {
      await step();
      return original.open(file, etag);
    },
    observe: (outcome) => original.observe(outcome),
  };
  Object.assign(c.proxy.context, { localReads: hooked });
}

/** Flips the byte at `offset` of the body in an object file (past the header and the checksums before it). */
async function flipByte(path: string, offset: number, original: number): Promise<void> {
  const handle = await open(path, 'r+');
  await handle.write(Buffer.from([original ^ 0xff]), 0, 1, HEADER_SIZE + offset + Math.floor(offset / 65_536) * 8);
  await handle.close();
}

test('a large GET through a proxy on the same machine: the proxy reads the data file itself, every byte right', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    // One read with O_DIRECT (at least 4 MiB), one through the page cache, one too small to read locally.
    const big = randomBytes(9 * 1024 * 1024 + 12_345);
    const mid = randomBytes(2 * 1024 * 1024 + 7);
    const small = randomBytes(300_000);
    for (const [name, body] of [['big', big], ['mid', mid], ['small', small]] as const) assert.is((await c.request('PUT', `/v1/AUTH_test/local/${name}`, {}, body)).status, 201);

    const get = await c.request('GET', '/v1/AUTH_test/local/big');
    assert.is(get.status, 200);
    assert.is(get.headers['content-length'], String(big.length));
    assert.is(get.headers['etag'], md5(big));
    assert.is(get.headers['accept-ranges'], 'bytes');
    assert.ok(get.body.equals(big), 'every byte right');
    assert.is(Object.keys(get.headers).filter((h) => h.startsWith('x-backend-')).length, 0, 'no backend header reaches the client');
    assert.is(await localReads(c, 'local'), 1);

    const ranged = await c.request('GET', '/v1/AUTH_test/local/big', { Range: 'bytes=3000000-7999999' });
    assert.is(ranged.status, 206);
    assert.is(ranged.headers['content-range'], `bytes 3000000-7999999/${big.length}`);
    assert.ok(ranged.body.equals(big.subarray(3_000_000, 8_000_000)));
    const tail = await c.request('GET', '/v1/AUTH_test/local/big', { Range: 'bytes=-1500000' });
    assert.ok(tail.body.equals(big.subarray(big.length - 1_500_000)));
    assert.ok((await c.request('GET', '/v1/AUTH_test/local/mid')).body.equals(mid));
    assert.is(await localReads(c, 'local'), 4);
    assert.ok((await c.request('GET', '/v1/AUTH_test/local/small')).body.equals(small));
    assert.is(await localReads(c, 'local'), 4, 'a body under 1 MiB is relayed');

    // A multi-range answer is MIME around the ranges: relayed, and right.
    const multi = await c.request('GET', '/v1/AUTH_test/local/big', { Range: 'bytes=0-1199999,5000000-6199999' });
    assert.is(multi.status, 206);
    assert.match(multi.headers['content-type'] ?? '', /^multipart\/byteranges/);
    assert.ok(multi.body.includes(big.subarray(5_000_000, 6_200_000)));
    // Conditions are still the object server's to answer.
    assert.is((await c.request('GET', '/v1/AUTH_test/local/big', { 'If-None-Match': md5(big) })).status, 304);
    assert.is((await c.request('GET', '/v1/AUTH_test/local/big', { 'If-Match': 'nope' })).status, 412);
    assert.is(await localReads(c, 'fallback'), 0);
  }));

test('a server-side COPY and a segmented GET read local bodies as their own chunks: the copy and the manifest are right', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    const big = randomBytes(6 * 1024 * 1024 + 1);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/src', {}, big)).status, 201);
    assert.is((await c.request('COPY', '/v1/AUTH_test/local/src', { Destination: 'local/dst' })).status, 201);
    const copied = await c.request('GET', '/v1/AUTH_test/local/dst');
    assert.is(copied.headers['etag'], md5(big));
    assert.ok(copied.body.equals(big));

    const second = randomBytes(5 * 1024 * 1024);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/seg2', {}, second)).status, 201);
    const manifest = JSON.stringify([
      { path: '/local/src', etag: md5(big), size_bytes: big.length },
      { path: '/local/seg2', etag: md5(second), size_bytes: second.length },
    ]);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/slo?multipart-manifest=put', {}, manifest)).status, 201);
    const slo = await c.request('GET', '/v1/AUTH_test/local/slo');
    assert.is(slo.status, 200);
    assert.ok(slo.body.equals(Buffer.concat([big, second])));
    const sloRange = await c.request('GET', '/v1/AUTH_test/local/slo', { Range: 'bytes=6000000-7999999' });
    assert.ok(sloRange.body.equals(Buffer.concat([big, second]).subarray(6_000_000, 8_000_000)));
    assert.is(await localReads(c, 'local'), 5, 'the copy source, the copy, both segments, one segment of the range');
  }));

test('a bad block in the local replica: the read goes on over HTTP from the same byte, the object server quarantines it, the client gets every byte right', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    const body = randomBytes(8 * 1024 * 1024);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/rot', {}, body)).status, 201);
    const { path, node } = await firstReplicaFile(c, 'local', 'rot');
    const offset = 5_500_000;
    await flipByte(path, offset, body[offset] as number);
    const get = await c.request('GET', '/v1/AUTH_test/local/rot');
    assert.is(get.status, 200);
    assert.is(get.body.length, body.length);
    assert.ok(get.body.equals(body), 'every byte right');
    assert.is(await localReads(c, 'fallback'), 1);
    const { partition } = c.rings.object.getNodes('AUTH_test', 'local', 'rot');
    const direct = await httpRequest(c.nodes[node - 1]?.ports.object as number, 'GET', `/${c.nodes[node - 1]?.device}/${partition}/AUTH_test/local/rot`);
    assert.is(direct.status, 404, 'the object server moved the bad replica aside');
    // The next read is local again, from the next replica.
    assert.ok((await c.request('GET', '/v1/AUTH_test/local/rot')).body.equals(body));
    assert.is(await localReads(c, 'local'), 1);
  }));

test('a data file replaced after the object server named it (another inode at the path): the proxy does not read it, the answer comes over HTTP', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    const body = randomBytes(5 * 1024 * 1024);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/moved', {}, body)).status, 201);
    const { path } = await firstReplicaFile(c, 'local', 'moved');
    // Same bytes, new inode: what the proxy would open is not the file that was checked.
    beforeEachOpen(c, async () => {
      await copyFile(path, `${path}.copy`);
      await rename(`${path}.copy`, path);
    });
    const get = await c.request('GET', '/v1/AUTH_test/local/moved');
    assert.is(get.status, 200);
    assert.ok(get.body.equals(body));
    assert.is(await localReads(c, 'fallback'), 1, 'the swapped file was refused');
  }));

test('a GET racing an overwrite (the object server named the old file, the new version removed it before the proxy opened it) gets the new version whole, not a 503', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    const old = randomBytes(3 * 1024 * 1024);
    const current = randomBytes(4 * 1024 * 1024 + 9);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/race', {}, old)).status, 201);
    let raced = false;
    beforeEachOpen(c, async () => {
      if (raced) return;
      raced = true;
      assert.is((await c.request('PUT', '/v1/AUTH_test/local/race', {}, current)).status, 201);
    });
    const get = await c.request('GET', '/v1/AUTH_test/local/race');
    assert.is(get.status, 200);
    assert.is(get.headers['etag'], md5(current));
    assert.ok(get.body.equals(current));
    assert.is(await localReads(c, 'fallback'), 1);
  }));

test('a local body let go unread gives its file and slabs back', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/local');
    const body = randomBytes(5 * 1024 * 1024);
    assert.is((await c.request('PUT', '/v1/AUTH_test/local/unread', {}, body)).status, 201);
    // Slabs for one large read: while that body is held, no other read is local.
    const files = new DiskLocalDataFiles({ clock: systemClock, logger: nullLogger, slabs: 2 });
    let closed = 0;
    Object.assign(c.proxy.context, {
      localReads: {
        isLocal: (node: { ip: string }) => files.isLocal(node),
        open: async (file: LocalFileAnswer, etag: string) => {
          const reader = await files.open(file, etag);
          const close = (): Promise<void> => {
            closed += 1;
            return reader.close();
          };
          return { read: reader.read.bind(reader), close };
        },
        observe: () => undefined,
      },
    });
    const get = (): ServerRequest => ({ method: 'GET', path: '/v1/AUTH_test/local/unread', rawQuery: '', query: new URLSearchParams(), headers: { 'x-auth-token': token }, body: Readable.from([]), remoteAddress: '127.0.0.1', signal: new AbortController().signal });
    const token = await c.token();
    const res = await c.proxy.handle(get());
    assert.is(res.status, 200);
    assert.not.ok(files.isLocal({ ip: '127.0.0.1' }), 'the unread body holds both slabs');
    await lentChunks(res.body)?.return?.();
    assert.is(closed, 1, 'the file is closed');
    assert.ok(files.isLocal({ ip: '127.0.0.1' }), 'the slabs are back');
    // And the next GET reads locally, every byte right.
    assert.ok((await c.request('GET', '/v1/AUTH_test/local/unread')).body.equals(body));
  }));

test('a client cannot ask for a local read: X-Backend-Local-Read is dropped at the gatekeeper, the body comes whole', () =>
  withCluster(
    async (c) => {
      await c.request('PUT', '/v1/AUTH_test/local');
      const body = randomBytes(2 * 1024 * 1024);
      assert.is((await c.request('PUT', '/v1/AUTH_test/local/o', {}, body)).status, 201);
      const get = await c.request('GET', '/v1/AUTH_test/local/o', { 'X-Backend-Local-Read': 'yes' });
      assert.is(get.status, 200);
      assert.ok(get.body.equals(body));
      assert.is(get.headers['x-backend-local-file'], undefined);
      assert.is(await localReads(c, 'local'), 0, 'local_file_reads = false: none');
    },
    { local_file_reads: false },
  ));

test.run();
