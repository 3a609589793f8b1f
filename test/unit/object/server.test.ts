import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../common/config.ts';
import { HashPath, xxh64Hex } from '../../../common/hash-path.ts';
import { BlockChecksumsHash, BodyHashes, footerDocument, footerPreamble, newBoundary } from '../../../common/http/put-footer.ts';
import { bodyHashHeaders } from '../../../common/http/put-hash-headers.ts';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { type HttpServer, listen } from '../../../common/http/server.ts';
import { nullLogger } from '../../../common/logger.ts';
import { storageSchema } from '../../../common/storage-config.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import { MemoryAsyncPendingStore } from '../../../object/async-pending.ts';
import { objectServerSchema } from '../../../object/config.ts';
import { HEADER_SIZE } from '../../../object/diskfile/format.ts';
import { asNoSpace } from '../../../object/diskfile/errors.ts';
import { FsDiskFileManager } from '../../../object/diskfile/fs.ts';
import { DiskFileRouter } from '../../../object/diskfile/router.ts';
import type { DiskFileManager } from '../../../object/diskfile/types.ts';
import { localFileResponse } from '../../../object/local-file-response.ts';
import { ObjectServer } from '../../../object/server.ts';
import { httpRequest, rawStatus } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'test');
const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');
const T0 = 1_700_000_000;
const ts = (s: number): string => Timestamp.parse(T0 + s).internal;

interface Rig {
  port: number;
  clock: ManualClock;
  devices: string;
  pendings: MemoryAsyncPendingStore;
  updates: { method: string; path: string; headers: Record<string, string | undefined> }[];
  containerPort: number;
  containerStatus: number;
  req(method: string, path: string, headers?: Record<string, string>, body?: Buffer | string): ReturnType<typeof httpRequest>;
  close(): Promise<void>;
}

async function rig(wrap: (manager: DiskFileManager) => DiskFileManager = (m) => m): Promise<Rig> {
  const dir = await makeTempDir();
  await mkdir(join(dir.path, 'sda'));
  const clock = new ManualClock(T0 * 1000);
  const pendings = new MemoryAsyncPendingStore();
  const backend = new UndiciBackendClient({ nodeTimeoutMs: 2000 });
  const updates: Rig['updates'] = [];
  const state = { containerStatus: 201 };
  const container: HttpServer = await listen(async (req) => {
    updates.push({ method: req.method, path: req.path, headers: req.headers });
    return { status: state.containerStatus };
  }, { host: '127.0.0.1', port: 0, logger: nullLogger });
  const config = defaultConfig({ storage: storageSchema, objectServer: objectServerSchema });
  const server = new ObjectServer(
    { storage: { ...config.storage, devices: dir.path }, objectServer: config.objectServer },
    { clock, logger: nullLogger, backend, pendings, hashPath, diskFiles: new DiskFileRouter(new Map([
      [0, wrap(new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger }))],
      [1, new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger, policyIndex: 1 })],
    ])) },
  );
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger: nullLogger });
  const r: Rig = {
    port: http.port,
    clock,
    devices: dir.path,
    pendings,
    updates,
    containerPort: container.port,
    get containerStatus() {
      return state.containerStatus;
    },
    set containerStatus(v: number) {
      state.containerStatus = v;
    },
    req: (method, path, headers = {}, body) => httpRequest(http.port, method, path, headers, body),
    close: async () => {
      await http.close();
      await container.close();
      await server.close();
      await backend.close();
      await dir.remove();
    },
  };
  return r;
}

const OBJ = '/sda/1/AUTH_a/c/o';

function putHeaders(rigged: Rig, timestamp: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'X-Timestamp': timestamp,
    'Content-Type': 'application/octet-stream',
    'X-Container-Host': `127.0.0.1:${rigged.containerPort}`,
    'X-Container-Device': 'sdc',
    'X-Container-Partition': '9',
    ...extra,
  };
}

/** `put` stored `body` at OBJ: 201 with its MD5, read back whole, and the container told the same ETag. */
async function assertStoredAtObj(r: Rig, put: { status: number; headers: Record<string, string | undefined> }, body: Buffer): Promise<void> {
  assert.is(put.status, 201);
  assert.is(put.headers['etag'], md5(body));
  const got = await r.req('GET', OBJ);
  assert.is(got.headers['etag'], md5(body));
  assert.is(md5(got.body), md5(body));
  assert.is(r.updates.at(-1)?.headers['x-etag'], md5(body));
}

async function withRig(fn: (r: Rig) => Promise<void>, wrap?: (manager: DiskFileManager) => DiskFileManager): Promise<void> {
  const r = await rig(wrap);
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}

