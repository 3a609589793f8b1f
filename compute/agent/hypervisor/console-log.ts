import { open } from 'node:fs/promises';
import { CONSOLE_MAX_BYTES } from './types.ts';

async function lastBytes(path: string, max: number): Promise<Buffer | undefined> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await file.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await file.read(buffer, done, length - done, size - length + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await file.close();
  }
}

/**
 * The end of a console log, oldest first, at most `max` bytes: the log itself, then its
 * rotated predecessors `<path>.0`, `<path>.1`, ... while room is left (as Nova's
 * `_get_console_output_file` reads virtlogd's rotations). A log not written yet is empty.
 */
export async function readConsoleTail(path: string, max = CONSOLE_MAX_BYTES): Promise<Buffer> {
  const parts: Buffer[] = [];
  let left = max;
  for (let i = -1; left > 0; i++) {
    const part = await lastBytes(i < 0 ? path : `${path}.${i}`, left);
    if (part === undefined) break;
    parts.unshift(part);
    left -= part.length;
  }
  return Buffer.concat(parts);
}
