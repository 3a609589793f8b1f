import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readBodyPieces } from '../../../../common/http/body-pieces.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../../../common/http/body-reader.ts';
import { hasLentChunks, hasOwnChunks } from '../../../../common/release-buffer.ts';

/** Chunks of the given sizes, each its own ArrayBuffer (as a socket delivers them). */
function ownChunks(sizes: readonly number[]): Buffer[] {
  return sizes.map((size) => {
    const chunk = Buffer.from(new ArrayBuffer(size));
    randomBytes(size).copy(chunk);
    return chunk;
  });
}

/** A request-like stream that delivers `chunks` one per turn, then ends (unless `end` is false). */
function body(chunks: readonly Buffer[], end = true): Readable {
  const queue = [...chunks];
  return new Readable({
    read() {
      setImmediate(() => {
        const next = queue.shift();
        if (next) this.push(next);
        else if (end) this.push(null);
      });
    },
  });
}

test('a body in 64 KiB socket chunks comes out in lent pieces of the piece size, every byte in order, each own chunk released once copied', async () => {
  const chunks = ownChunks([...Array(40).fill(64 * 1024), 5000, 70_000]);
  const whole = Buffer.concat(chunks);
  const pieces = readBodyPieces(body(chunks), { idleMs: 5000, pieceBytes: 256 * 1024, idleFlushMs: 10_000, releaseChunks: true });
  assert.ok(hasLentChunks(pieces) && !hasOwnChunks(pieces));
  const out: Buffer[] = [];
  const memory = new Set<ArrayBufferLike>();
  for await (const piece of pieces) {
    out.push(Buffer.from(piece));
    memory.add(piece.buffer);
  }
  assert.ok(Buffer.concat(out).equals(whole));
  assert.equal(
    out.map((b) => b.length),
    [...Array(10).fill(256 * 1024), 75_000],
  );
  assert.ok(chunks.every((c) => (c.buffer as ArrayBuffer).detached));
  assert.ok(memory.size <= 3, `the same few pieces are filled again (${memory.size} used)`);
});

test('a lent piece is not written over until the reader asks for the next, however far the client runs ahead', async () => {
  const chunks = ownChunks(Array(64).fill(16 * 1024));
  const pieces = readBodyPieces(body(chunks), { idleMs: 5000, pieceBytes: 64 * 1024, idleFlushMs: 10_000, releaseChunks: false });
  const out: Buffer[] = [];
  for await (const piece of pieces) {
    const copy = Buffer.from(piece);
    // The client keeps sending meanwhile: pieces fill ahead, then the body is paused.
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(piece.equals(copy), 'the lent piece is unchanged');
    out.push(copy);
  }
  assert.ok(Buffer.concat(out).equals(Buffer.concat(chunks)));
  assert.ok(chunks.every((c) => !(c.buffer as ArrayBuffer).detached && c.length === 16 * 1024), 'chunks not its own are left alone');
});

test('a client that pauses gets its partial piece handed over after the idle flush time, and the bytes after the pause follow in order', async () => {
  const chunks = ownChunks([10_000, 10_000, 10_000, 10_000]);
  let sent = 0;
  const paused = new Readable({
    read() {
      const next = chunks[sent++];
      setTimeout(() => this.push(next ?? null), sent === 3 ? 300 : 1);
    },
  });
  const started = performance.now();
  const out: { bytes: Buffer; at: number }[] = [];
  for await (const piece of readBodyPieces(paused, { idleMs: 5000, pieceBytes: 1024 * 1024, idleFlushMs: 20, releaseChunks: false })) out.push({ bytes: Buffer.from(piece), at: performance.now() - started });
  assert.equal(
    out.map((o) => o.bytes.length),
    [20_000, 20_000],
  );
  assert.ok(Buffer.concat(out.map((o) => o.bytes)).equals(Buffer.concat(chunks)));
  assert.ok((out[0] as { at: number }).at < 250, `the first two chunks went out during the pause (at ${(out[0] as { at: number }).at} ms)`);
});

test('a client that sends nothing for the idle time is a ClientTimeoutError, after its partial piece', async () => {
  const pieces = readBodyPieces(body(ownChunks([1000]), false), { idleMs: 100, pieceBytes: 64 * 1024, idleFlushMs: 20, releaseChunks: false });
  const lengths: number[] = [];
  const started = performance.now();
  try {
    for await (const piece of pieces) lengths.push(piece.length);
    assert.unreachable('no timeout');
  } catch (err) {
    assert.instance(err, ClientTimeoutError);
  }
  assert.equal(lengths, [1000]);
  assert.ok(performance.now() - started >= 90, 'not before the idle time');
});

test('a connection broken mid-body is a ClientDisconnectError, with or without an error', async () => {
  for (const reason of [new Error('aborted'), undefined]) {
    const stream = body(ownChunks([1000, 1000]), false);
    setTimeout(() => stream.destroy(reason), 30);
    try {
      for await (const _ of readBodyPieces(stream, { idleMs: 5000, pieceBytes: 64 * 1024, idleFlushMs: 10, releaseChunks: false })) {
        // read
      }
      assert.unreachable('no failure');
    } catch (err) {
      assert.instance(err, ClientDisconnectError);
    }
  }
});

test('a request broken before its reader began is a ClientDisconnectError at once, not an idle wait', async () => {
  const stream = body(ownChunks([1000]), false);
  // A request's error goes unemitted without a listener (node's IncomingMessage); here, one that ignores it.
  stream.on('error', () => {});
  stream.destroy(new Error('socket hang up'));
  await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  try {
    for await (const _ of readBodyPieces(stream, { idleMs: 5000, releaseChunks: false })) {
      // read
    }
    assert.unreachable('no failure');
  } catch (err) {
    assert.instance(err, ClientDisconnectError);
    assert.match((err as Error).message, 'socket hang up');
  }
  assert.ok(performance.now() - started < 1000);
});

test('stopping early destroys the request (its rest is not read) and leaves no timer behind', async () => {
  const stream = body(ownChunks(Array(20).fill(64 * 1024)), false);
  for await (const _ of readBodyPieces(stream, { idleMs: 60_000, pieceBytes: 64 * 1024, idleFlushMs: 20, releaseChunks: true })) break;
  assert.ok(stream.destroyed);
});

test('an empty body is no piece at all', async () => {
  const out: Buffer[] = [];
  for await (const piece of readBodyPieces(body([]), { idleMs: 1000, releaseChunks: true })) out.push(piece);
  assert.equal(out, []);
});

test.run();