test('PUT stores; GET and HEAD return the bytes and the headers Swift returns', () =>
  withRig(async (r) => {
    const body = randomBytes(100_000);
    const put = await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'Content-Type': 'image/png', 'X-Object-Meta-Color': 'Blue', 'Content-Disposition': 'inline', 'X-Unknown': 'dropped' }), body);
    assert.is(put.status, 201);
    assert.is(put.headers['etag'], md5(body));
    const get = await r.req('GET', OBJ);
    assert.is(get.status, 200);
    assert.ok(get.body.equals(body));
    assert.is(get.headers['content-type'], 'image/png');
    assert.is(get.headers['x-object-meta-color'], 'Blue');
    assert.is(get.headers['content-disposition'], 'inline');
    assert.is(get.headers['x-unknown'], undefined);
    assert.is(get.headers['etag'], md5(body));
    assert.is(get.headers['content-length'], '100000');
    assert.is(get.headers['x-timestamp'], `${T0 + 1}.00000`);
    assert.is(get.headers['x-backend-timestamp'], ts(1));
    assert.is(get.headers['x-backend-data-timestamp'], ts(1));
    assert.is(get.headers['last-modified'], new Date((T0 + 1) * 1000).toUTCString());
    const head = await r.req('HEAD', OBJ);
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    assert.is(head.headers['content-length'], '100000');
    assert.is(head.headers['x-object-meta-color'], 'Blue');
  }));

test('PUT and DELETE update the container server named in X-Container-*', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'Content-Type': 'text/plain', 'X-Backend-Storage-Policy-Index': '0' }), 'hello');
    assert.is(r.updates.length, 1);
    const up = r.updates[0];
    assert.is(up?.method, 'PUT');
    assert.is(up?.path, '/sdc/9/AUTH_a/c/o');
    assert.is(up?.headers['x-size'], '5');
    assert.is(up?.headers['x-etag'], md5('hello'));
    assert.is(up?.headers['x-content-type'], 'text/plain');
    assert.is(up?.headers['x-timestamp'], ts(1));
    assert.is(up?.headers['x-backend-storage-policy-index'], '0');
    const del = await r.req('DELETE', OBJ, putHeaders(r, ts(2)));
    assert.is(del.status, 204);
    assert.is(r.updates[1]?.method, 'DELETE');
    assert.is(r.updates[1]?.headers['x-timestamp'], ts(2));
    assert.is(r.pendings.entries.size, 0);
  }));

test('a failed container update is saved as an async pending before the 201', () =>
  withRig(async (r) => {
    r.containerStatus = 503;
    const put = await r.req('PUT', OBJ, putHeaders(r, ts(1)), 'data');
    assert.is(put.status, 201);
    const saved = [...(r.pendings.entries.get('sda')?.values() ?? [])];
    assert.is(saved.length, 1);
    assert.equal({ op: saved[0]?.op, account: saved[0]?.account, container: saved[0]?.container, obj: saved[0]?.obj, size: saved[0]?.headers['x-size'] }, { op: 'PUT', account: 'AUTH_a', container: 'c', obj: 'o', size: '4' });
    // An unreachable container server is the same.
    const down = await r.req('PUT', '/sda/1/AUTH_a/c/o2', { ...putHeaders(r, ts(1)), 'X-Container-Host': '127.0.0.1:1' }, 'data');
    assert.is(down.status, 201);
    assert.is(r.pendings.entries.get('sda')?.size, 2);
  }));

test('the newest timestamp wins: an older or equal PUT, POST or DELETE gets 409 with the existing timestamp', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(5)), 'v5');
    for (const [method, t] of [['PUT', 4], ['PUT', 5], ['POST', 5], ['DELETE', 4]] as const) {
      const res = await r.req(method, OBJ, putHeaders(r, ts(t)), method === 'PUT' ? 'old' : undefined);
      assert.is(res.status, 409, `${method} at ${t}`);
      assert.is(res.headers['x-backend-timestamp'], ts(5));
    }
    assert.is((await r.req('GET', OBJ)).body.toString(), 'v5');
  }));

test('DELETE writes a tombstone: 204, then 404 with X-Backend-Timestamp; a DELETE of nothing is 404 and still a tombstone', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(1)), 'x');
    assert.is((await r.req('DELETE', OBJ, { 'X-Timestamp': ts(2) })).status, 204);
    const gone = await r.req('GET', OBJ);
    assert.is(gone.status, 404);
    assert.is(gone.headers['x-backend-timestamp'], ts(2));
    const nothing = await r.req('DELETE', '/sda/1/AUTH_a/c/never', { 'X-Timestamp': ts(3) });
    assert.is(nothing.status, 404);
    assert.is((await r.req('HEAD', '/sda/1/AUTH_a/c/never')).headers['x-backend-timestamp'], ts(3));
    // An older PUT than the tombstone is refused; a newer one brings the object back.
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(2)), 'old')).status, 409);
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(6)), 'new')).status, 201);
    assert.is((await r.req('GET', OBJ)).body.toString(), 'new');
  }));

