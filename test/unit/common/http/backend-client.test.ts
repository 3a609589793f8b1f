import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendError } from '../../../../common/errors.ts';
import { backendPath, UndiciBackendClient } from '../../../../common/http/backend-client.ts';
import { releaseBuffer } from '../../../../common/release-buffer.ts';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function expectBackendError(err: unknown, code: string): void {
  assert.ok(err instanceof BackendError, `expected a BackendError, got ${String(err)}`);
  assert.is((err as BackendError).code, code);
}

test('status, headers and body; connections are kept alive and reused', async () => {
  const { server, port, connections } = await serve((req, res) => {
    res.setHeader('X-Backend-Timestamp', '1.00000');
    res.end(`you asked ${req.method} ${req.url}`);
  });
  const client = new UndiciBackendClient();
  try {
    for (let i = 0; i < 5; i++) {
      const res = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: backendPath('sda', 3, 'AUTH_a', 'c', 'dir/ob j'), query: 'x=1' });
      assert.is(res.status, 200);
      assert.is(res.headers['x-backend-timestamp'], '1.00000');
      assert.is(await res.body.text(), 'you asked GET /sda/3/AUTH_a/c/dir/ob%20j?x=1');
    }
    assert.ok(connections() < 5, `${connections()} connections for 5 sequential requests: none were reused`);
  } finally {
    await client.close();
    await stop(server);
  }
});

test('a refused connection is a BACKEND_CONNECT error', async () => {
  const { server, port } = await serve(() => {});
  await stop(server);
  const client = new UndiciBackendClient();
  try {
    await client.request({ ip: '127.0.0.1', port }, { method: 'HEAD', path: '/x' }).then(() => assert.unreachable('no error'), (err) => expectBackendError(err, 'BACKEND_CONNECT'));
  } finally {
    await client.close();
  }
});

test('a node that does not answer in time is a BACKEND_TIMEOUT error', async () => {
  const { server, port } = await serve(() => {
    /* never answers */
  });
  const client = new UndiciBackendClient({ nodeTimeoutMs: 200 });
  try {
    await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/slow' }).then(() => assert.unreachable('no error'), (err) => expectBackendError(err, 'BACKEND_TIMEOUT'));
  } finally {
    await client.close();
    await stop(server);
  }
});

test('a stalled body is an error while reading it, so a reader can resume elsewhere', async () => {
  const { server, port } = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('partial');
  });
  const client = new UndiciBackendClient({ nodeTimeoutMs: 200 });
  try {
    const res = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/' });
    let got = '';
    try {
      for await (const chunk of res.body) got += chunk.toString();
      assert.unreachable('body finished');
    } catch (err) {
      expectBackendError(err, 'BACKEND_TIMEOUT');
    }
    assert.is(got, 'partial');
  } finally {
    await client.close();
    await stop(server);
  }
});

test('an aborted request is a BACKEND_ABORTED error', async () => {
  const { server, port } = await serve(() => {});
  const client = new UndiciBackendClient();
  try {
    const controller = new AbortController();
    const pending = client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await pending.then(() => assert.unreachable('no error'), (err) => expectBackendError(err, 'BACKEND_ABORTED'));
  } finally {
    await client.close();
    await stop(server);
  }
});

test('request bodies stream from an async iterable; a copied Transfer-Encoding header is dropped', async () => {
  const { server, port } = await serve(async (req, res) => {
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    res.end(String(n));
  });
  const client = new UndiciBackendClient();
  try {
    const body = (async function* () {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(100_000);
    })();
    const res = await client.request({ ip: '127.0.0.1', port }, { method: 'PUT', path: '/o', body, headers: { 'transfer-encoding': 'chunked' } });
    assert.is(await res.body.text(), '1000000');
  } finally {
    await client.close();
    await stop(server);
  }
});

