import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mimeDocuments, MimeInvalidError } from '../../../../proxy/middleware/mime-documents.ts';

/** A body delivered in chunks of `size` bytes (1: every byte on its own, boundaries split everywhere). */
async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(body: string | Buffer, boundary: string, size: number): Promise<{ headers: Record<string, string>; body: string }[]> {
  const out: { headers: Record<string, string>; body: string }[] = [];
  for await (const doc of mimeDocuments(chunked(body, size), boundary)) {
    const parts: Buffer[] = [];
    for await (const chunk of doc.body) parts.push(Buffer.from(chunk));
    out.push({ headers: { ...doc.headers }, body: Buffer.concat(parts).toString() });
  }
  return out;
}

const FORM =
  '--XyZ\r\n' +
  'Content-Disposition: form-data; name="redirect"\r\n\r\n' +
  'http://example.com/done\r\n' +
  '--XyZ\r\n' +
  'Content-Disposition: form-data; name="file1"; filename="a.txt"\r\n' +
  'Content-Type: text/plain\r\n\r\n' +
  'line one\r\nline two --XyZ not a boundary\r\n' +
  '--XyZ--\r\n';

test('documents and their headers, whatever the chunking', async () => {
  for (const size of [1, 2, 7, 64, 4096]) {
    const docs = await readAll(FORM, 'XyZ', size);
    assert.equal(docs, [
      { headers: { 'content-disposition': 'form-data; name="redirect"' }, body: 'http://example.com/done' },
      { headers: { 'content-disposition': 'form-data; name="file1"; filename="a.txt"', 'content-type': 'text/plain' }, body: 'line one\r\nline two --XyZ not a boundary' },
    ], `chunks of ${size}`);
  }
});

test('blank lines before the first boundary are skipped; anything else there is an invalid start', async () => {
  assert.equal((await readAll(`\r\n\r\n${FORM}`, 'XyZ', 3)).length, 2);
  for (const bad of [`preamble\r\n${FORM}`, FORM.replace('--XyZ', '--Other'), '']) {
    try {
      await readAll(bad, 'XyZ', 5);
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, MimeInvalidError);
    }
  }
});

test('a body cut short ends its last document where the stream ends (Swift uploads what came)', async () => {
  const docs = await readAll('--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\npartial data', 'b', 4);
  assert.equal(docs.map((d) => d.body), ['partial data']);
});

test('a document left unread is skipped: the next one starts after its boundary', async () => {
  const names: string[] = [];
  for await (const doc of mimeDocuments(chunked(FORM, 3), 'XyZ')) names.push(doc.headers['content-disposition'] ?? '');
  assert.is(names.length, 2);
});

test('large parts stream in pieces, none bigger than what arrived', async () => {
  const data = Buffer.alloc(1 << 20, 'a');
  const body = Buffer.concat([Buffer.from('--B\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n'), data, Buffer.from('\r\n--B--\r\n')]);
  let total = 0;
  let largest = 0;
  for await (const doc of mimeDocuments(chunked(body, 65536), 'B')) {
    for await (const chunk of doc.body) {
      total += chunk.length;
      largest = Math.max(largest, chunk.length);
    }
  }
  assert.is(total, data.length);
  assert.ok(largest <= 65536 + 64, `largest chunk ${largest}`);
});

test.run();