test('POST replaces all user metadata (202), can change Content-Type, and 404s on nothing', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'X-Object-Meta-A': '1', 'X-Object-Meta-B': '2', 'Content-Type': 'text/plain' }), 'abc');
    assert.is((await r.req('POST', OBJ, { 'X-Timestamp': ts(2), 'X-Object-Meta-C': '3' })).status, 202);
    const head = await r.req('HEAD', OBJ);
    assert.is(head.headers['x-object-meta-a'], undefined);
    assert.is(head.headers['x-object-meta-c'], '3');
    assert.is(head.headers['content-type'], 'text/plain');
    assert.is(head.headers['etag'], md5('abc'));
    assert.is(head.headers['x-timestamp'], `${T0 + 2}.00000`);
    assert.is(head.headers['x-backend-data-timestamp'], ts(1));
    assert.is((await r.req('POST', OBJ, { ...putHeaders(r, ts(3)), 'Content-Type': 'text/html' })).status, 202);
    assert.is((await r.req('HEAD', OBJ)).headers['content-type'], 'text/html');
    assert.is(r.updates.at(-1)?.headers['x-content-type'], 'text/html');
    assert.is((await r.req('POST', OBJ, { 'X-Timestamp': ts(4), 'X-Object-Meta-D': '4' })).status, 202);
    assert.is((await r.req('HEAD', OBJ)).headers['content-type'], 'text/html', 'a later POST keeps the POSTed type');
    assert.is((await r.req('POST', '/sda/1/AUTH_a/c/nope', { 'X-Timestamp': ts(5) })).status, 404);
  }));

test('chunked uploads work; the ETag header is checked (422, nothing stored)', () =>
  withRig(async (r) => {
    const chunked = await r.req('PUT', OBJ, { ...putHeaders(r, ts(1)), 'Transfer-Encoding': 'chunked' }, 'streamed body');
    assert.is(chunked.status, 201);
    assert.is((await r.req('GET', OBJ)).body.toString(), 'streamed body');
    const bad = await r.req('PUT', '/sda/1/AUTH_a/c/e', { ...putHeaders(r, ts(1)), ETag: md5('something else') }, 'body');
    assert.is(bad.status, 422);
    assert.is((await r.req('HEAD', '/sda/1/AUTH_a/c/e')).status, 404);
    const quoted = await r.req('PUT', '/sda/1/AUTH_a/c/q', { ...putHeaders(r, ts(1)), ETag: `"${md5('body')}"` }, 'body');
    assert.is(quoted.status, 201);
  }));

