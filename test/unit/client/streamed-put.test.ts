import { randomFillSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { BackendError } from '../../../common/errors.ts';
import { type BackendClient, type BackendUpload, UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { streamedPut } from '../../../client/streamed-put.ts';
import { SwiftClient } from '../../../client/swift-client.ts';
import { type FakeBehaviour, fakeBackend } from '../../helpers/fake-backend.ts';
import { startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { rejects } from '../../helpers/rejects.ts';

/**
 * `streamedPut` through the seam's `upload`: a source's own chunks are given back once sent,
 * a borrowed source's never; a source that fails is reported as itself and stores nothing; an
 * early answer ends the sending (a success that early is an error); a stalled upload times out.
 */
let cluster: TestCluster;
let http: UndiciBackendClient;
let client: SwiftClient;
const KiB = 1024;

test.before(async () => {
  cluster = await startCluster({ users: { 'user_.put_svc': 'putpass .admin' } });
  http = new UndiciBackendClient();
  client = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.put:svc', key: 'putpass' }, { http, clock: systemClock });
  await client.putContainer('data');
});
test.after(async () => {
  await http.close();
  await cluster.close();
});

/** 64 KiB pieces, each its own memory (as a socket's reads are), and a copy of the whole. */
function pieces(count: number): { chunks: Buffer[]; whole: Buffer } {
  const chunks = Array.from({ length: count }, () => randomFillSync(Buffer.alloc(64 * KiB)));
  return { chunks, whole: Buffer.concat(chunks) };
}

const released = (chunk: Buffer): boolean => (chunk.buffer as ArrayBuffer).detached;

async function* from(chunks: readonly Uint8Array[], failAfter?: number): AsyncGenerator<Uint8Array> {
  for (const [i, chunk] of chunks.entries()) {
    if (i === failAfter) throw new Error('client went away');
    yield chunk;
  }
}

async function get(object: string): Promise<{ status: number; body: Buffer }> {
  const res = await client.request({ method: 'GET', container: 'data', object });
  return { status: res.status, body: await res.body.bytes() };
}

const put = (object: string, length: number) => ({ method: 'PUT', container: 'data', object, headers: { 'content-length': String(length) } });

test("a source's own chunks are given back once sent, and the object holds every byte", async () => {
  const { chunks, whole } = pieces(40);
  const res = await streamedPut(client, put('own', whole.length), from(chunks), { release: true });
  await res.body.dump();
  assert.is(res.status, 201);
  assert.ok(chunks.every((c) => released(c)), 'every chunk released');
  const got = await get('own');
  assert.is(got.status, 200);
  assert.ok(got.body.equals(whole));
});

test('a source whose chunks are not its own keeps them', async () => {
  const { chunks, whole } = pieces(8);
  const res = await streamedPut(client, put('borrowed', whole.length), from(chunks), { release: false });
  await res.body.dump();
  assert.is(res.status, 201);
  assert.ok(chunks.every((c) => !released(c) && c.length === 64 * KiB));
  assert.ok(Buffer.concat(chunks).equals(whole));
});

test("regression: a source that fails half-way (its chunks released as they went) is reported as itself and stores nothing", async () => {
  const { chunks, whole } = pieces(40);
  await rejects(streamedPut(client, put('cut', whole.length), from(chunks, 20), { release: true }), /client went away/);
  assert.ok(chunks.slice(0, 20).every((c) => released(c)), 'the chunks sent were released');
  assert.ok(chunks.slice(20).every((c) => !released(c)), 'the rest never left');
  assert.is((await get('cut')).status, 404);
});

/** A lent source: one piece of memory filled again with each part once the reader asks for the next. */
async function* lentFrom(parts: readonly Buffer[]): AsyncGenerator<Uint8Array> {
  const piece = Buffer.alloc(64 * KiB);
  for (const part of parts) {
    part.copy(piece);
    yield piece;
  }
}

test('lent pieces (one memory filled again per piece) are stored intact, sent as they are through the seam and copied without it', async () => {
  const { chunks, whole } = pieces(24);
  const res = await streamedPut(client, put('lent', whole.length), lentFrom(chunks), { release: false, lent: true });
  await res.body.dump();
  assert.is(res.status, 201);
  assert.ok((await get('lent')).body.equals(whole));
  // A seam without `upload` streams the body, reading ahead of its socket: the pieces must be copies.
  const plain = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.put:svc', key: 'putpass' }, { http: { request: (node, req) => http.request(node, req), close: async () => {} }, clock: systemClock });
  const streamed = await streamedPut(plain, put('lent-streamed', whole.length), lentFrom(chunks), { release: false, lent: true });
  await streamed.body.dump();
  assert.is(streamed.status, 201);
  assert.ok((await get('lent-streamed')).body.equals(whole));
});

const fakeClient = (backend: BackendClient): SwiftClient => new SwiftClient({ authUrl: 'http://127.0.0.1:1/auth/v1.0', user: 'a:b', key: 'k' }, { http: backend, clock: systemClock });
const authOr = (answer: FakeBehaviour) => (_: string, req: { path: string }): FakeBehaviour =>
  req.path === '/auth/v1.0' ? { status: 200, headers: { 'x-auth-token': 'tok', 'x-storage-url': 'http://127.0.0.1:1/v1/AUTH_x' } } : answer;

test('an answer before the whole body is sent ends the sending and is returned (the rest is not read)', async () => {
  const fake = fakeBackend(authOr({ status: 413, afterBytes: 128 * KiB }), { upload: true });
  const { chunks } = pieces(40);
  let pulled = 0;
  const counted = async function* (): AsyncGenerator<Uint8Array> {
    for (const c of chunks) {
      pulled++;
      yield c;
    }
  };
  const res = await streamedPut(fakeClient(fake), put('early', 40 * 64 * KiB), counted(), { release: false });
  assert.is(res.status, 413);
  assert.ok(pulled < 40, `pulled ${pulled} of 40`);
});

test('a success answered before the whole body is sent is an error', async () => {
  const fake = fakeBackend(authOr({ status: 201, afterBytes: 128 * KiB }), { upload: true });
  const { chunks } = pieces(40);
  await rejects(streamedPut(fakeClient(fake), put('short', 40 * 64 * KiB), from(chunks), { release: false }), /answered 201 before the whole body was sent/);
});

test('a piece that is never sent fails the upload with a timeout once stallMs passes', async () => {
  let destroyed: Error | undefined;
  const stuck: BackendClient = {
    ...fakeBackend(authOr({ status: 200 })),
    upload: (): BackendUpload => {
      let reject: (err: Error) => void = () => undefined;
      const response = new Promise<never>((_, r) => (reject = r));
      response.catch(() => undefined);
      return {
        write: () => new Promise(() => undefined),
        end: () => undefined,
        destroy: (reason) => {
          destroyed = reason;
          reject(reason);
        },
        response,
      };
    },
  };
  const err = await rejects(streamedPut(fakeClient(stuck), put('stuck', 64 * KiB), from(pieces(1).chunks), { release: false, stallMs: 30 }), BackendError);
  assert.is((err as BackendError).code, 'BACKEND_TIMEOUT');
  assert.is(destroyed, err);
});

test.run();
