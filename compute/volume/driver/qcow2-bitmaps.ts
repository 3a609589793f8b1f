import { InvalidVolume } from '../errors.ts';
import { readQcow2Bitmaps } from './qcow2-bitmap-directory.ts';
import { qemuImg } from './qemu-img.ts';

/**
 * Changed-block tracking marks of a qcow2 volume: persistent dirty bitmaps named
 * `swiftlet-<mark>` in the image itself (QEMU's docs/interop/bitmaps.rst). QEMU loads an
 * enabled ("auto") bitmap whenever it opens the image (a guest, qemu-nbd, qemu-io) and sets a
 * bit for every cluster written, so the bitmap sees every writer but one that rewrites the
 * file (`qemu-img convert` makes a new image without it: no mark, a full read). A QEMU that
 * died with the image open leaves the bitmap "in-use": inconsistent, not trusted.
 */
const PREFIX = 'swiftlet-';
/** One bit per 64 KiB, the qcow2 cluster size: two of Cinder's 32 KiB hash blocks. */
const GRANULARITY = 65_536;

export interface Qcow2Bitmap {
  /** The mark (the bitmap's name without the prefix). */
  readonly mark: string;
  /** The bitmap's name in the image. */
  readonly name: string;
  /** Enabled and consistent: every write since it was added is in it. */
  readonly trusted: boolean;
}

/** The bitmap name of `mark`. @throws {InvalidVolume} a mark that is not a plain name */
export function bitmapName(mark: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(mark)) throw new InvalidVolume(`mark ${JSON.stringify(mark)} is not a valid name`);
  return `${PREFIX}${mark}`;
}

/** The image's marks (bitmaps of other names are not ours and are left alone). */
export async function listMarks(path: string): Promise<Qcow2Bitmap[]> {
  return ((await readQcow2Bitmaps(path)) ?? [])
    .filter((b) => b.name.startsWith(PREFIX))
    .map((b) => ({ mark: b.name.slice(PREFIX.length), name: b.name, trusted: b.auto && !b.inUse }));
}

/** Adds an enabled bitmap for `mark` (fails while another process holds the image). @throws {InvalidVolume} */
export async function addMark(binary: string, path: string, mark: string): Promise<void> {
  await qemuImg(binary, ['bitmap', '--add', '--enable', '-g', String(GRANULARITY), '-f', 'qcow2', path, bitmapName(mark)]);
}

/** Removes `mark`'s bitmap. @throws {InvalidVolume} */
export async function removeMark(binary: string, path: string, mark: string): Promise<void> {
  await qemuImg(binary, ['bitmap', '--remove', '-f', 'qcow2', path, bitmapName(mark)]);
}
