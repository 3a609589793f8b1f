/** Whether every byte is zero (a block the volume may keep as a hole). */
export function isAllZero(data: Uint8Array): boolean {
  // 8 bytes at a time where the view allows; the tail byte by byte.
  const words = Math.floor(data.byteLength / 8);
  if (data.byteOffset % 8 === 0) {
    const big = new BigUint64Array(data.buffer, data.byteOffset, words);
    for (let i = 0; i < words; i++) if (big[i] !== 0n) return false;
    for (let i = words * 8; i < data.length; i++) if (data[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