test("a body with a footer (Swift's MIME PUT): the proxy's checksum of the block checksums is checked and its MD5 stored; a changed byte, a wrong MD5 or a short body is refused and nothing is stored", () =>
  withRig(async (r) => {
    const body = randomBytes(300 * 1024);
    const hashes = new BodyHashes();
    hashes.update(body);
    const footer = hashes.footer();
    const boundary = newBoundary();
    const doc = (data: Buffer, f: Record<string, string>): Buffer => Buffer.concat([footerPreamble(boundary), data, footerDocument(boundary, f)]);
    const mime = (extra: Record<string, string> = {}): Record<string, string> => ({ 'X-Backend-Obj-Metadata-Footer': 'yes', 'X-Backend-Obj-Multipart-Mime-Boundary': boundary, 'X-Backend-Obj-Checksum': 'xxh64-blocks-65536', 'X-Backend-Obj-Content-Length': String(body.length), ...extra });
    const ok = await r.req('PUT', OBJ, { ...putHeaders(r, ts(1)), ...mime() }, doc(body, footer));
    await assertStoredAtObj(r, ok, body);

    const changed = Buffer.from(body);
    changed[200_000] = (changed[200_000] as number) ^ 1;
    const corrupt = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(2)), ...mime() }, doc(changed, footer));
    assert.is(corrupt.status, 422);
    // In the last, short block too (its checksum is made before the commit, not at it).
    const lastChanged = Buffer.from(body);
    lastChanged[body.length - 1] = (lastChanged[body.length - 1] as number) ^ 1;
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(2)), ...mime() }, doc(lastChanged, footer))).status, 422);
    // A proxy from before the block checksums sends the body's own xxHash64: still checked.
    const older = { ...footer, 'x-backend-obj-checksum': xxh64Hex(body) };
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/older', { ...putHeaders(r, ts(2)), ...mime({ 'X-Backend-Obj-Checksum': 'xxh64' }) }, doc(body, older))).status, 201);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(2)), ...mime({ 'X-Backend-Obj-Checksum': 'xxh64' }) }, doc(changed, older))).status, 422);
    // Blocks of another size than the node writes: it hashes them on the side.
    const small = new BlockChecksumsHash(4096);
    small.update(body);
    const other = { ...footer, 'x-backend-obj-checksum': small.digestHex() };
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/other', { ...putHeaders(r, ts(2)), ...mime({ 'X-Backend-Obj-Checksum': 'xxh64-blocks-4096' }) }, doc(body, other))).status, 201);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(2)), ...mime({ 'X-Backend-Obj-Checksum': 'xxh64-blocks-4096' }) }, doc(changed, other))).status, 422);
    assert.is(md5((await r.req('GET', '/sda/1/AUTH_a/c/other')).body), md5(body));
    // Without the checksum, the object server hashes MD5 itself and checks the footer's (Swift's way).
    const wrongEtag = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(3)), ...mime({ 'X-Backend-Obj-Checksum': '' }) }, doc(body, { Etag: md5(changed) }));
    assert.is(wrongEtag.status, 422);
    const swiftWay = await r.req('PUT', '/sda/1/AUTH_a/c/swift', { ...putHeaders(r, ts(3)), ...mime({ 'X-Backend-Obj-Checksum': '' }) }, doc(body, { Etag: md5(body) }));
    assert.is(swiftWay.status, 201);
    const clientEtag = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(4)), ...mime(), ETag: md5(changed) }, doc(body, footer));
    assert.is(clientEtag.status, 422);
    // The body is taken by its length: a delimiter that is not where the length says is a
    // malformed document.
    const short = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(5)), ...mime({ 'X-Backend-Obj-Content-Length': String(body.length + 1) }) }, doc(body, footer));
    assert.is(short.status, 400);
    const long = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(5)), ...mime({ 'X-Backend-Obj-Content-Length': String(body.length - 1) }) }, doc(body, footer));
    assert.is(long.status, 400);
    const noFooter = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(6)), ...mime() }, Buffer.concat([footerPreamble(boundary), body]));
    assert.is(noFooter.status, 400);
    const noBoundary = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(7)), ...mime({ 'X-Backend-Obj-Multipart-Mime-Boundary': '' }) }, doc(body, footer));
    assert.is(noBoundary.status, 400);
    // The body's own length is the one checked (the request's covers the MIME document).
    const badLength = await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(8)), ...mime({ 'X-Backend-Obj-Content-Length': 'lots' }) }, doc(body, footer));
    assert.is(badLength.status, 400);
    assert.is((await r.req('HEAD', '/sda/1/AUTH_a/c/bad')).status, 404);
    assert.equal(await readdir(join(r.devices, 'sda', 'tmp')), []);
  }));

test("a whole body's hashes in headers (the proxy's mid-size PUTs): the block-checksum digest is checked and the proxy's MD5 stored; a changed byte or a client ETag that differs is refused and nothing is stored", () =>
  withRig(async (r) => {
    const body = randomBytes(190 * 1024);
    const claimed = bodyHashHeaders(body);
    const ok = await r.req('PUT', OBJ, { ...putHeaders(r, ts(1)), ...claimed }, body);
    await assertStoredAtObj(r, ok, body);
    // The MD5 is the proxy's: the object server does not hash it again.
    const trusted = { ...claimed, 'x-backend-obj-etag': md5('other bytes') };
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/trusted', { ...putHeaders(r, ts(1)), ...trusted }, body)).headers['etag'], md5('other bytes'));
    const changed = Buffer.from(body);
    changed[100_000] = (changed[100_000] as number) ^ 1;
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(2)), ...claimed }, changed)).status, 422);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(3)), ...claimed, ETag: md5(changed) }, body)).status, 422);
    // An MD5 with no checksum the node knows: it hashes MD5 itself and checks the claim.
    const md5Only = { 'x-backend-obj-etag': md5(changed) };
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/bad', { ...putHeaders(r, ts(4)), ...md5Only }, body)).status, 422);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/plain', { ...putHeaders(r, ts(4)), 'x-backend-obj-etag': md5(body) }, body)).headers['etag'], md5(body));
    assert.is((await r.req('HEAD', '/sda/1/AUTH_a/c/bad')).status, 404);
    assert.equal(await readdir(join(r.devices, 'sda', 'tmp')), []);
  }));

test('a body shorter than its Content-Length stores nothing', () =>
  withRig(async (r) => {
    const { request } = await import('node:http');
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: r.port, method: 'PUT', path: OBJ, headers: { ...putHeaders(r, ts(1)), 'Content-Length': '1000' }, agent: false });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(300, 1), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 50));
    });
    // The server notices the broken upload and cleans up; wait for it to settle.
    for (let i = 0; i < 50 && (await readdir(join(r.devices, 'sda', 'tmp')).catch(() => [])).length > 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.is((await r.req('HEAD', OBJ)).status, 404);
    assert.equal(await readdir(join(r.devices, 'sda', 'tmp')), []);
  }));

