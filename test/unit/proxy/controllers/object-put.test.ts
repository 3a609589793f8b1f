import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UndiciBackendClient } from '../../../../common/http/backend-client.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../../common/hash-path.ts';
import { BackendError } from '../../../../common/errors.ts';
import { createLogger, } from '../../../../common/logger.ts';
import type { BackendDeps } from '../../../../proxy/backend-requests.ts';
import { ClientDisconnectError } from '../../../../common/http/body-reader.ts';
import { readBodyPieces } from '../../../../common/http/body-pieces.ts';
import { offerPieces } from '../../../../common/http/offered-pieces.ts';
import { markOwnChunks } from '../../../../common/release-buffer.ts';
import { PassThrough } from 'node:stream';
import { bodyHashHeaders } from '../../../../common/http/put-hash-headers.ts';
import { HASHED_WHOLE_PUT_BYTES, putObject, WHOLE_PUT_BYTES } from '../../../../proxy/controllers/object-put.ts';
import { RingBuilder } from '../../../../ring/builder.ts';
import { Ring } from '../../../../ring/ring.ts';
import { fakeBackend, type FakeBehaviour } from '../../../helpers/fake-backend.ts';
import { fakeBackendDeps, fiveNodeTarget } from '../../../helpers/proxy-backend-deps.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const clock = new ManualClock();
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const pick = (h: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string | undefined> => Object.fromEntries(keys.map((k) => [k, h[k]]));

const target = () => fiveNodeTarget(clock);
const deps = (script: (node: string) => FakeBehaviour, backend: { upload?: boolean } = {}) => fakeBackendDeps(clock, fakeBackend((node) => script(node), backend));

/** A body in `n` chunks, pausing between them so a refused connection is noticed mid-upload. */
async function* slowBody(data: Buffer, n: number): AsyncGenerator<Uint8Array> {
  const size = Math.ceil(data.length / n);
  for (let i = 0; i < data.length; i += size) {
    yield data.subarray(i, i + size);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const options = { clientTimeoutMs: 5000, replayBytes: 1024 * 1024, maxBytes: 5 * 1024 ** 3, signal: new AbortController().signal };

test('regression: a handoff that replaces a failed node mid-upload gets every byte exactly once', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const d = deps((node) => (node === primaries[0] || node === primaries[1] ? 'refuse' : { status: 201 }));
  // Larger than a body read whole: streamed.
  const data = randomBytes(WHOLE_PUT_BYTES + 300_000);
  const result = await putObject(d, t, [{}, {}, {}], slowBody(data, 6), { ...options, replayBytes: 4 * 1024 * 1024, expectedBytes: data.length });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  const puts = d.backend.requests.filter((r) => r.method === 'PUT');
  assert.is(puts.length, 3, 'the live primary and two handoffs');
  for (const put of puts) assert.is(md5(put.body), md5(data), `${put.node} got a different body (${put.body.length} bytes)`);
});

/** A body of `n` chunks of `size` bytes, each its own ArrayBuffer, as a socket delivers them. */
function ownChunks(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, () => {
    const chunk = Buffer.from(new ArrayBuffer(size));
    randomBytes(size).copy(chunk);
    return chunk;
  });
}

async function* chunksOf(chunks: readonly Buffer[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    yield chunk;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('with a backend that says when a piece has left, the client chunks are released once copied into the pieces that go out, and every replica stores every byte', async () => {
  const t = target();
  const d = deps(() => ({ status: 201 }), { upload: true });
  const chunks = ownChunks(Math.ceil(WHOLE_PUT_BYTES / (64 * 1024)) + 4, 64 * 1024);
  const data = Buffer.concat(chunks);
  const result = await putObject(d, t, [{}, {}, {}], chunksOf(chunks), { ...options, replayBytes: 2 * 64 * 1024, expectedBytes: data.length, releaseChunks: true });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  const puts = d.backend.requests.filter((r) => r.method === 'PUT');
  assert.is(puts.length, 3);
  for (const put of puts) assert.is(md5(put.body), md5(data), `${put.node} got a different body`);
  assert.ok(chunks.every((c) => (c.buffer as ArrayBuffer).detached), 'every client chunk released (the replay buffer keeps the pieces, not the chunks)');
});

test('chunks are not released unless the caller says they are its own', async () => {
  const t = target();
  const d = deps(() => ({ status: 201 }), { upload: true });
  const chunks = ownChunks(4, 64 * 1024);
  const result = await putObject(d, t, [{}, {}, {}], chunksOf(chunks), { ...options, replayBytes: 0, expectedBytes: 4 * 64 * 1024 });
  assert.is(result.status, 201);
  assert.ok(chunks.every((c) => !(c.buffer as ArrayBuffer).detached));
});

test('regression: with a backend that says when a piece has left, a handoff that replaces a failed node mid-upload gets every byte exactly once', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  // The first primary is refused; the second takes 3 chunks, answers 507 and reads no more.
  const d = deps((node) => (node === primaries[0] ? 'refuse' : node === primaries[1] ? { status: 507, afterBytes: 3 * 64 * 1024 } : { status: 201 }), { upload: true });
  const chunks = ownChunks(24, 64 * 1024);
  const data = Buffer.concat(chunks);
  const result = await putObject(d, t, [{}, {}, {}], chunksOf(chunks), { ...options, expectedBytes: data.length, releaseChunks: true });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  const stored = d.backend.requests.filter((r) => r.method === 'PUT' && md5(r.body) === md5(data));
  assert.is(stored.length, 3, 'the live primary and two handoffs each got every byte');
  assert.ok(chunks.every((c) => (c.buffer as ArrayBuffer).detached), 'the client chunks were copied into pieces and released');
});

/** A request body as the proxy server hands it on: socket chunks, offering lent 1 MiB pieces. */
function offeringBody(chunks: readonly Buffer[]): AsyncIterable<Uint8Array> {
  const socket = new PassThrough();
  void (async () => {
    for (const chunk of chunks) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    socket.end();
  })();
  return offerPieces(markOwnChunks(socket), ({ idleMs }) => readBodyPieces(socket, { idleMs, releaseChunks: true }));
}

test('regression: a body read in lent pieces (each filled again once sent) reaches every replica whole, and a handoff that replaces a failed node gets the replayed first piece', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  // The first primary is refused; the second takes part of the first piece, answers 507 and reads no more.
  const d = deps((node) => (node === primaries[0] ? 'refuse' : node === primaries[1] ? { status: 507, afterBytes: 3 * 64 * 1024 } : { status: 201 }), { upload: true });
  // 4.5 MiB: pieces filled again several times.
  const chunks = ownChunks(72, 64 * 1024);
  const data = Buffer.concat(chunks);
  const result = await putObject(d, t, [{}, {}, {}], offeringBody(chunks), { ...options, expectedBytes: data.length, releaseChunks: true });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  const stored = d.backend.requests.filter((r) => r.method === 'PUT' && md5(r.body) === md5(data));
  assert.is(stored.length, 3, 'the live primary and two handoffs each got every byte');
  assert.ok(chunks.every((c) => (c.buffer as ArrayBuffer).detached), 'the client chunks were copied into pieces and released');
});

test('lent pieces sent to a backend without `upload` (a stream body, which may queue them) reach every replica whole', async () => {
  const t = target();
  const d = deps(() => ({ status: 201 }));
  const chunks = ownChunks(72, 64 * 1024);
  const data = Buffer.concat(chunks);
  const result = await putObject(d, t, [{}, {}, {}], offeringBody(chunks), { ...options, expectedBytes: data.length, releaseChunks: true });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  const puts = d.backend.requests.filter((r) => r.method === 'PUT');
  assert.is(puts.length, 3);
  for (const put of puts) assert.is(md5(put.body), md5(data), `${put.node} got a different body`);
});

test('regression: a node that stops reading mid-upload is dropped after the node timeout (one timer per upload, pushed back per write), and the others still store the object', async () => {
  const bodies = new Map<number, Buffer>();
  const servers = await Promise.all([0, 1, 2].map(async (i) => {
    const server = createServer(async (req, res) => {
      if (i === 0) return; // reads nothing, never answers
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      bodies.set(i, body);
      res.writeHead(201, { etag: md5(body) }).end();
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return server;
  }));
  const b = RingBuilder.create({ partPower: 0, replicas: 3, minPartHours: 0 }, clock);
  for (const [i, server] of servers.entries()) b.addDevice({ region: 1, zone: i + 1, ip: '127.0.0.1', port: (server.address() as AddressInfo).port, device: 'sda', weight: 1 });
  b.rebalance({ seed: 1 });
  const t = { ring: Ring.fromData(b.ringData(), new HashPath('', 's')), partition: 0, names: ['a', 'c', 'o'] };
  const backend = new UndiciBackendClient();
  const d: BackendDeps = { ...deps(() => ({ status: 201 })), backend, nodeTimeoutMs: 1000 };
  try {
    const chunks = ownChunks(256, 64 * 1024); // 16 MiB: more than the stalled node's socket buffers take
    const data = Buffer.concat(chunks);
    const started = performance.now();
    const result = await putObject(d, t, [{}, {}, {}], chunksOf(chunks), { ...options, expectedBytes: data.length, releaseChunks: true });
    assert.is(result.status, 201);
    assert.is(result.etag, md5(data));
    assert.equal([...bodies.values()].map(md5), [md5(data), md5(data)]);
    assert.ok(performance.now() - started < 30_000, 'the stalled node was given up on');
  } finally {
    await backend.close();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});

test('a node answering 507 is replaced by a handoff and benched', async () => {
  const t = target();
  const [first] = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const d = deps((node) => (node === first ? { status: 507 } : { status: 201 }));
  const data = Buffer.from('small object');
  const result = await putObject(d, t, [{}, {}, {}], slowBody(data, 1), options);
  assert.is(result.status, 201);
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const puts = d.backend.requests.filter((r) => r.method === 'PUT');
  assert.is(puts.length, 4, 'three primaries and one handoff');
  assert.is(puts.filter((r) => !primaries.includes(r.node)).length, 1);
  assert.ok(d.limiter.isLimited(t.ring.getPartNodes(0)[0] as NonNullable<ReturnType<Ring['getPartNodes']>[number]>));
});

test('412 from a quorum (If-None-Match: *) is the answer, not a reason to try handoffs', async () => {
  const t = target();
  const d = deps(() => ({ status: 412 }));
  const result = await putObject(d, t, [{}, {}, {}], slowBody(Buffer.from('x'), 1), options);
  assert.is(result.status, 412);
  assert.is(d.backend.requests.length, 3);
});

test('replicas that disagree on the ETag make the PUT fail', async () => {
  const t = target();
  let n = 0;
  const d = deps(() => ({ status: 201, headers: { etag: n++ === 0 ? 'aaaa' : 'bbbb' } }));
  await putObject(d, t, [{}, {}, {}], slowBody(Buffer.from('x'), 1), options).then(
    () => assert.unreachable('no error'),
    (err: Error) => assert.match(err.message, /disagree on the ETag/),
  );
});

test('regression: a footered PUT that object servers answer with an ETag other than the body\'s MD5 (a server too old for footers stores the MIME document) is not a success', async () => {
  const t = target();
  const data = randomBytes(WHOLE_PUT_BYTES + 200_000);
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const one = deps((node) => ({ status: 201, headers: { etag: node === primaries[0] ? md5(Buffer.from('the MIME document')) : md5(data) } }));
  const ok = await putObject(one, t, [{}, {}, {}], slowBody(data, 4), { ...options, footer: true, expectedBytes: data.length });
  assert.is(ok.status, 201, 'two nodes hold the bytes: a quorum');
  assert.is(ok.etag, md5(data));
  const all = deps(() => ({ status: 201, headers: { etag: md5(Buffer.from('the MIME document')) } }));
  const refused = await putObject(all, t, [{}, {}, {}], slowBody(data, 4), { ...options, footer: true, expectedBytes: data.length });
  assert.is(refused.status, 503);
});

test('a body of up to 256 KiB with a Content-Length goes to each replica as one buffer (no MIME footer, its hashes in headers above 64 KiB), with the same handoffs and checks as a streamed one', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const d = deps((node) => (node === primaries[1] ? { status: 507 } : { status: 201 }));
  const bodies: unknown[] = [];
  const request = d.backend.request.bind(d.backend);
  d.backend.request = (node, req) => {
    bodies.push(req.body);
    return request(node, req);
  };
  // A mid-size body too (a backup's changed extent, a sync tool's chunk), plain: no MIME footer.
  const data = randomBytes(WHOLE_PUT_BYTES);
  const result = await putObject(d, t, [{}, {}, {}], slowBody(data, 5), { ...options, footer: true, expectedBytes: data.length });
  assert.is(result.status, 201);
  assert.is(result.etag, md5(data));
  assert.ok(bodies.every((b) => Buffer.isBuffer(b)), 'sent as one buffer, not a stream');
  const puts = d.backend.requests.filter((r) => r.method === 'PUT');
  assert.is(puts.length, 4, 'three primaries and one handoff for the 507');
  for (const put of puts) assert.is(md5(put.body), md5(data));
  // Hashed once in the proxy: its MD5 and block-checksum digest go with it, for each object
  // server to check the digest instead of hashing MD5.
  for (const put of puts) assert.equal(pick(put.headers, Object.keys(bodyHashHeaders(data))), bodyHashHeaders(data));
  // A body kept in the object servers' databases (64 KiB or less) goes without them.
  const small = deps(() => ({ status: 201 }));
  const smallData = randomBytes(HASHED_WHOLE_PUT_BYTES);
  assert.is((await putObject(small, t, [{}, {}, {}], slowBody(smallData, 1), { ...options, footer: true, expectedBytes: smallData.length })).etag, md5(smallData));
  for (const put of small.backend.requests) assert.is(put.headers['x-backend-obj-etag'], undefined);

  let n = 0;
  const disagree = deps(() => ({ status: 201, headers: { etag: n++ === 0 ? 'aaaa' : 'bbbb' } }));
  await putObject(disagree, t, [{}, {}, {}], slowBody(Buffer.from('xyz'), 1), { ...options, expectedBytes: 3 }).then(
    () => assert.unreachable('no error'),
    (err: Error) => assert.match(err.message, /disagree on the ETag/),
  );
  const refused = deps(() => ({ status: 412 }));
  assert.is((await putObject(refused, t, [{}, {}, {}], slowBody(Buffer.from('x'), 1), { ...options, expectedBytes: 1 })).status, 412);
  assert.is(refused.backend.requests.length, 3);
  const short = deps(() => ({ status: 201 }));
  await putObject(short, t, [{}, {}, {}], slowBody(Buffer.from('abc'), 1), { ...options, expectedBytes: 10 }).then(
    () => assert.unreachable('no error'),
    (err: Error) => assert.instance(err, ClientDisconnectError),
  );
  assert.is(short.backend.requests.length, 0, 'nothing sent for a body that ended short');
});

test('regression: object servers that fill up mid-upload (507 after part of the body) make the PUT a 503, not a 499 as if the client had gone', async () => {
  const t = target();
  const d = deps(() => ({ status: 507, afterBytes: 200_000 }));
  // Several pieces (UPLOAD_PIECE_BYTES each), so the nodes stop reading before the end.
  const data = randomBytes(4_000_000);
  const result = await putObject(d, t, [{}, {}, {}], slowBody(data, 10), { ...options, replayBytes: 64 * 1024, expectedBytes: data.length });
  assert.is(result.status, 503);
  assert.ok(d.backend.requests.every((r) => r.body.length < data.length), 'no node got the whole body');

  // While every byte sent is still held for replay, handoffs take the full nodes' place.
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const two = deps((node) => (node === primaries[0] || node === primaries[1] ? { status: 507, afterBytes: 100_000 } : { status: 201 }));
  const small = randomBytes(WHOLE_PUT_BYTES + 300_000);
  const stored = await putObject(two, t, [{}, {}, {}], slowBody(small, 6), { ...options, replayBytes: 4 * 1024 * 1024, expectedBytes: small.length });
  assert.is(stored.status, 201);
  // (The full primaries may have read the one piece whole before answering 507.)
  const whole = two.backend.requests.filter((r) => r.node !== primaries[0] && r.node !== primaries[1] && md5(r.body) === md5(small));
  assert.is(whole.length, 3, 'the third primary and two handoffs got every byte');
});

test('regression: a client that goes away while its small PUT is at the object servers is a disconnect, not logged as "no quorum"', async () => {
  const t = target();
  const lines: string[] = [];
  const d = { ...deps(() => ({ status: 201 })), logger: createLogger({ sink: (line) => lines.push(line) }) };
  // Object servers still flushing when the client leaves: they answer only to the abort.
  d.backend.request = (node, req) => new Promise((_, reject) => req.signal?.addEventListener('abort', () => reject(new BackendError('BACKEND_ABORTED', `${node.ip}:${node.port}`, 'aborted'))));
  const client = new AbortController();
  const put = putObject(d, t, [{}, {}, {}], slowBody(Buffer.from('four KiB or so'), 1), { ...options, signal: client.signal, expectedBytes: 14 });
  setTimeout(() => client.abort(new Error('client disconnected')), 20);
  const err = await put.then(() => undefined, (e: unknown) => e);
  assert.instance(err, ClientDisconnectError);
  assert.equal(lines.filter((l) => /no quorum/.test(l)), [], 'nothing logged as a quorum failure');
});

test.run();