test('upload: each write resolves once its piece has left, the node gets every byte, and the connection is reused', async () => {
  const { server, port, connections } = await serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    res.setHeader('Etag', createHash('md5').update(body).digest('hex'));
    res.end(`${req.method} ${req.url} ${req.headers['content-length']} ${req.headers['x-backend-verb'] ?? ''}`);
  });
  const client = new UndiciBackendClient();
  try {
    for (let i = 0; i < 5; i++) {
      const data = randomBytes(512 * 1024);
      const upload = client.upload({ ip: '127.0.0.1', port }, { method: 'PUT', path: backendPath('sda', 1, 'a', 'c', 'o'), headers: { 'content-length': String(data.length), 'transfer-encoding': 'chunked' } });
      for (let at = 0; at < data.length; at += 64 * 1024) assert.is(await upload.write(data.subarray(at, at + 64 * 1024)), true);
      upload.end();
      const res = await upload.response;
      assert.is(res.status, 200);
      assert.is(res.headers['etag'], createHash('md5').update(data).digest('hex'));
      assert.is(await res.body.text(), `PUT /sda/1/a/c/o ${data.length} `);
    }
    // undici frees a connection a moment after the answer: the next upload may open another.
    assert.ok(connections() < 5, `${connections()} connections for 5 sequential uploads: none were reused`);
  } finally {
    await client.close();
    await stop(server);
  }
});

test('upload: a piece whose write resolved may be released at once: a slow node still gets every byte, with a length or chunked', async () => {
  const { server, port } = await serve(async (req, res) => {
    const hash = createHash('md5');
    let n = 0;
    // Reads slowly, so that pieces wait in the socket's buffer behind a full kernel buffer.
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      n += (chunk as Buffer).length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end(`${n} ${hash.digest('hex')}`);
  });
  const client = new UndiciBackendClient();
  try {
    for (const headers of [{ 'content-length': String(128 * 64 * 1024) }, {}] as Record<string, string>[]) {
      const pieces = Array.from({ length: 128 }, () => {
        const piece = Buffer.from(new ArrayBuffer(64 * 1024));
        randomBytes(piece.length).copy(piece);
        return piece;
      });
      const expected = `${128 * 64 * 1024} ${createHash('md5').update(Buffer.concat(pieces)).digest('hex')}`;
      const upload = client.upload({ ip: '127.0.0.1', port }, { method: 'PUT', path: '/sda/1/a/c/o', headers });
      for (const piece of pieces) {
        assert.is(await upload.write(piece), true);
        releaseBuffer(piece);
        assert.ok((piece.buffer as ArrayBuffer).detached);
      }
      upload.end();
      const res = await upload.response;
      assert.is(await res.body.text(), expected, `with ${JSON.stringify(headers)}`);
    }
  } finally {
    await client.close();
    await stop(server);
  }
});

test('upload: a node that answers before the body ends is answered; a refused one is a BACKEND_CONNECT error and takes no pieces', async () => {
  const { server, port } = await serve((_req, res) => {
    res.statusCode = 507;
    res.end();
  });
  const client = new UndiciBackendClient();
  try {
    const upload = client.upload({ ip: '127.0.0.1', port }, { method: 'PUT', path: '/sda/1/a/c/o', headers: { 'content-length': String(8 * 1024 * 1024) } });
    void upload.write(Buffer.alloc(64 * 1024));
    assert.is((await upload.response).status, 507);
    upload.destroy(new Error('done'));
    await stop(server);
    const refused = client.upload({ ip: '127.0.0.1', port }, { method: 'PUT', path: '/sda/1/a/c/o', headers: { 'content-length': '10' } });
    await refused.response.then(() => assert.unreachable('no error'), (err) => expectBackendError(err, 'BACKEND_CONNECT'));
    assert.is(await refused.write(Buffer.alloc(10)), false);
  } finally {
    await client.close();
  }
});

