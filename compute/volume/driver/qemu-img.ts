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

/** `qemu-img info --output=json` of a file, as qemu-img prints it. @throws {InvalidVolume} as `qemuImg` */
export function qemuImgInfo(binary: string, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['info', '--output=json', path], { maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new InvalidVolume(`${binary} (Debian qemu-utils) is not installed`));
        else reject(new InvalidVolume(`${binary} info: ${String(stderr).trim() || err.message}`));
        return;
      }
      try {
        resolve(JSON.parse(String(stdout)) as Record<string, unknown>);
      } catch {
        reject(new InvalidVolume(`${binary} info: not JSON`));
      }
    });
  });
}
