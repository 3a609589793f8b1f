import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SwiftError } from './errors.ts';

/** The lock file in a devices root; hidden, so nothing that walks the root takes it for a device. */
export const DEVICES_LOCK = '.swiftlet-storage.pid';

/** Another live process serves these devices. */
export class DevicesInUseError extends SwiftError {
  readonly pid: number;

  constructor(devices: string, pid: number) {
    super('DEVICES_IN_USE', `devices ${devices} in use by pid ${pid} (${join(devices, DEVICES_LOCK)}); stop it first, or give this node its own devices`);
    this.pid = pid;
  }
}

export interface DevicesLock {
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

/**
 * Claims a storage node's devices root for this process, before anything touches it: a second
 * process on the same devices would take the first one's temp files for a crash's, and fail on
 * every database the first holds open. The claim is a pid file made with O_EXCL; one left by a
 * process that is gone (a crash, a kill -9) is taken over.
 * @throws {DevicesInUseError} when a live process holds it.
 */
export async function lockDevices(devices: string, pid = process.pid, alive: (pid: number) => boolean = swiftletAlive): Promise<DevicesLock> {
  const path = join(devices, DEVICES_LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${pid}\n`);
      await file.sync();
      await file.close();
      return {
        release: async () => {
          const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
          if (holder === pid) await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      // No devices root yet: nothing to share (every request answers 507 until it exists).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { release: async () => undefined };
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) throw new DevicesInUseError(devices, holder);
    // Left behind (or half-written by a process that died): take it over.
    await unlink(path).catch(() => undefined);
  }
}

/** A process is alive and (where /proc tells) a swiftlet one: a reused pid is not a claim. */
function swiftletAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('swiftlet');
  } catch {
    return true;
  }
}
