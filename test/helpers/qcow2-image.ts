import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.ts';

/** Runs `body` with a new empty qcow2 image of `size` bytes (by qemu-img) in a temporary directory, removed after. */
export async function withQcow2Image(size: number, body: (image: string, dir: string) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir('swiftlet-qcow2-');
  try {
    const image = join(tmp.path, 'vol.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, String(size)]);
    await body(image, tmp.path);
  } finally {
    await tmp.remove();
  }
}
