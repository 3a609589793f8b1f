import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isAllZero } from './all-zero.ts';
import { qemuImg, qemuImgInfo } from './driver/qemu-img.ts';
import type { VolumeFile } from './driver/types.ts';
import { ImageUnacceptable } from './errors.ts';

/** Glance's disk formats as qemu-img names them (Cinder's QEMU_IMG_FORMAT_MAP). */
const QEMU_FORMATS: Readonly<Record<string, string>> = { iso: 'raw', vhd: 'vpc', ploop: 'parallels' };

/** Cinder's `vmdk_allowed_types` default: single-file VMDKs, whose extents cannot name host files. */
const VMDK_ALLOWED_TYPES = ['streamOptimized', 'monolithicSparse'];

export interface ImageToRawOptions {
  /** Cinder's `image_conversion_dir`: where the download and the converted image are kept meanwhile. */
  readonly conversionDir: string;
  /** The `qemu-img` command. */
  readonly qemuImg: string;
  /** The API's GiB, for the refusal's words. */
  readonly bytesPerGiB: number;
}

/**
 * Cinder's `image_utils.fetch_to_raw` for an image that is not raw: the image downloaded to a
 * file of its own, `qemu-img info` checked as `check_image_format` does (the format Glance
 * claims, no backing file, no qcow2 data file, only single-file VMDKs, a virtual size that
 * fits the volume), converted to raw with `qemu-img convert`, and the result written into the
 * volume from its start, its zero MiB left as holes (the volume is new). Both files go, whatever
 * happens. @throws {ImageUnacceptable}; {InvalidVolume} (qemu-img failed or is missing).
 */
export async function imageToRaw(options: ImageToRawOptions, image: { readonly id: string; readonly disk_format: string | null }, data: AsyncIterable<Uint8Array>, file: VolumeFile): Promise<{ format: string; virtualSize: number }> {
  await mkdir(options.conversionDir, { recursive: true });
  const base = join(options.conversionDir, `image-${image.id}-${randomUUID()}`);
  const source = `${base}.download`;
  const raw = `${base}.raw`;
  try {
    await pipeline(data, createWriteStream(source, { flags: 'wx' }));
    const info = await qemuImgInfo(options.qemuImg, source);
    const format = typeof info['format'] === 'string' ? info['format'] : undefined;
    if (format === undefined) throw new ImageUnacceptable(image.id, "'qemu-img info' parsing failed.");
    // In fetch_to_volume_format's order: the size, the backing file, then convert_image's format checks.
    const virtualSize = Number(info['virtual-size'] ?? 0);
    if (virtualSize > file.sizeBytes) {
      throw new ImageUnacceptable(image.id, `Image virtual size is ${Math.ceil(virtualSize / options.bytesPerGiB)}GB and doesn't fit in a volume of size ${Math.round(file.sizeBytes / options.bytesPerGiB)}GB.`);
    }
    const backing = info['backing-filename'] ?? info['full-backing-filename'];
    if (typeof backing === 'string') throw new ImageUnacceptable(image.id, `fmt=${format} backed by:${backing}`);
    const claimed = QEMU_FORMATS[image.disk_format ?? ''] ?? image.disk_format ?? '';
    if (format !== claimed) throw new ImageUnacceptable(image.id, `The image format was claimed to be '${claimed}' but the image data appears to be in a different format.`);
    const specific = (info['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data;
    if (format === 'qcow2' && typeof specific?.['data-file'] === 'string') throw new ImageUnacceptable(image.id, 'A qcow2 format image is not allowed to have a data file');
    if (format === 'vmdk') {
      const createType = specific?.['create-type'];
      if (typeof createType !== 'string') throw new ImageUnacceptable(image.id, 'Unable to determine VMDK createType');
      if (!VMDK_ALLOWED_TYPES.includes(createType)) throw new ImageUnacceptable(image.id, 'Invalid VMDK create-type specified');
    }
    // -f names the checked format, so qemu-img never probes (a raw image could look like another).
    await qemuImg(options.qemuImg, ['convert', '-f', format, '-O', 'raw', source, raw]);
    await copyNonZero(raw, file);
    return { format, virtualSize };
  } finally {
    await rm(source, { force: true });
    await rm(raw, { force: true });
  }
}

/** The raw file's bytes into the volume at the same offsets, leaving zero MiB unwritten (Cinder's sparse copy). */
async function copyNonZero(path: string, file: VolumeFile): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size > file.sizeBytes) throw new ImageUnacceptable('', `the converted image (${size} bytes) is larger than the volume`);
    const step = 1024 * 1024;
    const buffer = Buffer.alloc(step);
    for (let position = 0; position < size; position += step) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(step, size - position), position);
      const piece = buffer.subarray(0, bytesRead);
      if (!isAllZero(piece)) await file.write(position, Buffer.from(piece));
    }
    await file.sync();
  } finally {
    await handle.close();
  }
}
