import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkBuffers } from '../../../../../compute/volume/backup/chunk-buffers.ts';

const SIZE = 64 * 1024;

test("a restore's nine buffers (and one more) come back for the next one: ten are kept by default, not more", () => {
  const buffers = new ChunkBuffers();
  const first = Array.from({ length: 11 }, () => buffers.take(SIZE).buffer as SharedArrayBuffer);
  for (const b of first) buffers.give(b);
  const again = new Set(Array.from({ length: 11 }, () => buffers.take(SIZE).buffer));
  assert.is(first.filter((b) => again.has(b)).length, 10);
});

test('buffers are kept per size and let go after the idle time', async () => {
  const buffers = new ChunkBuffers({ idleMs: 5 });
  const a = buffers.take(SIZE).buffer as SharedArrayBuffer;
  buffers.give(a);
  assert.is.not(buffers.take(SIZE * 2).buffer, a);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.is.not(buffers.take(SIZE).buffer, a);
});

test.run();
