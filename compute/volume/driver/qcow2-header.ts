/**
 * What the volume driver needs from a qcow2 image's header (QEMU's docs/interop/qcow2.txt):
 * the magic, the virtual size and the backing file's name. Read straight from the file, so
 * listing volumes does not need a `qemu-img info` per file.
 */
export interface Qcow2Header {
  readonly sizeBytes: number;
  readonly backingFile?: string;
}

const MAGIC = 0x514649fb; // "QFI\xfb"

/** The header, or `undefined` when the bytes are not a qcow2 image. `head` needs the backing name too (the first 64 KiB is plenty). */
export function parseQcow2Header(head: Uint8Array): Qcow2Header | undefined {
  if (head.length < 32) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0) !== MAGIC) return undefined;
  const backingOffset = Number(view.getBigUint64(8));
  const backingLength = view.getUint32(16);
  const sizeBytes = Number(view.getBigUint64(24));
  if (backingOffset === 0 || backingLength === 0 || backingOffset + backingLength > head.length) return { sizeBytes };
  return { sizeBytes, backingFile: new TextDecoder().decode(head.subarray(backingOffset, backingOffset + backingLength)) };
}
