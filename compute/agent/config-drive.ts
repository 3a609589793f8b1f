import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir, fsyncFile } from '../../common/atomic-write.ts';
import { runTool } from './run-tool.ts';

/** The file a server's config drive is, in its instance directory (Nova's name). */
export const CONFIG_DRIVE_FILE = 'disk.config';

/** A config drive the host could not make: the tool missing, or its failure. */
export class ConfigDriveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigDriveError';
  }
}

/**
 * Writes `files` as a config drive at `path`, as Nova's `ConfigDriveBuilder` makes its default
 * `iso9660` one: the files in a scratch directory, then `genisoimage` with Nova's arguments
 * (Rock Ridge and Joliet names, volume label `config-2`, which cloud-init looks for). The image
 * is written beside `path`, synced, and renamed over it, so a crash leaves the old drive or the
 * new one. @throws {ConfigDriveError}
 */
export async function makeConfigDrive(path: string, files: ReadonlyArray<readonly [string, Buffer]>, mkisofs = 'genisoimage'): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const scratch = await mkdtemp(join(dir, '.config-drive-'));
  const part = `${path}.${randomBytes(4).toString('hex')}.part`;
  try {
    for (const [name, data] of files) {
      const file = join(scratch, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
    }
    const publisher = 'OpenStack Compute swiftlet';
    await run(mkisofs, ['-o', part, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', publisher, '-quiet', '-J', '-r', '-V', 'config-2', scratch]);
    await fsyncFile(part);
    await rename(part, path);
    await fsyncDir(dir);
  } finally {
    await rm(part, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return runTool(command, args, (err, stderr) =>
    err.code === 'ENOENT' ? new ConfigDriveError(`config drives need ${command} (Debian genisoimage), which is not installed`, { cause: err }) : new ConfigDriveError(`${command}: ${stderr || err.message}`, { cause: err }),
  );
}
