import { createHash } from 'node:crypto';
import type { VolumeDriver, VolumeFile } from '../../compute/volume/driver/types.ts';

/**
 * Known volume contents for backup tests: `size` bytes, deterministic from `seed`, a mix a real
 * disk has (runs of zeros, compressible text, incompressible bytes), so compression is used for
 * some chunks and skipped for others.
 */
export function knownData(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const region = 96 * 1024;
  for (let at = 0; at < size; at += region) {
    const end = Math.min(size, at + region);
    const kind = Math.floor(at / region) % 3;
    if (kind === 0) continue; // zeros
    if (kind === 1) out.write(`block ${at} of seed ${seed}; `.repeat(Math.ceil((end - at) / 24)).slice(0, end - at), at, 'latin1');
    else for (let i = at; i < end; i += 4) out.writeUInt32LE(next(), i);
  }
  return out;
}

/** Changes `fraction` of `data` in place, in `spots` runs spread over it; returns the ranges changed. */
export function changeSpots(data: Buffer, fraction: number, spots: number): Array<[number, number]> {
  const total = Math.floor(data.length * fraction);
  const each = Math.max(1, Math.floor(total / spots));
  const ranges: Array<[number, number]> = [];
  for (let s = 0; s < spots; s++) {
    const start = Math.floor(((s + 0.5) * data.length) / spots);
    const end = Math.min(data.length, start + each);
    for (let i = start; i < end; i++) data[i] = (data[i] as number) ^ 0xa5;
    ranges.push([start, end]);
  }
  return ranges;
}

export async function writeVolume(driver: VolumeDriver, id: string, data: Uint8Array): Promise<void> {
  const file = await driver.openVolume(id, 'rw');
  for (let at = 0; at < data.length; at += 1 << 20) await file.write(at, data.subarray(at, at + (1 << 20)));
  await file.close();
}

export async function readVolume(driver: VolumeDriver, id: string): Promise<Buffer> {
  const file = await driver.openVolume(id, 'r');
  try {
    return Buffer.from(await file.read(0, file.sizeBytes));
  } finally {
    await file.close();
  }
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * `file` with the bytes read through it counted (`read` and `readInto`), and without
 * `changedSince` when `tracked` is false (a backup that must read it all).
 */
export function countingReads(file: VolumeFile, options: { tracked?: boolean } = {}): VolumeFile & { bytesRead: number } {
  const readInto = file.readInto?.bind(file);
  const counted: VolumeFile & { bytesRead: number } = {
    bytesRead: 0,
    sizeBytes: file.sizeBytes,
    read: async (position, length) => {
      const got = await file.read(position, length);
      counted.bytesRead += got.length;
      return got;
    },
    ...(readInto
      ? {
          readInto: async (buffer: Uint8Array, position: number) => {
            const n = await readInto(buffer, position);
            counted.bytesRead += n;
            return n;
          },
        }
      : {}),
    write: (position, data) => file.write(position, data),
    sync: () => file.sync(),
    close: () => file.close(),
    ...((options.tracked ?? true) && file.changedSince ? { changedSince: file.changedSince.bind(file) } : {}),
  };
  return counted;
}