test("ranges follow Swift's rules: single, suffix, open, multiple, unsatisfiable, egregious, invalid", () =>
  withRig(async (r) => {
    const body = Buffer.from('0123456789abcdefghij'); // 20 bytes
    await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'Content-Type': 'text/plain' }), body);
    const one = await r.req('GET', OBJ, { Range: 'bytes=2-5' });
    assert.is(one.status, 206);
    assert.is(one.body.toString(), '2345');
    assert.is(one.headers['content-range'], 'bytes 2-5/20');
    assert.is(one.headers['content-length'], '4');
    assert.is((await r.req('GET', OBJ, { Range: 'bytes=-3' })).body.toString(), 'hij');
    assert.is((await r.req('GET', OBJ, { Range: 'bytes=15-' })).body.toString(), 'fghij');
    assert.is((await r.req('GET', OBJ, { Range: 'bytes=18-100' })).body.toString(), 'ij');
    const multi = await r.req('GET', OBJ, { Range: 'bytes=0-1,5-6' });
    assert.is(multi.status, 206);
    const boundary = /^multipart\/byteranges;boundary=([0-9a-f]{32})$/.exec(multi.headers['content-type'] ?? '')?.[1];
    assert.ok(boundary, multi.headers['content-type']);
    assert.is(
      multi.body.toString(),
      `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/20\r\n\r\n56\r\n--${boundary}--`,
    );
    assert.is(Number(multi.headers['content-length']), multi.body.length);
    const unsatisfiable = await r.req('GET', OBJ, { Range: 'bytes=50-60' });
    assert.is(unsatisfiable.status, 416);
    assert.is(unsatisfiable.headers['content-range'], 'bytes */20');
    const egregious = await r.req('GET', OBJ, { Range: 'bytes=0-10,1-11,2-12,3-13' });
    assert.is(egregious.status, 416);
    for (const bad of ['bytes=5-2', 'bytes=x-y', 'lines=1-2', 'bytes=']) {
      const res = await r.req('GET', OBJ, { Range: bad });
      assert.is(res.status, 200, bad);
      assert.ok(res.body.equals(body));
    }
    await r.req('PUT', '/sda/1/AUTH_a/c/empty', putHeaders(r, ts(1)), '');
    assert.is((await r.req('GET', '/sda/1/AUTH_a/c/empty', { Range: 'bytes=-5' })).status, 200);
    assert.is((await r.req('GET', '/sda/1/AUTH_a/c/empty', { Range: 'bytes=0-' })).status, 416);
  }));

test('conditional GET and HEAD: If-None-Match, If-Match, If-Modified-Since, If-Unmodified-Since', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(1)), 'cond');
    const etag = md5('cond');
    const lastModified = new Date((T0 + 1) * 1000).toUTCString();
    const notModified = await r.req('GET', OBJ, { 'If-None-Match': `"${etag}"` });
    assert.is(notModified.status, 304);
    assert.is(notModified.headers['etag'], etag);
    assert.is(notModified.body.length, 0);
    assert.is((await r.req('GET', OBJ, { 'If-None-Match': 'other' })).status, 200);
    assert.is((await r.req('GET', OBJ, { 'If-Match': 'other' })).status, 412);
    assert.is((await r.req('HEAD', OBJ, { 'If-Match': etag })).status, 200);
    assert.is((await r.req('GET', OBJ, { 'If-Modified-Since': lastModified })).status, 304);
    assert.is((await r.req('GET', OBJ, { 'If-Modified-Since': new Date(T0 * 1000).toUTCString() })).status, 200);
    assert.is((await r.req('GET', OBJ, { 'If-Unmodified-Since': new Date(T0 * 1000).toUTCString() })).status, 412);
    assert.is((await r.req('GET', OBJ, { 'If-Modified-Since': 'not a date' })).status, 200);
    assert.is((await r.req('PUT', OBJ, { ...putHeaders(r, ts(2)), 'If-None-Match': '*' }, 'x')).status, 412);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/new', { ...putHeaders(r, ts(2)), 'If-None-Match': '*' }, 'x')).status, 201);
  }));

test('X-Delete-At: the object is 404 once it passes, and a time in the past is refused', () =>
  withRig(async (r) => {
    const at = T0 + 100;
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'X-Delete-At': String(at) }), 'temp')).status, 201);
    assert.is((await r.req('HEAD', OBJ)).headers['x-delete-at'], String(at));
    r.clock.advance(101_000);
    const expired = await r.req('GET', OBJ);
    assert.is(expired.status, 404);
    assert.is((await r.req('GET', OBJ, { 'X-Backend-Replication': 'True' })).status, 200);
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/p', putHeaders(r, ts(200), { 'X-Delete-At': String(T0) }), 'x')).status, 400);
    assert.is((await r.req('HEAD', '/sda/1/AUTH_a/c/p')).status, 404);
  }));

