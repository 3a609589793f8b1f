import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncFile } from '../../common/atomic-write.ts';
import type { LocalDisk } from '../local-disks.ts';
import type { ServerRecord } from '../server-record.ts';
import type { DiskSpec } from './hypervisor/domain-xml.ts';
import { runTool } from './run-tool.ts';

/** Nova's `is_supported_fs_format` (libvirt): what an ephemeral mapping's `guest_format` may name. */
const SUPPORTED = new Set(['ext2', 'ext3', 'ext4', 'xfs']);

/** What of a server its local disk files follow: its directory, its disks, its image's `os_type`. */
export type LocalDisksOf = Pick<ServerRecord, 'uuid' | 'local_disks' | 'os_type'>;

/** A blank the host could not make: the mapping's file system, or the tools it takes. */
export class LocalDiskError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalDiskError';
  }
}

export interface LocalDiskFilesOptions {
  /** The instances directory; the blank templates go to its `_base` (Nova's image cache directory). */
  readonly stateDir: string;
  /** Nova's `default_ephemeral_format`: an ephemeral disk's file system when its mapping names none; empty: by the image's `os_type`. */
  readonly defaultEphemeralFormat: string;
  readonly qemuImg?: string;
}

function run(command: string, args: readonly string[]): Promise<void> {
  return runTool(command, args, (err, stderr) => new LocalDiskError(`${command} ${args.join(' ')}: ${stderr || err.message}`, { cause: err }));
}