test('a body larger than what waits unread reaches a slow reader whole and in order; the connection is kept for the next request', async () => {
  const data = randomBytes(8 * 1024 * 1024);
  const { server, port, connections } = await serve((req, res) => {
    if (req.url === '/small') return void res.end('small');
    res.writeHead(200, { 'Content-Length': String(data.length) });
    // ~1 MiB writes, as an object server sends a read batch
    let at = 0;
    const more = (): void => {
      while (at < data.length) {
        const ok = res.write(data.subarray(at, at + 1024 * 1024));
        at += 1024 * 1024;
        if (!ok) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  const client = new UndiciBackendClient();
  try {
    const res = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/big' });
    const hash = createHash('md5');
    let n = 0;
    let chunks = 0;
    for await (const chunk of res.body) {
      hash.update(chunk);
      n += chunk.length;
      // A reader slower than the node: the queue fills and the connection is paused.
      if (++chunks % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.is(n, data.length);
    assert.is(hash.digest('hex'), createHash('md5').update(data).digest('hex'));
    assert.is(await (await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/small' })).body.text(), 'small');
    assert.is(connections(), 1, 'the connection of the whole body was reused');
  } finally {
    await client.close();
    await stop(server);
  }
});

test('a reader that stops early closes that connection (its rest is never read); a dumped body frees its request', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  const { server, port } = await serve((req, res) => {
    res.end(req.url === '/big' ? big : 'short');
  });
  const firstClosed = new Promise((resolve) => server.once('connection', (socket) => socket.once('close', resolve)));
  const client = new UndiciBackendClient();
  try {
    const res = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/big' });
    for await (const chunk of res.body) {
      assert.ok(chunk.length > 0);
      break;
    }
    // The server sees the stopped body's connection go (it still had most of 4 MiB to send).
    await firstClosed;
    const next = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/short' });
    await next.body.dump();
    const again = await client.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/short' });
    assert.is(await again.body.text(), 'short');
  } finally {
    await client.close();
    await stop(server);
  }
});

test('upload: an empty piece is done at once (undici never writes an empty chunk, so no socket would report it)', async () => {
  const { server, port } = await serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    res.end(Buffer.concat(chunks));
  });
  const client = new UndiciBackendClient();
  try {
    const upload = client.upload({ ip: '127.0.0.1', port }, { method: 'PUT', path: '/sda/1/a/c/o', headers: { 'content-length': '6' } });
    assert.is(await upload.write(Buffer.from('abc')), true);
    const empty = await Promise.race([upload.write(Buffer.alloc(0)), new Promise((resolve) => setImmediate(resolve, 'still waiting'))]);
    assert.is(empty, true);
    assert.is(await upload.write(Buffer.from('def')), true);
    upload.end();
    assert.is(await (await upload.response).body.text(), 'abcdef');
  } finally {
    await client.close();
    await stop(server);
  }
});

test('a COPY of 8 MiB no longer times out: a body paused for a slow reader and resumed on an empty socket feeds an upload to its end', async () => {
  // The source sends as an object server does (~1 MiB per disk read, the next read after the
  // last is written), so the reader's queue fills to its mark at the end of what the socket
  // holds; undici's parser, resumed then, hands over an empty chunk, which became an upload
  // piece undici never wrote ('write timed out' three times on 5142ab1).
  const data = randomBytes(8 * 1024 * 1024);
  const source = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': String(data.length) });
    let at = 0;
    const more = (): void => {
      if (at >= data.length) return void res.end();
      const piece = data.subarray(at, at + 1024 * 1024);
      at += piece.length;
      res.write(piece, () => setImmediate(more));
    };
    more();
  });
  const sink = await serve(async (req, res) => {
    const hash = createHash('md5');
    let n = 0;
    try {
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        n += (chunk as Buffer).length;
        // Slower than the source: the copy waits on its writes and leaves the source's queue full.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch {
      return; // the copy gave up (a failed run): nothing to answer
    }
    res.end(`${n} ${hash.digest('hex')}`);
  });
  const client = new UndiciBackendClient();
  try {
    for (let round = 0; round < 4; round++) {
      const got = await client.request({ ip: '127.0.0.1', port: source.port }, { method: 'GET', path: '/src' });
      const upload = client.upload({ ip: '127.0.0.1', port: sink.port }, { method: 'PUT', path: '/dst', headers: { 'content-length': String(data.length) } });
      for await (const chunk of got.body) {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise((resolve) => (timer = setTimeout(resolve, 5000, 'never sent')));
        const sent = await Promise.race([upload.write(chunk), stalled]);
        clearTimeout(timer);
        assert.is(sent, true, `round ${round}: a piece of the copy was never sent`);
      }
      upload.end();
      assert.is(await (await upload.response).body.text(), `${data.length} ${createHash('md5').update(data).digest('hex')}`);
    }
  } finally {
    await client.close();
    await stop(source.server);
    await stop(sink.server);
  }
});

test.run();
