import { execFile } from 'node:child_process';
import { copyFile, open, rm, stat } from 'node:fs/promises';
import { fsyncFile } from '../../../common/atomic-write.ts';
import { NotSupportedByDriver, SnapshotFailed } from './errors.ts';
import type { SnapshotImage } from './types.ts';

/** The root disk of a domain, as its XML names it. */
export interface DiskSource {
  readonly path: string;
  readonly format: string;
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr).trim() }));
      else resolve();
    });
  });
}

async function convert(domain: string, source: string, format: 'qcow2' | 'raw', outPath: string, qemuImg: string): Promise<void> {
  try {
    // -U: read without taking QEMU's image lock (a saved or paused guest may still hold it).
    await run(qemuImg, ['convert', '-U', '-f', format, '-O', format, source, outPath]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code !== 'ENOENT') throw new SnapshotFailed(domain, e.stderr || e.message, { cause: err });
    if (format !== 'raw') throw new NotSupportedByDriver('snapshot', `a ${format} disk needs qemu-img (Debian qemu-utils), which is not installed`);
    try {
      await copyFile(source, outPath);
    } catch (copyErr) {
      throw new SnapshotFailed(domain, (copyErr as Error).message, { cause: copyErr });
    }
  }
}

/**
 * Writes `disk` out to `outPath` as a standalone image in the disk's own format (Nova's
 * snapshot extraction: `qemu-img convert`, which folds a qcow2 overlay's backing chain into
 * one file); synced before it resolves. Without `qemu-img` a raw disk is copied as it is.
 * The guest must not be writing the disk meanwhile (the driver pauses or saves it).
 * @throws {NotSupportedByDriver} a qcow2 disk without qemu-img; {SnapshotFailed} otherwise.
 */
export async function extractDisk(domain: string, disk: DiskSource, outPath: string, qemuImg: string): Promise<SnapshotImage> {
  if (disk.format !== 'qcow2' && disk.format !== 'raw') throw new NotSupportedByDriver('snapshot', `disk format ${disk.format}`);
  const format = disk.format;
  // Claim the name first, so an existing file is never overwritten.
  try {
    await (await open(outPath, 'wx')).close();
  } catch (err) {
    throw new SnapshotFailed(domain, (err as Error).message, { cause: err });
  }
  try {
    await convert(domain, disk.path, format, outPath, qemuImg);
  } catch (err) {
    await rm(outPath, { force: true });
    throw err;
  }
  await fsyncFile(outPath);
  return { path: outPath, diskFormat: format, size: (await stat(outPath)).size };
}