test('a reserved object in a reserved container is stored and read like any other', () =>
  withRig(async (r) => {
    const path = '/sda/1/AUTH_a/%00versions%00c/%00o%008299999999.87654';
    assert.is((await r.req('PUT', path, putHeaders(r, ts(1)), 'version')).status, 201);
    assert.is((await r.req('GET', path)).body.toString(), 'version');
  }));

test('X-Backend-Ignore-Range-If-Metadata-Present: an object holding a listed name is read whole, others keep their range', () =>
  withRig(async (r) => {
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'X-Object-Sysmeta-Symlink-Target': 'c/t' }), '')).status, 201);
    const ignore = { Range: 'bytes=5-9', 'X-Backend-Ignore-Range-If-Metadata-Present': 'x-object-sysmeta-other, X-Object-Sysmeta-Symlink-Target' };
    const link = await r.req('GET', OBJ, ignore);
    assert.is(link.status, 200, 'a zero-byte link would have been a 416');
    assert.is(link.headers['x-object-sysmeta-symlink-target'], 'c/t');
    assert.is((await r.req('PUT', '/sda/1/AUTH_a/c/plain', putHeaders(r, ts(2)), '0123456789')).status, 201);
    const plain = await r.req('GET', '/sda/1/AUTH_a/c/plain', ignore);
    assert.is(plain.status, 206);
    assert.is(plain.body.toString(), '56789');
  }));

test('bad input gets the right 4xx and stores nothing', () =>
  withRig(async (r) => {
    const cases: [string, string, Record<string, string>, number][] = [
      ['missing X-Timestamp', OBJ, { 'Content-Type': 'a/b' }, 400],
      ['bad X-Timestamp', OBJ, { 'X-Timestamp': 'yesterday', 'Content-Type': 'a/b' }, 400],
      ['no Content-Type', OBJ, { 'X-Timestamp': ts(1) }, 400],
      ['name too long', `/sda/1/AUTH_a/c/${'n'.repeat(1025)}`, putHeaders(r, ts(1)), 400],
      ['invalid UTF-8 in the path (412, as Swift)', '/sda/1/AUTH_a/c/%FF%FE', putHeaders(r, ts(1)), 412],
      ['NUL inside a name (400, as Swift: only a reserved name may hold one, first)', '/sda/1/AUTH_a/c/a%00b', putHeaders(r, ts(1)), 400],
      ['a reserved object in a user container (400, as Swift)', '/sda/1/AUTH_a/c/%00o', putHeaders(r, ts(1)), 400],
      ['too few path segments', '/sda/1/AUTH_a/c', putHeaders(r, ts(1)), 400],
      ['bad partition', '/sda/abc/AUTH_a/c/o', putHeaders(r, ts(1)), 400],
      ['metadata name too long', OBJ, putHeaders(r, ts(1), { [`X-Object-Meta-${'m'.repeat(129)}`]: 'v' }), 400],
      ['metadata value too long', OBJ, putHeaders(r, ts(1), { 'X-Object-Meta-M': 'v'.repeat(257) }), 400],
      ['too large', OBJ, { ...putHeaders(r, ts(1)), 'Content-Length': '5368709123' }, 413],
      ['missing device', '/sdz/1/AUTH_a/c/o', putHeaders(r, ts(1)), 507],
    ];
    for (const [what, path, headers, status] of cases) {
      const res = await r.req('PUT', path, headers, status === 413 ? undefined : 'body');
      assert.is(res.status, status, what);
    }
    const headerLines = Object.entries(putHeaders(r, ts(1))).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    assert.is(await rawStatus(r.port, `PUT ${OBJ} HTTP/1.1\r\nHost: x\r\n${headerLines}Connection: close\r\n\r\n`), 411);
    assert.is((await r.req('HEAD', OBJ)).status, 404);
    assert.equal(await readdir(join(r.devices, 'sda')).then((d) => d.filter((n) => n === 'objects')), []);
    assert.is((await r.req('GET', '/sdz/1/AUTH_a/c/o')).status, 507);
    assert.is((await r.req('PATCH', OBJ)).status, 405);
  }));

test('REPLICATE returns suffix hashes as JSON, and they change with a write', () =>
  withRig(async (r) => {
    await r.req('PUT', OBJ, putHeaders(r, ts(1)), 'one');
    const client = new UndiciBackendClient();
    try {
      const first = await client.request({ ip: '127.0.0.1', port: r.port }, { method: 'REPLICATE', path: '/sda/1' });
      assert.is(first.status, 200);
      const hashes = (await first.body.json()) as Record<string, string>;
      const suffix = hashPath.hash('AUTH_a', 'c', 'o').slice(-3);
      assert.equal(Object.keys(hashes), [suffix]);
      await r.req('PUT', OBJ, putHeaders(r, ts(2)), 'two');
      const second = await client.request({ ip: '127.0.0.1', port: r.port }, { method: 'REPLICATE', path: `/sda/1/${suffix}` });
      assert.is.not(((await second.body.json()) as Record<string, string>)[suffix], hashes[suffix]);
      const missing = await client.request({ ip: '127.0.0.1', port: r.port }, { method: 'REPLICATE', path: '/sdz/1' });
      assert.is(missing.status, 507);
      await missing.body.dump();
    } finally {
      await client.close();
    }
  }));

