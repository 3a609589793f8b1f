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

test.run();
