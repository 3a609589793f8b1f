import { execFile } from 'node:child_process';
import { InvalidVolume } from '../errors.ts';

/**
 * Runs `qemu-img` (Debian qemu-utils) with `args`. @throws {InvalidVolume} when it is not
 * installed (a qcow2 volume needs it) or fails, with its own words.
 */
export function qemuImg(binary: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new InvalidVolume(`qcow2 volumes need ${binary} (Debian qemu-utils), which is not installed`));
      else reject(new InvalidVolume(`${binary} ${args[0]}: ${String(stderr).trim() || err.message}`));
    });
  });
}
