import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../../common/logger.ts';
import { UndiciBackendClient } from '../../../../common/http/backend-client.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import { countedBody } from '../../../../common/http/counted-body.ts';
import { type LendableBody, lendableBody } from '../../../../common/http/lendable-body.ts';
import { type Handler, listen } from '../../../../common/http/server.ts';
import { rawExchange } from '../../../helpers/http.ts';

const lines: string[] = [];
const logger = createLogger({ sink: (l) => lines.push(l) });

async function withServer(handler: Handler, fn: (port: number) => Promise<void>): Promise<void> {
  const server = await listen(handler, { host: '127.0.0.1', port: 0, logger });
  try {
    await fn(server.port);
  } finally {
    await server.close();
  }
}

/** A raw request with node:http, so the test sees exactly what went on the wire. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; headers: string[]; body: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: res.rawHeaders, body: Buffer.concat(chunks), error }));
    });
    req.on('error', (error) => resolve({ status: 0, headers: [], body: Buffer.alloc(0), error }));
    req.end(body);
  });
}

test("header names go out the way Swift writes them (Python's str.title())", async () => {
  await withServer(async () => ({ status: 200, headers: { 'x-object-meta-color': 'blue', etag: 'abc', 'x-openstack-request-id': 'tx1', 'x-meta-1a': 'z' }, body: 'hello' }), async (port) => {
    const res = await raw(port, 'GET', '/');
    assert.is(res.status, 200);
    assert.is(res.body.toString(), 'hello');
    for (const name of ['X-Object-Meta-Color', 'Etag', 'X-Openstack-Request-Id', 'X-Meta-1A', 'Content-Length']) {
      assert.ok(res.headers.includes(name), `missing ${name} in ${res.headers.join(',')}`);
    }
  });
});

test('HEAD keeps Content-Length but sends no body', async () => {
  await withServer(async () => ({ status: 200, headers: { 'Content-Length': 11 }, body: null }), async (port) => {
    const res = await raw(port, 'HEAD', '/');
    assert.is(res.status, 200);
    const i = res.headers.indexOf('Content-Length');
    assert.is(res.headers[i + 1], '11');
    assert.is(res.body.length, 0);
  });
});

test("HttpError becomes its status with Swift's default body, or the given text", async () => {
  await withServer(async (req) => {
    if (req.path === '/plain') throw new HttpError(400, 'Metadata name too long: x');
    throw new HttpError(404, undefined, { 'X-Backend-Timestamp': '1.00000' });
  }, async (port) => {
    const notFound = await raw(port, 'GET', '/x');
    assert.is(notFound.status, 404);
    assert.is(notFound.body.toString(), '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
    assert.ok(notFound.headers.includes('X-Backend-Timestamp'));
    const bad = await raw(port, 'GET', '/plain');
    assert.is(bad.status, 400);
    assert.is(bad.body.toString(), 'Metadata name too long: x');
  });
});

test('an unexpected error is a logged 500, not a crash', async () => {
  lines.length = 0;
  await withServer(async () => {
    throw new TypeError('oops');
  }, async (port) => {
    const res = await raw(port, 'GET', '/boom');
    assert.is(res.status, 500);
    assert.match(lines.join('\n'), /unhandled error.*oops/);
  });
});

test('a body stream that fails before its first chunk becomes an error status', async () => {
  await withServer(async () => ({
    status: 200,
    body: (async function* () {
      throw new HttpError(503);
    })(),
  }), async (port) => {
    const res = await raw(port, 'GET', '/');
    assert.is(res.status, 503);
  });
});

test('a body stream that fails midway cuts the connection: the client never sees a whole body', async () => {
  await withServer(async () => ({
    status: 200,
    headers: { 'Content-Length': 200_000 },
    body: (async function* () {
      yield Buffer.alloc(65_536, 1);
      throw new Error('corrupt block');
    })(),
  }), async (port) => {
    const res = await raw(port, 'GET', '/');
    assert.is(res.status, 200);
    assert.ok(res.error !== undefined || res.body.length < 200_000, 'the client got a complete-looking body');
  });
});

/** The status lines in what a server sent, in order. */
function statusLines(wire: string): string[] {
  return [...wire.matchAll(/HTTP\/1\.[01] \d{3}[^\r]*/g)].map((m) => m[0]);
}

