import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAllZero } from '../../../../compute/volume/all-zero.ts';

/** Callers pass views at any offset and of any length: backup blocks, clone chunks of 4 MiB. */

test('zeros of any length and alignment are all zero, empty included', () => {
  for (const size of [0, 1, 7, 8, 32 * 1024, 64 * 1024, 64 * 1024 + 1, 4 * 1024 * 1024]) {
    assert.ok(isAllZero(new Uint8Array(size)), `${size} bytes`);
    assert.ok(isAllZero(new Uint8Array(size + 3).subarray(3)), `${size} bytes at offset 3`);
  }
});

test('one non-zero byte anywhere, past the first 64 KiB too, is found; bytes outside the view are not looked at', () => {
  const size = 4 * 1024 * 1024 + 5;
  for (const at of [0, 1, 64 * 1024 - 1, 64 * 1024, 3 * 1024 * 1024 + 17, size - 1]) {
    const data = new Uint8Array(size + 2);
    data[at + 1] = 1;
    assert.not.ok(isAllZero(data.subarray(1, size + 1)), `byte ${at}`);
  }
  const around = new Uint8Array(100).fill(0xff);
  around.fill(0, 10, 90);
  assert.ok(isAllZero(around.subarray(10, 90)));
});

test.run();
