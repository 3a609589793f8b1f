/**
 * A volume handle's `read` from its `readInto`: new memory of the bytes that lie within the
 * volume (fewer than `length` at its end, none past it).
 */
export function readVia(sizeBytes: number, readInto: (buffer: Uint8Array, position: number) => Promise<number>): (position: number, length: number) => Promise<Uint8Array> {
  return async (position, length) => {
    const buf = new Uint8Array(Math.max(0, Math.min(length, sizeBytes - position)));
    await readInto(buf, position);
    return buf;
  };
}
