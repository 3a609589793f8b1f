import { mkdir } from 'node:fs/promises';
import { claimDirectory, type DirectoryClaim, DirectoryClaimedError } from '../../common/claim-directory.ts';
import { ConfigError } from '../../common/errors.ts';

/**
 * Makes this process the one volume service of `dir` on this host, or refuses: the driver's
 * sweep at start removes partial files and ends qemu-nbd exports it finds there, which is only
 * safe when no other live process can own them. The hold is `claimDirectory`'s (freed however
 * the process ends; its reach is this host's network namespace).
 *
 * @throws {ConfigError} another process holds the directory
 */
export async function holdVolumesDir(dir: string): Promise<DirectoryClaim> {
  await mkdir(dir, { recursive: true });
  try {
    return await claimDirectory(dir);
  } catch (err) {
    if (!(err instanceof DirectoryClaimedError)) throw err;
    const holder = err.pid === undefined ? 'another process' : `pid ${err.pid}`;
    throw new ConfigError('volume.volumes_dir', dir, `in use by ${holder} on this host (one volume service per volume directory)`, { cause: err });
  }
}
