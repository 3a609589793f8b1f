import { hash } from 'node:crypto';
import { isAllZero } from '../all-zero.ts';
import { DIGEST_BYTES } from './sha256-file.ts';

/**
 * The SHA-256 of every `blockSize` block of `data`, the last one maybe shorter, as Cinder's
 * `_calculate_sha` lists them for the sha256 file: 32 bytes a block, block `i` at `32 i`
 * (written into `into` at `at` blocks when given). An all-zero block's digest is the digest of
 * zeros, looked up instead of computed: volumes are often largely holes, and a memcmp is a
 * tenth of a SHA-256's cost. The answer is the same either way, so a restore that checks a
 * block this way still checks it against its recorded SHA-256.
 */
export function blockSha256s(data: Uint8Array, blockSize: number, into?: Uint8Array, at = 0): Uint8Array {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = into ?? new Uint8Array(Math.ceil(bytes.length / blockSize) * DIGEST_BYTES);
  let to = at * DIGEST_BYTES;
  for (let from = 0; from < bytes.length; from += blockSize, to += DIGEST_BYTES) {
    const block = bytes.subarray(from, from + blockSize);
    out.set(isAllZero(block) ? zeroSha(block.length) : hash('sha256', block, 'buffer'), to);
  }
  return out;
}

const zeroShas = new Map<number, Buffer>();

function zeroSha(length: number): Buffer {
  let sha = zeroShas.get(length);
  if (sha === undefined) {
    sha = hash('sha256', Buffer.alloc(length), 'buffer');
    zeroShas.set(length, sha);
  }
  return sha;
}
