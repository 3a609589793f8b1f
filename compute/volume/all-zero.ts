/**
 * Zeros to compare with. Longer data is compared a slice at a time, so this never grows with the
 * largest block ever checked (a clone's 4 MiB chunks would otherwise stay resident).
 */
const ZEROS = Buffer.alloc(64 * 1024);

/**
 * Whether every byte is zero (a block the volume may keep as a hole, a backup block whose
 * SHA-256 is looked up). memcmp against zeros: ~4x a scan of 64-bit words, ~30x one of bytes
 * (what an unaligned view needed).
 */
export function isAllZero(data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, bytes.length - at);
    if (ZEROS.compare(bytes, at, at + n, 0, n) !== 0) return false;
  }
  return true;
}