test('corrupt data never reaches a client: a bad block in the first read (~1 MiB) is a 404, a bad later block cuts the connection before it', () =>
  withRig(async (r) => {
    const body = randomBytes(1_200_000);
    await r.req('PUT', OBJ, putHeaders(r, ts(1)), body);
    await r.req('PUT', '/sda/1/AUTH_a/c/first', putHeaders(r, ts(1)), body);
    const flip = async (name: string, offset: number): Promise<void> => {
      const hash = hashPath.hash('AUTH_a', 'c', name);
      const dir = join(r.devices, 'sda', 'objects', '1', hash.slice(-3), hash);
      const [file] = await readdir(dir);
      const handle = await open(join(dir, file as string), 'r+');
      const at = HEADER_SIZE + offset + Math.floor(offset / 65_536) * 8;
      await handle.write(Buffer.from([(body[offset] as number) ^ 0xff]), 0, 1, at);
      await handle.close();
    };
    await flip('o', 1_100_000); // block 16: the second read
    await flip('first', 200_000); // block 3: the first read, verified whole before a byte goes
    const cut = await r.req('GET', OBJ);
    assert.is(cut.status, 200);
    assert.ok(cut.error !== undefined || cut.body.length < body.length, 'the whole body arrived');
    assert.ok(cut.body.length <= 16 * 65_536, `${cut.body.length} bytes sent, past the bad block`);
    assert.ok(cut.body.equals(body.subarray(0, cut.body.length)));
    assert.is((await r.req('GET', OBJ)).status, 404, 'quarantined after the bad read');
    assert.is((await r.req('GET', '/sda/1/AUTH_a/c/first')).status, 404);
    assert.equal((await readdir(join(r.devices, 'sda', 'quarantined', 'objects'))).length, 2);
  }));

test('a device that fills up during an upload (the writer fails with DiskFileNoSpace) answers 507, tells no container, and keeps nothing', () => {
  // What the fs DiskFile's writer throws when a write meets ENOSPC: 200 KB in, the disk is full.
  const full = (manager: DiskFileManager): DiskFileManager =>
    Object.assign(Object.create(manager) as DiskFileManager, {
      async diskFile(location: Parameters<DiskFileManager['diskFile']>[0]) {
        const df = await manager.diskFile(location);
        return Object.assign(Object.create(df) as typeof df, {
          async create(expectedSize?: number) {
            const writer = await df.create(expectedSize);
            let bytes = 0;
            const fill = (chunk: Uint8Array): void => {
              bytes += chunk.length;
              if (bytes > 200_000) throw asNoSpace(location.device, Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
            };
            return Object.assign(Object.create(writer) as typeof writer, {
              async write(chunk: Uint8Array) {
                fill(chunk);
                await writer.write(chunk);
              },
              writeNow(chunk: Uint8Array) {
                fill(chunk);
                return writer.writeNow?.(chunk);
              },
            });
          },
        });
      },
    });
  return withRig(async (r) => {
    const res = await r.req('PUT', OBJ, putHeaders(r, ts(1)), randomBytes(1_000_000));
    assert.is(res.status, 507);
    assert.is(r.updates.length, 0, 'no container heard of it');
    assert.is((await r.req('GET', OBJ)).status, 404);
    assert.equal(await readdir(join(r.devices, 'sda', 'tmp')), [], 'the temp file is gone');
  }, full);
});

test('X-Backend-Storage-Policy-Index picks the policy: the same name in two policies is two objects, policy 1 lives in objects-1', () =>
  withRig(async (r) => {
    const p1 = { 'X-Backend-Storage-Policy-Index': '1' };
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(1), p1), 'silver bytes')).status, 201);
    assert.is((await r.req('GET', OBJ)).status, 404, 'policy 0 has no such object');
    assert.is((await r.req('GET', OBJ, { 'X-Backend-Storage-Policy-Index': '' })).status, 404, 'an empty index is policy 0');
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(2)), 'gold bytes')).status, 201);
    assert.is((await r.req('GET', OBJ, p1)).body.toString(), 'silver bytes');
    assert.is((await r.req('GET', OBJ)).body.toString(), 'gold bytes');
    assert.equal(await readdir(join(r.devices, 'sda', 'objects-1')), ['1']);
    assert.equal(await readdir(join(r.devices, 'sda', 'objects')), ['1']);
    // Each policy's container update names its policy, so the row lands in the right one.
    assert.equal(r.updates.map((u) => u.headers['x-backend-storage-policy-index']), ['1', undefined]);
    assert.is((await r.req('DELETE', OBJ, { 'X-Timestamp': ts(3), ...p1 })).status, 204);
    assert.is((await r.req('GET', OBJ, p1)).status, 404);
    assert.is((await r.req('GET', OBJ)).body.toString(), 'gold bytes', 'a delete in policy 1 leaves policy 0 alone');
    const client = new UndiciBackendClient();
    try {
      const hashes = async (headers: Record<string, string>): Promise<Record<string, string>> =>
        (await (await client.request({ ip: '127.0.0.1', port: r.port }, { method: 'REPLICATE', path: '/sda/1', headers })).body.json()) as Record<string, string>;
      const hashes0 = await hashes({});
      const hashes1 = await hashes(p1);
      assert.equal(Object.keys(hashes0), Object.keys(hashes1));
      assert.is.not(Object.values(hashes0)[0], Object.values(hashes1)[0], 'REPLICATE hashes the named policy');
    } finally {
      await client.close();
    }
  }));

