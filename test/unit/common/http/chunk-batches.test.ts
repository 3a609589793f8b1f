import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchPool, batchChunks } from '../../../../common/http/chunk-batches.ts';

/** Chunks of the given sizes, each its own ArrayBuffer (as a socket delivers them). */
function ownChunks(sizes: readonly number[]): Buffer[] {
  return sizes.map((size) => {
    const chunk = Buffer.from(new ArrayBuffer(size));
    randomBytes(size).copy(chunk);
    return chunk;
  });
}

async function* source(chunks: readonly Uint8Array[], pauseAfter = -1, pauseMs = 0): AsyncGenerator<Uint8Array> {
  for (const [i, chunk] of chunks.entries()) {
    yield chunk;
    await new Promise((resolve) => setImmediate(resolve));
    if (i === pauseAfter) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

test('a body in 64 KiB socket chunks comes out in batches of the pool size, every byte in order, each own chunk released once copied', async () => {
  const chunks = ownChunks([...Array(40).fill(64 * 1024), 5000, 70_000]);
  const whole = Buffer.concat(chunks);
  const pool = new BatchPool(256 * 1024);
  const out: Buffer[] = [];
  for await (const batch of batchChunks(source(chunks), { pool, idleFlushMs: 10_000, releaseSource: true })) out.push(Buffer.from(batch));
  assert.ok(Buffer.concat(out).equals(whole));
  assert.equal(out.map((b) => b.length), [...Array(10).fill(256 * 1024), 75_000]);
  assert.ok(chunks.every((c) => (c.buffer as ArrayBuffer).detached));
});

test('chunks that are not the source own are copied, never released', async () => {
  const chunks = ownChunks([100_000, 100_000]);
  const pool = new BatchPool(64 * 1024);
  let bytes = 0;
  for await (const batch of batchChunks(source(chunks), { pool, idleFlushMs: 10_000, releaseSource: false })) bytes += batch.length;
  assert.is(bytes, 200_000);
  assert.ok(chunks.every((c) => !(c.buffer as ArrayBuffer).detached && c.length === 100_000));
});

test('a source that pauses gets its partial batch sent after the idle time, and the bytes after the pause follow in order', async () => {
  const chunks = ownChunks([10_000, 10_000, 10_000, 10_000]);
  const pool = new BatchPool(1024 * 1024);
  const out: { bytes: Buffer; at: number }[] = [];
  const started = performance.now();
  for await (const batch of batchChunks(source(chunks, 1, 300), { pool, idleFlushMs: 20, releaseSource: false })) out.push({ bytes: Buffer.from(batch), at: performance.now() - started });
  assert.equal(out.map((o) => o.bytes.length), [20_000, 20_000]);
  assert.ok(Buffer.concat(out.map((o) => o.bytes)).equals(Buffer.concat(chunks)));
  assert.ok((out[0] as { at: number }).at < 250, `the first two chunks went out during the pause (at ${(out[0] as { at: number }).at} ms)`);
});

test('the pool hands out a given-back batch again, refuses views that do not start it and foreign buffers, and frees its memory on drain', async () => {
  const pool = new BatchPool(4096);
  const a = pool.take();
  assert.is(a.length, 4096);
  pool.give(a.subarray(100));
  pool.give(Buffer.alloc(4096 * 2).subarray(0, 4096));
  assert.is.not(pool.take().buffer, a.buffer, 'nothing was given back');
  pool.give(a.subarray(0, 10));
  const again = pool.take();
  assert.is(again.buffer, a.buffer);
  assert.is(again.length, 4096);
  pool.give(again);
  pool.drain();
  assert.ok((a.buffer as ArrayBuffer).detached);
});

test('a consumer that stops early is not held by a read still waiting after an idle flush', async () => {
  async function* stalls(): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(1000);
    await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
  }
  const pool = new BatchPool(64 * 1024);
  const started = performance.now();
  for await (const batch of batchChunks(stalls(), { pool, idleFlushMs: 10, releaseSource: false })) {
    assert.is(batch.length, 1000);
    break;
  }
  assert.ok(performance.now() - started < 5_000, 'returned without waiting for the stalled read');
});

test.run();
