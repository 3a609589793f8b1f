import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { markOwnChunks } from '../../../common/release-buffer.ts';
import { SwiftClient } from '../../../client/swift-client.ts';
import { UploadMismatchError } from '../../../client/errors.ts';
import { uploadSegmented } from '../../../client/segmented-upload.ts';
import { startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { rejects } from '../../helpers/rejects.ts';

/**
 * `uploadSegmented` on an in-process cluster: sized segments when the whole size is known, the
 * proxy's ETags in the manifest, and a body shorter or longer than it said leaves nothing.
 */
let cluster: TestCluster;
let http: UndiciBackendClient;
let client: SwiftClient;
const MiB = 1_048_576;

test.before(async () => {
  cluster = await startCluster({ users: { 'user_.seg_svc': 'segpass .admin' } });
  http = new UndiciBackendClient();
  client = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.seg:svc', key: 'segpass' }, { http, clock: systemClock });
});
test.after(async () => {
  await http.close();
  await cluster.close();
});

/** `bytes` in chunks of `chunk` (so segment boundaries fall inside chunks). */
async function* chunks(bytes: Buffer, chunk = 300_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
}

async function segmentRows(prefix: string): Promise<{ name: string; bytes: number; hash: string }[]> {
  return (await client.listContainer('segs', { prefix, newest: true })) ?? [];
}

async function read(object: string): Promise<Buffer> {
  const res = await client.request({ method: 'GET', container: 'data', object });
  assert.is(res.status, 200);
  return res.body.bytes();
}

for (const sized of [true, false]) {
  test(`a ${sized ? 'sized' : 'chunked'} body of 2.5 segments round-trips with its MD5 and SHA-512`, async () => {
    const body = randomBytes(2.5 * MiB);
    const object = `obj-${sized}`;
    const result = await uploadSegmented(client, chunks(body), { container: 'data', object, segmentContainer: 'segs', segmentSize: MiB, ...(sized ? { expectedSize: body.length } : {}) });
    assert.is(result.size, body.length);
    assert.is(result.md5, createHash('md5').update(body).digest('hex'));
    assert.is(result.sha512, createHash('sha512').update(body).digest('hex'));
    assert.ok((await read(object)).equals(body));
    const rows = await segmentRows(`${object}/`);
    assert.equal(
      rows.map((r) => r.bytes),
      [MiB, MiB, MiB / 2],
    );
    assert.equal(
      rows.map((r) => r.hash),
      [0, 1, 2].map((i) => createHash('md5').update(body.subarray(i * MiB, (i + 1) * MiB)).digest('hex')),
    );
  });
}

test('a body shorter than expectedSize is refused and leaves no segment and no manifest', async () => {
  const body = randomBytes(1.5 * MiB);
  const err = await rejects(uploadSegmented(client, chunks(body), { container: 'data', object: 'short', segmentContainer: 'segs', segmentSize: MiB, expectedSize: 2 * MiB }), UploadMismatchError);
  assert.is((err as UploadMismatchError).what, 'size');
  assert.equal(await segmentRows('short/'), []);
  const head = await client.request({ method: 'HEAD', container: 'data', object: 'short' });
  await head.body.dump();
  assert.is(head.status, 404);
});

test('a body longer than expectedSize is refused and leaves no segment and no manifest', async () => {
  const body = randomBytes(2 * MiB + 10);
  const err = await rejects(uploadSegmented(client, chunks(body), { container: 'data', object: 'long', segmentContainer: 'segs', segmentSize: MiB, expectedSize: 2 * MiB }), UploadMismatchError);
  assert.is((err as UploadMismatchError).what, 'size');
  assert.equal(await segmentRows('long/'), []);
  const head = await client.request({ method: 'HEAD', container: 'data', object: 'long' });
  await head.body.dump();
  assert.is(head.status, 404);
});

/** 64 KiB pieces, each its own memory as a socket's reads are. */
function ownPieces(count: number): { chunks: Buffer[]; whole: Buffer } {
  const chunks = Array.from({ length: count }, () => randomFillSync(Buffer.alloc(64 * 1024)));
  return { chunks, whole: Buffer.concat(chunks) };
}
const released = (chunk: Buffer): boolean => (chunk.buffer as ArrayBuffer).detached;
async function* each(list: readonly Uint8Array[], failAt?: number): AsyncGenerator<Uint8Array> {
  for (const [i, chunk] of list.entries()) {
    if (i === failAt) throw new Error('client went away');
    yield chunk;
  }
}

for (const sized of [true, false]) {
  test(`a request body's own chunks are given back once sent (${sized ? 'sized' : 'chunked'} segments); a chunk cut at a segment boundary is kept whole`, async () => {
    // 40 x 64 KiB over 1 MiB segments: 16 chunks a segment, none straddles a boundary. Over
    // 100 KiB segments a boundary cuts some chunks, which must be kept: their two views go out
    // in two PUTs.
    const { chunks, whole } = ownPieces(40);
    const object = `own-${sized}`;
    const result = await uploadSegmented(client, markOwnChunks(each(chunks)), { container: 'data', object, segmentContainer: 'segs', segmentSize: MiB, ...(sized ? { expectedSize: whole.length } : {}) });
    assert.ok(chunks.every(released));
    assert.is(result.sha512, createHash('sha512').update(whole).digest('hex'));
    assert.ok((await read(object)).equals(whole));
    const cut = ownPieces(8);
    await uploadSegmented(client, markOwnChunks(each(cut.chunks)), { container: 'data', object: `${object}-cut`, segmentContainer: 'segs', segmentSize: 100 * 1024, ...(sized ? { expectedSize: cut.whole.length } : {}) });
    assert.ok((await read(`${object}-cut`)).equals(cut.whole));
    const straddles = (i: number): boolean => Math.floor((i * 64) / 100) !== Math.floor(((i + 1) * 64 - 1) / 100);
    assert.equal(
      cut.chunks.map(released),
      cut.chunks.map((_, i) => !straddles(i)),
    );
  });
}

test("regression: a request body that fails half-way while its chunks are released as sent leaves no segment and no manifest", async () => {
  const { chunks, whole } = ownPieces(40);
  await rejects(uploadSegmented(client, markOwnChunks(each(chunks, 24)), { container: 'data', object: 'own-cut', segmentContainer: 'segs', segmentSize: MiB, expectedSize: whole.length }), /client went away/);
  assert.ok(chunks.slice(0, 24).every(released));
  assert.equal(await segmentRows('own-cut/'), []);
  const head = await client.request({ method: 'HEAD', container: 'data', object: 'own-cut' });
  await head.body.dump();
  assert.is(head.status, 404);
});

test.run();
