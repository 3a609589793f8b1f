import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { xxh64Hex } from '../../../../common/hash-path.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import { BlockChecksumsHash, BodyHashes, blockChecksumsKind, blockChecksumsSize, footerDocument, footerPreamble, newBoundary, readFooteredBody } from '../../../../common/http/put-footer.ts';
import { blockChecksum } from '../../../../object/diskfile/format.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** The xxHash64 of `body`'s block checksums as the object file stores them, from their definition. */
function blockSumsDigest(body: Buffer, blockSize: number): string {
  const sums: Buffer[] = [];
  for (let at = 0, i = 0; at < body.length; at += blockSize, i++) sums.push(blockChecksum(body.subarray(at, at + blockSize), i));
  return xxh64Hex(Buffer.concat(sums));
}

/** `doc` cut into pieces of the given sizes (the last takes the rest). */
async function* cut(doc: Buffer, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const size of sizes) {
    if (at >= doc.length) break;
    yield doc.subarray(at, at + size);
    at += size;
  }
  if (at < doc.length) yield doc.subarray(at);
}

async function read(doc: Buffer, boundary: string, sizes: readonly number[], length?: number): Promise<{ data: Buffer; footer: Record<string, string> }> {
  const parsed = readFooteredBody(cut(doc, sizes), boundary, length);
  const pieces: Buffer[] = [];
  for await (const piece of parsed.data) pieces.push(Buffer.from(piece));
  return { data: Buffer.concat(pieces), footer: parsed.footer() };
}

async function refusal(doc: Buffer, boundary: string, length?: number): Promise<HttpError> {
  try {
    await read(doc, boundary, [doc.length], length);
  } catch (err) {
    assert.instance(err, HttpError);
    return err as HttpError;
  }
  throw new Error('accepted');
}

test('the body and the footer come back as sent, wherever the pieces are cut, even with the boundary almost in the body', async () => {
  const boundary = newBoundary();
  assert.match(boundary, /^[0-9a-f]{64}$/);
  // A body that holds most of the delimiter, and ends with its start. The byte after the 63
  // characters is never the boundary's last ('x' is not hex): a random one completed the whole
  // delimiter one run in 256, a body no sender may send, and the test failed ("couldn't find
  // footer MIME doc") as if the parser were wrong.
  const body = Buffer.concat([randomBytes(1000), Buffer.from(`\r\n--${boundary.slice(0, 40)}`), randomBytes(3000), Buffer.from(`\r\n--${boundary.slice(0, 63)}x`), randomBytes(9), Buffer.from('\r\n-')]);
  const hashes = new BodyHashes();
  hashes.update(body);
  const footer = hashes.footer();
  assert.equal(footer, { Etag: md5(body), 'x-backend-obj-checksum': blockSumsDigest(body, 65536) });
  const doc = Buffer.concat([footerPreamble(boundary), body, footerDocument(boundary, footer)]);
  for (const size of [1, 7, 67, 68, 69, 1000, 4096, doc.length]) {
    const got = await read(doc, boundary, Array(doc.length).fill(size));
    assert.is(md5(got.data), md5(body), `pieces of ${size}`);
    assert.equal(got.footer, { etag: md5(body), 'x-backend-obj-checksum': blockSumsDigest(body, 65536) });
  }
  for (let i = 0; i < 50; i++) {
    const sizes = Array.from({ length: 200 }, () => 1 + Math.floor(Math.random() * 200));
    assert.is(md5((await read(doc, boundary, sizes)).data), md5(body), `pieces of ${sizes.slice(0, 10).join(',')}...`);
  }
  const empty = Buffer.concat([footerPreamble(boundary), footerDocument(boundary, { Etag: md5(Buffer.alloc(0)) })]);
  assert.is((await read(empty, boundary, [5])).data.length, 0);
});

test("a document without its footer is Swift's 400; a footer that does not match its Content-MD5 is 422", async () => {
  const boundary = newBoundary();
  const body = randomBytes(5000);
  const ended = Buffer.concat([footerPreamble(boundary), body]);
  assert.is((await refusal(ended, boundary)).status, 400);
  const closedEarly = Buffer.concat([footerPreamble(boundary), body, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  assert.is((await refusal(closedEarly, boundary)).status, 400);
  const noPreamble = Buffer.concat([body, footerDocument(boundary, { Etag: md5(body) })]);
  assert.is((await refusal(noPreamble, boundary)).status, 400);
  const good = footerDocument(boundary, { Etag: md5(body) });
  const tampered = Buffer.from(good.toString('latin1').replace(md5(body), md5(Buffer.from('x'))), 'latin1');
  assert.is((await refusal(Buffer.concat([footerPreamble(boundary), body, tampered]), boundary)).status, 422);
});

test('with the body length given, the body is taken by its length, the delimiter checked where it ends: a body holding the whole delimiter comes back whole, a wrong length is a 400', async () => {
  const boundary = newBoundary();
  // The whole delimiter inside the body: a search would end the body there.
  const body = Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${boundary}\r\n`), randomBytes(70_000)]);
  const doc = Buffer.concat([footerPreamble(boundary), body, footerDocument(boundary, { Etag: md5(body) })]);
  for (const size of [1, 67, 4096, 65_536, doc.length]) {
    const got = await read(doc, boundary, Array(doc.length).fill(size), body.length);
    assert.is(md5(got.data), md5(body), `pieces of ${size}`);
    assert.equal(got.footer, { etag: md5(body) });
  }
  const empty = Buffer.concat([footerPreamble(boundary), footerDocument(boundary, { Etag: md5(Buffer.alloc(0)) })]);
  assert.is((await read(empty, boundary, [5], 0)).data.length, 0);
  assert.is((await refusal(doc, boundary, body.length - 1)).status, 400);
  assert.is((await refusal(doc, boundary, body.length + 1)).status, 400);
  assert.is((await refusal(doc, boundary, doc.length)).status, 400, 'a length past the document: no footer');
  assert.is((await refusal(Buffer.concat([footerPreamble(boundary), body]), boundary, body.length)).status, 400, 'no footer after the body');
});

test("the footer's block checksums digest is the object file's block checksums hashed, wherever the body is cut", () => {
  for (const [length, blockSize] of [[0, 65536], [1, 65536], [65536, 65536], [65537, 65536], [300 * 1024, 65536], [10_000, 4096], [3 * 4096, 4096]] as const) {
    const body = randomBytes(length);
    const expected = blockSumsDigest(body, blockSize);
    for (const cuts of [[length], [1, 4095, 4096, 61440, 65535, 2], Array.from({ length: 40 }, () => 1 + Math.floor(Math.random() * 20_000))]) {
      const hash = new BlockChecksumsHash(blockSize);
      let at = 0;
      for (const n of cuts) {
        hash.update(body.subarray(at, at + n));
        at += n;
      }
      hash.update(body.subarray(at));
      assert.is(hash.digestHex(), expected, `${length} bytes in ${blockSize}-byte blocks, cut ${cuts.slice(0, 6).join(',')}`);
    }
  }
  assert.is(blockChecksumsSize(blockChecksumsKind(65536)), 65536);
  for (const kind of [undefined, 'xxh64', 'xxh64-blocks-', 'xxh64-blocks-0', 'xxh64-blocks-x', 'xxh64-blocks-1.5']) assert.is(blockChecksumsSize(kind), undefined, String(kind));
});

test.run();
