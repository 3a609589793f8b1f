import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stopOrphanQemuNbd } from './orphan-qemu-nbd.ts';
import { QEMU_NBD_FILE } from './qemu-nbd.ts';
import type { LeftoverSweep } from './types.ts';

/**
 * Files the file driver writes under a temporary name, that only the process writing them ever
 * renames or links into a real name: `.tmp-*` (a volume or snapshot being published), `.work-*`
 * (a qcow2 volume's raw working copy, made by versions before qemu-nbd), and
 * writeFileAtomic's `.snapshot-<id>.info.<pid>.<hex>.tmp` (a snapshot's sidecar being written).
 * A snapshot's sidecar whose data file is missing goes too (SNAPSHOT_SIDECAR).
 */
const PARTIAL_FILE = /^(\.tmp-|\.work-|\.snapshot-.*\.tmp$)/;

/**
 * A snapshot's sidecar, `snapshot-<id>.info`. `createSnapshot` writes it before it links the
 * data file `snapshot-<id>`, and `deleteSnapshot` unlinks it after the data file: one without
 * its data file is a snapshot a crash cut off being made or deleted (listings already ignore it).
 */
const SNAPSHOT_SIDECAR = /^(snapshot-.+)\.info$/;

/**
 * The file driver's sweep at start (`VolumeDriver.sweepLeftovers`) of its volume directory `dir`.
 *
 * Why nothing found is anyone's: the directory is `volumes_dir`, one volume service's (Cinder's
 * volumes_dir of one host; the service's records also take this host as theirs alone, see
 * clean-up-at-start.ts), and this runs before that service starts any operation. So a partial
 * file is one a dead process was making; it alone would have linked it into a volume's name, so
 * no one ever will. (A `qemu-img convert` it started may still be writing one: removing the name
 * is still safe, the writer's output just goes nowhere.) The hypervisor on this host opens only
 * `volume-<id>` files, never these. A qemu-nbd's socket and pid file are its starter's: a live
 * qemu-nbd that wrote one has lost its starter (each export is one connection, made as soon as it
 * starts), so it is ended (stopOrphanQemuNbd) and its files removed; a pid file whose pid now
 * names another process only has its files removed, the process left alone.
 *
 * Volume images are not touched: a bitmap a killed qemu-nbd left `in-use` stays untrusted, and
 * that volume's next backup reads it all.
 */
export async function sweepVolumeDir(dir: string, options: { readonly qemuNbd: string }): Promise<LeftoverSweep> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { partialFiles: 0, stoppedExports: 0, exportFiles: 0 };
    throw err;
  }
  let partialFiles = 0;
  for (const name of names.filter((n) => PARTIAL_FILE.test(n))) {
    await rm(join(dir, name), { force: true });
    partialFiles++;
  }
  const listed = new Set(names);
  for (const name of names) {
    const data = SNAPSHOT_SIDECAR.exec(name)?.[1];
    // Looked up again, not only in the listing: a sidecar whose snapshot exists is never removed.
    if (data === undefined || listed.has(data) || (await entryExists(join(dir, data)))) continue;
    await rm(join(dir, name), { force: true });
    partialFiles++;
  }
  const exportFiles = names.filter((n) => QEMU_NBD_FILE.test(n));
  const stopped = await Promise.all(exportFiles.filter((n) => n.endsWith('.pid')).map((n) => stopOrphanQemuNbd(join(dir, n), { binary: options.qemuNbd })));
  // Only now: a qemu-nbd ended above removes its socket itself, and its pid file named it until then.
  for (const name of exportFiles) await rm(join(dir, name), { force: true });
  return { partialFiles, stoppedExports: stopped.filter((s) => s === 'stopped').length, exportFiles: exportFiles.length };
}

/**
 * Whether `path` is a directory entry, a dangling link included (lstat, not stat). Only ENOENT
 * is "absent": any other error is thrown, since the caller removes a sidecar it believes has no
 * snapshot, and an unreadable directory is no proof of that.
 */
async function entryExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