/** `mkfs` and `mkswap` live in `/usr/sbin`, which a service user's `PATH` may not hold. */
async function sbin(name: string): Promise<string> {
  for (const dir of [...(process.env['PATH'] ?? '').split(':').filter((d) => d !== ''), '/usr/sbin', '/sbin']) {
    if (await exists(join(dir, name))) return join(dir, name);
  }
  throw new LocalDiskError(`ephemeral and swap disks need ${name} (Debian util-linux), which is not installed`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * The files of a server's ephemeral and swap disks (Nova's `_create_ephemeral`, `_create_swap`):
 * each a standalone qcow2 file in the instance directory, copied (cloned where the file system
 * can) from a template in `_base` made once per size and format, as Nova's qcow2 backend keeps a
 * base per size: a sparse raw file given its file system (`mkfs -t <fs> -L ephemeral<N>`) or its
 * swap signature (`mkswap`), converted to qcow2 so that only what `mkfs` wrote takes space and
 * travels when the server moves. Standalone, not an overlay of the base: a move to another host
 * sends the one file and needs no base there.
 */
export class LocalDiskFiles {
  private readonly options: LocalDiskFilesOptions;
  private readonly qemuImg: string;
  /** Templates being made, so that two builds at once make one. */
  private readonly making = new Map<string, Promise<string>>();

  constructor(options: LocalDiskFilesOptions) {
    this.options = options;
    this.qemuImg = options.qemuImg ?? 'qemu-img';
  }

  /** The disks as the domain XML lists them, after the root disk. */
  specs(server: LocalDisksOf): DiskSpec[] {
    return (server.local_disks ?? []).map((d) => ({ path: join(this.dir(server), d.file), format: 'qcow2' as const, targetDev: d.device }));
  }

  /**
   * Makes each of the server's disks that is not in its directory yet as a blank (`fresh`: every
   * one, as a rebuild or evacuation does), each file replaced whole by a rename.
   * @throws {LocalDiskError} a file system libvirt's driver does not make, or a tool missing.
   */
  async make(server: LocalDisksOf, fresh = false): Promise<void> {
    const dir = this.dir(server);
    await mkdir(dir, { recursive: true });
    const disks = server.local_disks ?? [];
    for (const d of disks) {
      const path = join(dir, d.file);
      if (!fresh && (await exists(path))) continue;
      const template = await this.template(d, disks.filter((x) => x.kind === 'ephemeral').indexOf(d), server.os_type);
      const tmp = `${path}.${randomBytes(4).toString('hex')}.part`;
      try {
        await copyFile(template, tmp, constants.COPYFILE_FICLONE);
        await fsyncFile(tmp);
        await rename(tmp, path);
        await fsyncDir(dir);
      } finally {
        await rm(tmp, { force: true });
      }
    }
  }

  /**
   * The server's local disk files made `after`'s (a resize, or its revert): swap made again (its
   * size follows the flavor), the files `after` does not name removed, the others kept or made.
   */
  async replace(server: LocalDisksOf, after: readonly LocalDisk[]): Promise<void> {
    const dir = this.dir(server);
    await rm(join(dir, 'disk.swap'), { force: true });
    const kept = new Set(after.map((d) => d.file));
    for (const d of server.local_disks ?? []) if (!kept.has(d.file)) await rm(join(dir, d.file), { force: true });
    await this.make({ ...server, local_disks: after });
  }

  private dir(server: LocalDisksOf): string {
    return join(this.options.stateDir, server.uuid);
  }

  /** The file system an ephemeral disk gets (Nova's `configurable_mkfs`: the mapping's, the host's default, then by `os_type`). */
  fileSystem(disk: LocalDisk, osType: string | null | undefined): string {
    if (disk.guest_format !== null) {
      if (!SUPPORTED.has(disk.guest_format)) throw new LocalDiskError(`Block Device Mapping is Invalid: ${disk.guest_format} format is not supported`);
      return disk.guest_format;
    }
    if (this.options.defaultEphemeralFormat !== '') return this.options.defaultEphemeralFormat;
    return osType === 'linux' ? 'ext4' : osType === 'windows' ? 'ntfs' : 'vfat';
  }

  private async template(disk: LocalDisk, index: number, osType: string | null | undefined): Promise<string> {
    const fs = disk.kind === 'swap' ? 'swap' : this.fileSystem(disk, osType);
    const label = `ephemeral${index}`;
    const name = disk.kind === 'swap' ? `swap_${disk.size}` : `ephemeral_${disk.size}_${fs}${index === 0 ? '' : `_${index}`}`;
    const path = join(this.options.stateDir, '_base', `${name}.qcow2`);
    let made = this.making.get(path);
    if (made === undefined) {
      made = this.makeTemplate(path, disk, fs, label).finally(() => this.making.delete(path));
      this.making.set(path, made);
    }
    return made;
  }

  private async makeTemplate(path: string, disk: LocalDisk, fs: string, label: string): Promise<string> {
    if (await exists(path)) return path;
    await mkdir(join(this.options.stateDir, '_base'), { recursive: true });
    const suffix = randomBytes(4).toString('hex');
    const raw = `${path}.${suffix}.raw`;
    const qcow2 = `${path}.${suffix}.part`;
    try {
      await this.qemu(['create', '-f', 'raw', raw, disk.kind === 'swap' ? `${disk.size}M` : `${disk.size}G`]);
      if (disk.kind === 'swap') await run(await sbin('mkswap'), [raw]);
      else await run(await sbin('mkfs'), ['-t', fs, ...(fs === 'ext3' || fs === 'ext4' || fs === 'ntfs' ? ['-F'] : []), ...(fs === 'vfat' || fs === 'msdos' ? ['-n', label] : ['-L', label]), raw]);
      await this.qemu(['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
      await fsyncFile(qcow2);
      await rename(qcow2, path);
      await fsyncDir(join(this.options.stateDir, '_base'));
      return path;
    } finally {
      await rm(raw, { force: true });
      await rm(qcow2, { force: true });
    }
  }

  private async qemu(args: readonly string[]): Promise<void> {
    try {
      await run(this.qemuImg, args);
    } catch (err) {
      if ((err as Error & { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') throw new LocalDiskError('ephemeral and swap disks need qemu-img (Debian qemu-utils), which is not installed', { cause: err });
      throw err;
    }
  }
}