test('an index no policy has is refused with Swift\'s 503 and stores nothing', () =>
  withRig(async (r) => {
    const res = await r.req('PUT', OBJ, putHeaders(r, ts(1), { 'X-Backend-Storage-Policy-Index': '7' }), 'x');
    assert.is(res.status, 503);
    assert.is(res.body.toString(), 'No policy with index 7');
    assert.is((await r.req('GET', OBJ, { 'X-Backend-Storage-Policy-Index': 'x' })).status, 503);
    assert.is(r.updates.length, 0);
    assert.equal((await readdir(join(r.devices, 'sda'))).filter((n) => n.startsWith('objects')), []);
  }));

test('a proxy on this machine asking for a local read of a large body gets the answer with no body, naming the data file; small, multi-range and remote reads get the body', async () => {
  const r = await rig();
  try {
    const body = randomBytes(2 * 1024 * 1024 + 5);
    assert.is((await r.req('PUT', OBJ, putHeaders(r, ts(1)), body)).status, 201);
    const local = await r.req('GET', OBJ, { 'X-Backend-Local-Read': 'yes' });
    assert.is(local.status, 200);
    assert.is(local.body.length, 0);
    assert.is(local.headers['content-length'], '0');
    assert.is(local.headers['x-backend-local-content-length'], String(body.length));
    assert.is(local.headers['etag'], md5(body));
    const path = decodeURIComponent(local.headers['x-backend-local-file'] ?? '');
    assert.ok(path.startsWith(join(r.devices, 'sda', 'objects', '1')) && path.endsWith(`${ts(1)}.data`), path);
    const { dev, ino } = await stat(path);
    assert.is(local.headers['x-backend-local-file-id'], `${dev}:${ino}`);

    const ranged = await r.req('GET', OBJ, { 'X-Backend-Local-Read': 'yes', Range: 'bytes=100-1500099' });
    assert.is(ranged.status, 206);
    assert.is(ranged.headers['content-range'], `bytes 100-1500099/${body.length}`);
    assert.is(ranged.headers['x-backend-local-content-length'], '1500000');
    // Below 1 MiB, several ranges, or no ask: the body as always.
    const short = await r.req('GET', OBJ, { 'X-Backend-Local-Read': 'yes', Range: 'bytes=0-99999' });
    assert.ok(short.body.equals(body.subarray(0, 100_000)));
    assert.is(short.headers['x-backend-local-file'], undefined);
    const multi = await r.req('GET', OBJ, { 'X-Backend-Local-Read': 'yes', Range: 'bytes=0-1199999,1300000-2499999' });
    assert.is(multi.headers['x-backend-local-file'], undefined);
    assert.ok(multi.body.includes(body.subarray(1_300_000, 2_097_157)));
    assert.ok((await r.req('GET', OBJ)).body.equals(body));
    assert.is((await r.req('GET', OBJ, { 'X-Backend-Local-Read': 'yes', 'If-None-Match': md5(body) })).status, 304);

    // From another machine: the object server does not name its files.
    const reader = await (await new FsDiskFileManager({ devices: r.devices, mountCheck: false, hashPath, clock: r.clock, logger: nullLogger }).diskFile({ device: 'sda', partition: 1, account: 'AUTH_a', container: 'c', object: 'o' })).open();
    const answer = { status: 200, headers: { 'Content-Length': body.length } };
    assert.is(localFileResponse({ headers: { 'x-backend-local-read': 'yes' }, remoteAddress: '203.0.113.9' }, answer, reader), undefined);
    assert.ok(localFileResponse({ headers: { 'x-backend-local-read': 'yes' }, remoteAddress: '::ffff:127.0.0.1' }, answer, reader), 'loopback, as a dual-stack socket reports it');
    await reader.close();
  } finally {
    await r.close();
  }
});

test.run();
