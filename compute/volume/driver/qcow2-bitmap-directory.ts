import { open } from 'node:fs/promises';

/**
 * The persistent dirty bitmaps a qcow2 image lists (QEMU's docs/interop/qcow2.txt, "Bitmaps
 * extension" and "Bitmap directory"), read straight from the file: a backup opens its volume
 * knowing which marks it may use, and a `qemu-img info` per open cost 20-100 ms.
 */
export interface Qcow2BitmapEntry {
  readonly name: string;
  /** Set while a QEMU has the image open for writing; left set by one that died: the bitmap is inconsistent. */
  readonly inUse: boolean;
  /** Enabled: QEMU records writes in it whenever it opens the image. */
  readonly auto: boolean;
}

const MAGIC = 0x514649fb;
const BITMAPS_EXTENSION = 0x23852875;
/** autoclear_features bit 0: the bitmaps extension is consistent (a QEMU unaware of bitmaps clears it when it writes the image). */
const AUTOCLEAR_BITMAPS = 1n;
const IN_USE = 1;
const AUTO = 2;
/** The directory may not be larger than this (QEMU's own limit, QCOW2_MAX_BITMAP_DIRECTORY_SIZE). */
const MAX_DIRECTORY = 64 * 1024 * 1024;

/**
 * The image's bitmaps; `[]` when it has none or its bitmaps extension is not to be trusted
 * (the autoclear bit cleared); `undefined` when the file is not a qcow2 image of version 3
 * (version 2 has no extensions of this kind).
 */
export async function readQcow2Bitmaps(path: string): Promise<Qcow2BitmapEntry[] | undefined> {
  const file = await open(path, 'r');
  try {
    const read = async (position: number, length: number): Promise<DataView> => {
      const buf = new Uint8Array(length);
      const { bytesRead } = await file.read(buf, 0, length, position);
      if (bytesRead !== length) throw new Error(`qcow2 image ${path}: short read of ${length} bytes at ${position}`);
      return new DataView(buf.buffer);
    };
    const header = await read(0, 104);
    if (header.getUint32(0) !== MAGIC || header.getUint32(4) < 3) return undefined;
    if ((header.getBigUint64(88) & AUTOCLEAR_BITMAPS) === 0n) return [];
    // Extensions follow the header, each (type, length, data padded to 8 bytes), until type 0.
    let at = header.getUint32(100);
    const clusterSize = 2 ** header.getUint32(20);
    while (at + 8 <= clusterSize) {
      const ext = await read(at, 8);
      const type = ext.getUint32(0);
      const length = ext.getUint32(4);
      if (type === 0) return [];
      if (type === BITMAPS_EXTENSION) {
        const data = await read(at + 8, 24);
        const count = data.getUint32(0);
        const size = Number(data.getBigUint64(8));
        const offset = Number(data.getBigUint64(16));
        if (size > MAX_DIRECTORY) throw new Error(`qcow2 image ${path}: bitmap directory of ${size} bytes`);
        return directory(await read(offset, size), count);
      }
      at += 8 + Math.ceil(length / 8) * 8;
    }
    return [];
  } finally {
    await file.close();
  }
}

function directory(view: DataView, count: number): Qcow2BitmapEntry[] {
  const out: Qcow2BitmapEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const flags = view.getUint32(at + 12);
    const nameSize = view.getUint16(at + 18);
    const extra = view.getUint32(at + 20);
    const nameAt = at + 24 + extra;
    const name = new TextDecoder().decode(new Uint8Array(view.buffer, view.byteOffset + nameAt, nameSize));
    out.push({ name, inUse: (flags & IN_USE) !== 0, auto: (flags & AUTO) !== 0 });
    at += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  return out;
}
