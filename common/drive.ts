import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from './clock.ts';
import { DeviceUnavailableError } from './errors.ts';

/**
 * Swift's `check_drive`: the path of `device` under the devices root, if it may be used. The
 * name must be a plain directory name; the directory must exist, and with `mountCheck` it must
 * be a mount point, so that an unmounted disk is never filled through its empty mount dir.
 * @throws {DeviceUnavailableError} otherwise; servers answer 507.
 */
export async function devicePath(devicesRoot: string, device: string, mountCheck: boolean): Promise<string> {
  if (device === '' || device === '.' || device === '..' || encodeURIComponent(device) !== device) {
    throw new DeviceUnavailableError(device, 'not a valid device name');
  }
  const path = join(devicesRoot, device);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new DeviceUnavailableError(device, `${path} is not a directory`);
  if (mountCheck && !(await isMount(path))) throw new DeviceUnavailableError(device, `${path} is not mounted`);
  return path;
}

/** A directory is a mount point when it sits on another device than its parent, or is the root. */
async function isMount(path: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(path), stat(dirname(path))]);
  return self.dev !== parent.dev || self.ino === parent.ino;
}

/**
 * `devicePath` for a server's hot path: a passed check is trusted for `recheckMs` (default
 * 1 s), because the `stat` behind it cost a quarter of the throughput of small requests; a
 * failed check is never trusted, so a device that comes back is used at once.
 */
export class DeviceChecker {
  private readonly options: { devices: string; mountCheck: boolean; clock: Clock; recheckMs?: number };
  private readonly checkedAt = new Map<string, number>();

  constructor(options: { devices: string; mountCheck: boolean; clock: Clock; recheckMs?: number }) {
    this.options = options;
  }

  /** The device's path. @throws {DeviceUnavailableError} */
  async path(device: string): Promise<string> {
    const now = this.options.clock.monotonic();
    const checked = this.checkedAt.get(device);
    if (checked !== undefined && now - checked < (this.options.recheckMs ?? 1000)) return join(this.options.devices, device);
    this.checkedAt.delete(device);
    const path = await devicePath(this.options.devices, device, this.options.mountCheck);
    this.checkedAt.set(device, now);
    return path;
  }
}