test('regression (pipelined garbage lost the answer): bytes that are not a request after a PUT on a kept-alive connection: the PUT is answered first, then 400, then the connection closes', async () => {
  const stored: string[] = [];
  await withServer(async (req) => {
    const chunks: Buffer[] = [];
    for await (const c of req.body) chunks.push(c as Buffer);
    stored.push(Buffer.concat(chunks).toString());
    return { status: 201, headers: { Etag: 'e' } };
  }, async (port) => {
    const wire = await rawExchange(port, 'PUT /v1/a/c/o HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGARBAGE \x01\x02 not http\r\n\r\n');
    assert.equal(stored, ['hello']);
    assert.equal(statusLines(wire), ['HTTP/1.1 201 Created', 'HTTP/1.1 400 Bad Request']);
    assert.match(wire, /Connection: close/);
  });
});

test('regression (pipelined garbage lost the answer): every request before the bad bytes is answered, in order, even when the first is the slowest', async () => {
  let releaseFirst: () => void = () => undefined;
  const firstHeld = new Promise<void>((resolve) => {
    releaseFirst = resolve;
  });
  const seen: string[] = [];
  await withServer(async (req) => {
    seen.push(req.path);
    if (req.path === '/first') await firstHeld;
    if (req.path === '/second') releaseFirst();
    return { status: 200, body: req.path };
  }, async (port) => {
    const wire = await rawExchange(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01 junk\r\n\r\n');
    assert.equal(seen, ['/first', '/second']);
    assert.equal(statusLines(wire), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
    assert.ok(wire.indexOf('/first') < wire.indexOf('/second'), wire);
  });
});

test('regression (raw UTF-8 in a request line was a 400 from node\'s parser): the line is read again with those bytes percent-encoded, and the connection goes on serving', async () => {
  const seen: string[] = [];
  await withServer(async (req) => {
    seen.push(req.path);
    const chunks: Buffer[] = [];
    for await (const c of req.body) chunks.push(c as Buffer);
    return { status: 200, body: `${req.method} ${req.path} ${req.rawQuery} ${Buffer.concat(chunks).toString()}` };
  }, async (port) => {
    const wire = await rawExchange(
      port,
      Buffer.concat([
        Buffer.from('GET /first HTTP/1.1\r\nHost: x\r\n\r\n'),
        Buffer.from('PUT /v1/a/\u2603/\u00e9?x=\u00ff HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody'),
        Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0xff, 0xfe, 0x20]),
        Buffer.from('HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ]),
    );
    assert.equal(seen, ['/first', '/v1/a/%E2%98%83/%C3%A9', '/%FF%FE', '/last']);
    assert.equal(statusLines(wire), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.match(wire, /PUT \/v1\/a\/%E2%98%83\/%C3%A9 x=%C3%BF body/);
  });
});

test('regression (a method node does not know was a 400 from its parser): it reaches the handler as sent, body and all, and the connection goes on serving', async () => {
  const seen: string[] = [];
  await withServer(async (req) => {
    const chunks: Buffer[] = [];
    for await (const c of req.body) chunks.push(c as Buffer);
    seen.push(`${req.method} ${req.path} ${Buffer.concat(chunks).toString()}`);
    return { status: req.method === 'GET' ? 200 : 405 };
  }, async (port) => {
    const wire = await rawExchange(port, 'LICK /v1/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGETorHEAD_base /v1/a HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(seen, ['LICK /v1/a abc', 'GETorHEAD_base /v1/a ', 'GET /v1/a ']);
    assert.equal(statusLines(wire), ['HTTP/1.1 405 Method Not Allowed', 'HTTP/1.1 405 Method Not Allowed', 'HTTP/1.1 200 OK']);
  });
});

test('a chunked body broken by bad bytes: a handler reading it sees it fail and its answer still goes out; one answering without it (a 501) is heard; then the connection closes', async () => {
  let bodyFailed = false;
  await withServer(async (req) => {
    if (req.path === '/refuse') return { status: 501, body: 'Unsupported Transfer-Coding header value specified in Transfer-Encoding header' };
    try {
      for await (const _ of req.body) void _;
    } catch {
      bodyFailed = true;
      return { status: 499 };
    }
    return { status: 201 };
  }, async (port) => {
    const read = await rawExchange(port, 'PUT /o HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz-not-a-size\r\n\r\n');
    assert.equal(statusLines(read), ['HTTP/1.1 499 Client Disconnect']);
    const refused = await rawExchange(port, 'PUT /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip,chunked\r\n\r\nnot chunked at all');
    assert.equal(statusLines(refused), ['HTTP/1.1 501 Not Implemented']);
  });
  assert.ok(bodyFailed);
});

test('HTTP/1.1 answers carry no Connection or Keep-Alive header, as Swift\'s; a closing answer says Connection: close; a client that sent Connection: keep-alive is told keep-alive (no Keep-Alive header)', async () => {
  await withServer(async () => ({ status: 200, body: 'ok' }), async (port) => {
    const kept = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', true);
    assert.match(kept, /^HTTP\/1\.1 200 OK/);
    assert.not.match(kept, /Connection:|Keep-Alive:/i);
    const asked = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive\r\n\r\n', true);
    assert.match(asked, /Connection: keep-alive/);
    assert.not.match(asked, /Keep-Alive: timeout/i);
    const closing = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(closing, /Connection: close/);
    const old = await rawExchange(port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true);
    assert.match(old, /Connection: keep-alive/);
  });
});

test('request bodies stream in (5 MB, hashed on the way)', async () => {
  await withServer(async (req) => {
    const md5 = createHash('md5');
    let bytes = 0;
    for await (const chunk of req.body) {
      md5.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { status: 201, headers: { etag: md5.digest('hex'), 'x-bytes': bytes } };
  }, async (port) => {
    const data = Buffer.alloc(5_000_000, 'a');
    const res = await raw(port, 'PUT', '/obj', { 'Content-Length': String(data.length) }, data);
    assert.is(res.status, 201);
    const i = res.headers.indexOf('Etag');
    assert.is(res.headers[i + 1], createHash('md5').update(data).digest('hex'));
  });
});

test('REPLICATE and SSYNC reach handlers as their own verbs; COPY passes through; query is parsed', async () => {
  const seen: string[] = [];
  await withServer(async (req) => {
    seen.push(`${req.method} ${req.path} ${req.query.get('format') ?? ''}`);
    return { status: 200, body: 'ok' };
  }, async (port) => {
    const client = new UndiciBackendClient();
    try {
      const a = await client.request({ ip: '127.0.0.1', port }, { method: 'REPLICATE', path: '/sda/1/abc' });
      await a.body.dump();
      const b = await client.request({ ip: '127.0.0.1', port }, { method: 'SSYNC', path: '/sda/1' });
      await b.body.dump();
    } finally {
      await client.close();
    }
    await raw(port, 'COPY', '/v1/a/c/o?format=json', { Destination: 'c/o2' });
  });
  assert.equal(seen, ['REPLICATE /sda/1/abc ', 'SSYNC /sda/1 ', 'COPY /v1/a/c/o json']);
});

test("a client that goes away aborts the request's signal", async () => {
  let aborted!: Promise<boolean>;
  await withServer(async (req) => {
    aborted = new Promise((resolve) => req.signal.addEventListener('abort', () => resolve(true)));
    await new Promise((resolve) => setTimeout(resolve, 5000).unref());
    return { status: 200 };
  }, async (port) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false });
    req.on('error', () => {});
    req.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    assert.is(await aborted, true);
  });
});

test('regression (file handle leak): a body whose client goes away is closed, not left to the garbage collector', async () => {
  let closed!: () => void;
  const wasClosed = new Promise<void>((resolve) => (closed = resolve));
  await withServer(async () => ({
    status: 200,
    body: (async function* () {
      try {
        for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024 * 1024);
      } finally {
        closed();
      }
    })(),
  }), async (port) => {
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.once('data', () => {
          res.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
    // Bounded so that a regression fails instead of hanging the run.
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref());
    assert.ok(await Promise.race([wasClosed.then(() => true), timeout]), 'the body was never closed');
  });
});

/** GETs `/` as a slow client (writes back up in the server until it starts reading after `pauseMs`): the body's MD5 and size. */
function slowDownload(port: number, pauseMs: number): Promise<{ md5: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const md5 = createHash('md5');
      let bytes = 0;
      res.pause();
      setTimeout(() => res.resume(), pauseMs);
      res.on('data', (c: Buffer) => {
        md5.update(c);
        bytes += c.length;
      });
      res.on('end', () => resolve({ md5: md5.digest('hex'), bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a lent body may fill one buffer again for every chunk: the client still gets every chunk as it was (the server waits for each write)', async () => {
  const chunkBytes = 1024;
  const count = 8192; // 8 MiB: more than the socket buffers hold while the client waits
  const fill = (buf: Buffer, i: number): Buffer => buf.fill(`chunk ${i};`);
  async function* reused(): AsyncGenerator<Uint8Array> {
    const buf = Buffer.alloc(chunkBytes);
    for (let i = 0; i < count; i++) yield fill(buf, i);
  }
  const expected = createHash('md5');
  for (let i = 0; i < count; i++) expected.update(fill(Buffer.alloc(chunkBytes), i));
  await withServer(async () => ({ status: 200, headers: { 'Content-Length': chunkBytes * count }, body: reused(), lent: true }), async (port) => {
    const got = await slowDownload(port, 300);
    assert.is(got.bytes, chunkBytes * count);
    assert.is(got.md5, expected.digest('hex'));
  });
});

test('a body that can lend its chunks is read the lent way by the server, also through a byte count, and the owned way by anyone else', async () => {
  const chunkBytes = 1024;
  const count = 8192;
  const fill = (buf: Buffer, i: number): Buffer => buf.fill(`chunk ${i};`);
  let lentReads = 0;
  async function* chunks(lend: boolean): AsyncGenerator<Uint8Array> {
    if (lend) lentReads++;
    const reused = Buffer.alloc(chunkBytes);
    for (let i = 0; i < count; i++) yield fill(lend ? reused : Buffer.alloc(chunkBytes), i);
  }
  const body = (): LendableBody => lendableBody(() => chunks(false)[Symbol.asyncIterator](), () => chunks(true)[Symbol.asyncIterator]());
  const expected = createHash('md5');
  for (let i = 0; i < count; i++) expected.update(fill(Buffer.alloc(chunkBytes), i));
  const digest = expected.digest('hex');
  let counted = 0;
  // No `lent: true`: the body says so itself; the count only looks at each chunk as it passes.
  await withServer(async () => ({ status: 200, headers: { 'Content-Length': chunkBytes * count }, body: countedBody(body(), (n) => (counted = n)) }), async (port) => {
    const got = await slowDownload(port, 300);
    assert.is(got.bytes, chunkBytes * count);
    assert.is(got.md5, digest);
  });
  assert.is(lentReads, 1, 'the server read it lent');
  assert.is(counted, chunkBytes * count);
  const kept: Uint8Array[] = [];
  for await (const chunk of countedBody(body(), () => undefined) as AsyncIterable<Uint8Array>) kept.push(chunk);
  assert.is(lentReads, 1, 'another reader gets chunks of its own');
  assert.is(createHash('md5').update(Buffer.concat(kept)).digest('hex'), digest);
});

test('a given body is freed chunk by chunk once written (relayed chunks left to the collector grew each proxy worker to ~200 MB), and the client still gets every byte; slices are left alone', async () => {
  const whole = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
  const pool = randomBytes(128 * 1024);
  const slices = [pool.subarray(0, 64 * 1024), pool.subarray(64 * 1024)];
  const chunks = [...whole, ...slices];
  const expected = createHash('md5');
  for (const c of chunks) expected.update(c);
  const digest = expected.digest('hex');
  async function* given(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  await withServer(async () => ({ status: 200, headers: { 'Content-Length': bytes }, body: given(), given: true }), async (port) => {
    const got = await slowDownload(port, 200);
    assert.is(got.bytes, bytes);
    assert.is(got.md5, digest);
  });
  assert.ok(whole.every((c) => c.length === 0), 'every whole chunk was freed');
  assert.ok(slices.every((c) => c.length === 64 * 1024) && pool.length === 128 * 1024, 'slices of a larger buffer are kept');
});

test('a given body that yields a chunk only after the client has the one before still streams (chunks gathered per turn go out when the turn ends)', async () => {
  let received: () => void = () => undefined;
  async function* trickle(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 3; i++) {
      const seen = new Promise<void>((resolve) => {
        received = resolve;
      });
      yield Buffer.from(`part${i};`);
      await seen;
    }
  }
  await withServer(async () => ({ status: 200, headers: { 'Content-Length': 18 }, body: trickle(), given: true }), async (port) => {
    const text = await new Promise<string>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let got = '';
        res.on('data', (c: Buffer) => {
          got += c.toString();
          received();
        });
        res.on('end', () => resolve(got));
        res.on('error', reject);
      }).end();
    });
    assert.is(text, 'part0;part1;part2;');
  });
});

test("Swift's own statuses get Swift's reason phrase on the status line (498 Rate Limited)", async () => {
  for (const [status, phrase] of [[498, 'Rate Limited'], [497, 'Blacklisted'], [429, 'Too Many Requests']] as const) {
    await withServer(async () => ({ status, body: 'Slow down' }), async (port) => {
      const line = await new Promise<string>((resolve) => {
        httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(`${res.statusCode} ${res.statusMessage}`);
        }).end();
      });
      assert.is(line, `${status} ${phrase}`);
    });
  }
});

test.run();
