import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
