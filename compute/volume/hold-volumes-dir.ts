import { mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ConfigError } from '../../common/errors.ts';

/** A volume directory held by this process until `release`. */
export interface VolumesDirHold {
  release(): Promise<void>;
}

/**
 * Makes this process the one volume service of `dir` on this host, or refuses: the driver's
 * sweep at start removes partial files and ends qemu-nbd exports it finds there, which is only
 * safe when no other live process can own them.
 *
 * The hold is an abstract unix socket (Linux) named for the directory's device and inode (so
 * two spellings of one directory collide). The kernel frees the name when the process exits,
 * however it dies, so a crash never leaves a stale hold (a lock file would, and then needs the
 * pid checks the sweep itself does). Its reach is this host's network namespace: a service in
 * another container sharing the directory is not seen.
 *
 * @throws {ConfigError} another process holds the directory
 */
export async function holdVolumesDir(dir: string): Promise<VolumesDirHold> {
  await mkdir(dir, { recursive: true });
  const { dev, ino } = await stat(dir);
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConfigError('volume.volumes_dir', dir, 'in use by another volume service on this host') : err),
    );
    server.listen({ path: `\0swiftlet-volumes-dir:${dev}:${ino}` }, resolve);
  });
  // Holding the name must not keep the process alive by itself.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
