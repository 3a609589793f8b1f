import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BodySource } from '../../../bench/body-source.ts';
import { encodeSwiftPath, RequestFailed, SwiftClient } from '../../../bench/swift-client.ts';
import { systemClock } from '../../../common/clock.ts';
import { listen, type ServerRequest, type ServerResponse } from '../../../common/http/server.ts';
import { nullLogger } from '../../../common/logger.ts';

async function withServer(handler: (req: ServerRequest) => Promise<ServerResponse>, fn: (client: SwiftClient, seen: ServerRequest[]) => Promise<void>): Promise<void> {
  const seen: ServerRequest[] = [];
  const server = await listen(
    async (req) => {
      seen.push(req);
      return handler(req);
    },
    { host: '127.0.0.1', port: 0, logger: nullLogger },
  );
  const client = new SwiftClient({ storageUrl: `http://127.0.0.1:${server.port}/v1/AUTH_test/`, token: 'tk' }, { connections: 4, clock: systemClock, timeoutMs: 2000 });
  try {
    await fn(client, seen);
  } finally {
    await client.close();
    await server.close();
  }
}

test('encodeSwiftPath keeps slashes, encodes the rest', () => {
  assert.is(encodeSwiftPath('c/a b/ü?#'), 'c/a%20b/%C3%BC%3F%23');
});

test('paths, token, query; body counted, hashed, or scanned for the last line', async () => {
  const listing = `${Array.from({ length: 5000 }, (_, i) => `name-${String(i).padStart(5, '0')}`).join('\n')}\n`;
  await withServer(
    async (req) => {
      if (req.query.get('format') === 'lines') return { status: 200, body: listing };
      if (req.method === 'PUT') {
        const hash = createHash('md5');
        let n = 0;
        for await (const c of req.body) {
          hash.update(c as Buffer);
          n += (c as Buffer).length;
        }
        return { status: 201, headers: { Etag: hash.digest('hex'), 'X-Len': n } };
      }
      return { status: 200, body: 'hello world' };
    },
    async (client, seen) => {
      const t0 = systemClock.monotonic();
      const res = await client.request({ method: 'GET', path: 'c/o 1', query: 'a=1' });
      assert.is(res.status, 200);
      assert.is(res.bytes, 11);
      assert.ok(res.endMono >= t0);
      assert.is(seen[0]?.path, '/v1/AUTH_test/c/o%201');
      assert.is(seen[0]?.rawQuery, 'a=1');
      assert.is(seen[0]?.headers['x-auth-token'], 'tk');
      const md5 = await client.request({ method: 'GET', path: 'c/o', mode: 'md5' });
      assert.is(md5.md5, createHash('md5').update('hello world').digest('hex'));
      const text = await client.request({ method: 'GET', path: 'c/o', mode: 'text' });
      assert.is(text.text, 'hello world');
      const lines = await client.request({ method: 'GET', path: 'c', query: 'format=lines', mode: 'lines' });
      assert.is(lines.lines, 5000);
      assert.is(lines.lastLine, 'name-04999');
      assert.is(lines.bytes, listing.length);
      const bodies = new BodySource(100_000);
      const put = await client.request({ method: 'PUT', path: 'c/big', body: bodies.body(100_000) });
      assert.is(put.status, 201);
      assert.is(put.headers['etag'], bodies.md5(100_000));
      assert.is(put.headers['x-len'], '100000');
    },
  );
});

test('no answer is a RequestFailed with a code', async () => {
  const server = await listen(async () => ({ status: 200 }), { host: '127.0.0.1', port: 0, logger: nullLogger });
  const port = server.port;
  await server.close();
  const client = new SwiftClient({ storageUrl: `http://127.0.0.1:${port}/v1/AUTH_test`, token: 'tk' }, { connections: 1, clock: systemClock });
  try {
    const err = await client.request({ method: 'HEAD', path: 'c' }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, RequestFailed);
    assert.is((err as RequestFailed).code, 'ECONNREFUSED');
  } finally {
    await client.close();
  }
});

test('BodySource: bodies are views of one buffer, md5 by size, large bodies stream', async () => {
  const bodies = new BodySource(1000);
  const a = bodies.body(10) as Buffer;
  const b = bodies.body(1000) as Buffer;
  assert.is(a.length, 10);
  assert.is(a.buffer, b.buffer, 'no copy per body');
  assert.ok(a.equals(b.subarray(0, 10)));
  assert.is(bodies.md5(10), createHash('md5').update(a).digest('hex'));
  assert.is(bodies.md5(0), 'd41d8cd98f00b204e9800998ecf8427e');
  // Larger than the buffer: a stream that repeats it, with the matching md5.
  const stream = bodies.body(2500);
  assert.not.ok(Buffer.isBuffer(stream));
  const hash = createHash('md5');
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    n += chunk.length;
  }
  assert.is(n, 2500);
  assert.is(hash.digest('hex'), bodies.md5(2500));
});

test.run();
