import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { markOwnChunks } from '../../../common/release-buffer.ts';
import { uploadObject } from '../../../client/object-upload.ts';
import { UploadMismatchError, UploadTooLargeError } from '../../../client/errors.ts';
import { SwiftClient } from '../../../client/swift-client.ts';
import { type FakeBehaviour, fakeBackend } from '../../helpers/fake-backend.ts';
import { startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { rejects } from '../../helpers/rejects.ts';

/**
 * `uploadObject` on an in-process cluster: one sized PUT whose MD5 is the cluster's ETag, a
 * refused or broken body leaves no object; and over a scripted backend, an answer whose ETag
 * is not an MD5 fails the upload.
 */
let cluster: TestCluster;
let http: UndiciBackendClient;
let client: SwiftClient;
const MiB = 1_048_576;

test.before(async () => {
  cluster = await startCluster({ users: { 'user_.obj_svc': 'objpass .admin' } });
  http = new UndiciBackendClient();
  client = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.obj:svc', key: 'objpass' }, { http, clock: systemClock });
});
test.after(async () => {
  await http.close();
  await cluster.close();
});

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** `bytes` in chunks of `chunk`. */
async function* chunks(bytes: Buffer, chunk = 300_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
}

async function status(object: string): Promise<number> {
  const res = await client.request({ method: 'HEAD', container: 'data', object });
  await res.body.dump();
  return res.status;
}

test('a sized body is one plain object; its MD5 is the ETag the cluster computed, its SHA-512 ours', async () => {
  const body = randomBytes(2.5 * MiB);
  const result = await uploadObject(client, chunks(body), { container: 'data', object: 'one', size: body.length });
  assert.is(result.size, body.length);
  assert.is(result.md5, md5(body));
  assert.is(result.sha512, createHash('sha512').update(body).digest('hex'));
  const res = await client.request({ method: 'GET', container: 'data', object: 'one' });
  assert.is(res.status, 200);
  assert.is(res.headers['x-static-large-object'], undefined);
  assert.ok((await res.body.bytes()).equals(body));
});

test('an expected MD5 is checked by the object servers: a wrong one is refused and stores nothing, the right one stores', async () => {
  const body = randomBytes(MiB + 3);
  const err = await rejects(uploadObject(client, chunks(body), { container: 'data', object: 'md5', size: body.length, expectedMd5: md5(Buffer.from('other')) }), UploadMismatchError);
  assert.is((err as UploadMismatchError).what, 'md5');
  assert.is(await status('md5'), 404);
  const ok = await uploadObject(client, chunks(body), { container: 'data', object: 'md5', size: body.length, expectedMd5: md5(body).toUpperCase() });
  assert.is(ok.md5, md5(body));
});

for (const [name, bytes, size] of [
  ['shorter', MiB, MiB + 1],
  ['longer', MiB + 1, MiB],
] as const) {
  test(`a body ${name} than its size is refused and leaves no object`, async () => {
    const err = await rejects(uploadObject(client, chunks(randomBytes(bytes)), { container: 'data', object: name, size }), UploadMismatchError);
    assert.is((err as UploadMismatchError).what, 'size');
    assert.is(await status(name), 404);
  });
}

test('a body over maxBytes is refused as it arrives and leaves no object', async () => {
  await rejects(uploadObject(client, chunks(randomBytes(2 * MiB)), { container: 'data', object: 'big', size: 2 * MiB, maxBytes: MiB }), UploadTooLargeError);
  assert.is(await status('big'), 404);
});

test("a source that fails mid-way is reported as the source's error and leaves no object", async () => {
  const failing = async function* (): AsyncGenerator<Uint8Array> {
    yield randomBytes(MiB);
    throw new Error('client went away');
  };
  await rejects(uploadObject(client, failing(), { container: 'data', object: 'cut', size: 2 * MiB }), /client went away/);
  assert.is(await status('cut'), 404);
});

/** 64 KiB pieces, each its own memory as a socket's reads are, marked as a request body's. */
function ownPieces(count: number): { chunks: Buffer[]; whole: Buffer } {
  const chunks = Array.from({ length: count }, () => randomFillSync(Buffer.alloc(64 * 1024)));
  return { chunks, whole: Buffer.concat(chunks) };
}
const released = (chunk: Buffer): boolean => (chunk.buffer as ArrayBuffer).detached;
async function* each(list: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* list;
}

test("a request body's own chunks are given back once sent; the hashes and the stored bytes are the whole's", async () => {
  const { chunks, whole } = ownPieces(24);
  const result = await uploadObject(client, markOwnChunks(each(chunks)), { container: 'data', object: 'own', size: whole.length });
  assert.ok(chunks.every(released));
  assert.is(result.md5, md5(whole));
  assert.is(result.sha512, createHash('sha512').update(whole).digest('hex'));
  const res = await client.request({ method: 'GET', container: 'data', object: 'own' });
  assert.ok((await res.body.bytes()).equals(whole));
});

test('chunks of a source not marked as its own are kept (another holder may still read them)', async () => {
  const { chunks, whole } = ownPieces(4);
  await uploadObject(client, each(chunks), { container: 'data', object: 'kept', size: whole.length });
  assert.ok(chunks.every((c) => !released(c)));
});

test("regression: a request body that fails half-way while its chunks are released as sent leaves no object", async () => {
  const { chunks, whole } = ownPieces(24);
  const failing = async function* (): AsyncGenerator<Uint8Array> {
    yield* chunks.slice(0, 12);
    throw new Error('client went away');
  };
  await rejects(uploadObject(client, markOwnChunks(failing()), { container: 'data', object: 'own-cut', size: whole.length }), /client went away/);
  assert.ok(chunks.slice(0, 12).every(released));
  assert.is(await status('own-cut'), 404);
});

test('an answer whose ETag is not an MD5 fails the upload and the object is deleted again', async () => {
  for (const etag of ['"abc"', '']) {
    const fake = fakeBackend((_, req): FakeBehaviour => {
      if (req.path === '/auth/v1.0') return { status: 200, headers: { 'x-auth-token': 'tok', 'x-storage-url': 'http://127.0.0.1:1/v1/AUTH_x' } };
      if (req.method === 'PUT') return { status: 201, headers: { etag } };
      return { status: 204 };
    });
    const scripted = new SwiftClient({ authUrl: 'http://127.0.0.1:1/auth/v1.0', user: 'a:b', key: 'k' }, { http: fake, clock: systemClock });
    await rejects(uploadObject(scripted, chunks(randomBytes(1000)), { container: 'data', object: 'o', size: 1000 }), /not an MD5/);
    assert.equal(
      fake.requests.filter((r) => r.path === '/v1/AUTH_x/data/o').map((r) => r.method),
      ['PUT', 'DELETE'],
    );
  }
});

test.run();
