import { open } from 'node:fs/promises';

/** A disk file's format by its header (qcow2's `QFI\xfb` magic), for a domain defined again without its old XML. */
export async function diskFormatOf(path: string): Promise<'qcow2' | 'raw'> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!file) return 'raw';
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32BE(0) === 0x514649fb ? 'qcow2' : 'raw';
  } finally {
    await file.close();
  }
}
