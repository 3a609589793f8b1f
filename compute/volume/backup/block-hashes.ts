import { hash } from 'node:crypto';

/**
 * SHA-256 (hex) of every `blockSize` block of `data`, the last one maybe shorter, as Cinder's
 * `_calculate_sha` lists them for the sha256 file. An all-zero block's digest is the digest of
 * zeros, looked up instead of computed: volumes are often largely holes, and a memcmp is a
 * tenth of a SHA-256's cost. The answer is the same either way, so a restore that checks a
 * block this way still checks it against its recorded SHA-256.
 */
export function blockSha256s(data: Uint8Array, blockSize: number): string[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const shas: string[] = [];
  for (let at = 0; at < bytes.length; at += blockSize) {
    const block = bytes.subarray(at, at + blockSize);
    shas.push(isZeros(block) ? zeroSha(block.length) : hash('sha256', block, 'hex'));
  }
  return shas;
}

/** Whether every byte of `data` is zero, at memcmp speed. */
export function isZeros(data: Uint8Array): boolean {
  if (data.length > zeros.length) zeros = Buffer.alloc(data.length);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(zeros.subarray(0, data.length));
}

let zeros = Buffer.alloc(64 * 1024);
const zeroShas = new Map<number, string>();

function zeroSha(length: number): string {
  let sha = zeroShas.get(length);
  if (sha === undefined) {
    sha = hash('sha256', Buffer.alloc(length), 'hex');
    zeroShas.set(length, sha);
  }
  return sha;
}
