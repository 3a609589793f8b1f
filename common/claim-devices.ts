import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { claimDirectory, type DirectoryClaim, DirectoryClaimedError } from './claim-directory.ts';
import { SwiftError } from './errors.ts';

/** The pid file versions before the socket claim kept in a devices root: removed once claimed. */
export const OLD_DEVICES_PID_FILE = '.swiftlet-storage.pid';

/** Another live process serves these devices. */
export class DevicesInUseError extends SwiftError {
  /** The holder's pid, when it told it (see `claimDirectory`). */
  readonly pid: number | undefined;

  constructor(devices: string, pid: number | undefined, options?: { cause?: unknown }) {
    const holder = pid === undefined ? 'another process' : pid === process.pid ? `another node of this process (pid ${pid})` : `pid ${pid}`;
    super('DEVICES_IN_USE', `devices ${devices} in use by ${holder}; stop it first, or give this node its own devices`, options);
    this.pid = pid;
  }
}

/**
 * Claims a storage node's devices root for this process, before anything touches it: a second
 * process on the same devices would take the first one's temp files for a crash's, and fail on
 * every database the first holds open. The claim is `claimDirectory`'s (freed however the
 * process ends). A devices root that does not exist yet needs none: every request answers 507
 * until it does. The pid file an older version left is removed: this claim has replaced it.
 * @throws {DevicesInUseError} when another live process holds it.
 */
export async function claimDevices(devices: string): Promise<DirectoryClaim> {
  let claim: DirectoryClaim;
  try {
    claim = await claimDirectory(devices);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { release: async () => undefined };
    if (err instanceof DirectoryClaimedError) throw new DevicesInUseError(devices, err.pid, { cause: err });
    throw err;
  }
  await rm(join(devices, OLD_DEVICES_PID_FILE), { force: true });
  return claim;
}
