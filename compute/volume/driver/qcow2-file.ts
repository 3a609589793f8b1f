import { checkVolumeWrite } from './check-volume-write.ts';
import { readVia } from './read-via.ts';
import { InvalidVolume } from '../errors.ts';
import { NbdClient } from './nbd-client.ts';
import { DirtySync } from './dirty-sync.ts';
import { listMarks } from './qcow2-bitmaps.ts';
import { startQemuNbd } from './qemu-nbd.ts';
import type { VolumeFile } from './types.ts';

/** Block status is asked for this much of the volume at a time (NBD lengths are 32-bit). */
const STATUS_WINDOW = 1024 * 1024 * 1024;
/** NBD_STATE_DIRTY: the bit a `qemu:dirty-bitmap:` context sets for a cluster written. */
const DIRTY = 1;

export interface Qcow2FileOptions {
  readonly path: string;
  /** Where qemu-nbd's socket goes (the volume directory). */
  readonly dir: string;
  readonly sizeBytes: number;
  readonly mode: 'r' | 'rw';
  readonly qemuNbd: string;
}

/**
 * A qcow2 volume opened for byte access through QEMU's own block layer: a `qemu-nbd` of the
 * image on a unix socket and an NBD client. QEMU reads through the backing snapshot, and a
 * write through it is recorded in the image's enabled dirty bitmaps (changed-block tracking),
 * as a guest's would be; a handle opened to read also offers those bitmaps (`changedSince`),
 * as libvirt's pull-mode backup does. (Before: a raw working copy by `qemu-img convert`, a copy
 * of the whole volume before the first byte, and a second one back after writes.)
 */
export async function openQcow2File(options: Qcow2FileOptions): Promise<VolumeFile> {
  const { sizeBytes, mode } = options;
  // Only a read-only export may offer bitmaps (QEMU refuses an enabled one on a writable export).
  const marks = mode === 'r' ? (await listMarks(options.path)).filter((b) => b.trusted) : [];
  const start = (bitmaps: readonly string[]) =>
    mode === 'r'
      ? startQemuNbd({ binary: options.qemuNbd, path: options.path, format: 'qcow2', readOnly: true, forceShare: true, bitmaps, dir: options.dir })
      : // A writer (a restore, a volume from an image) writes past the page cache where the file
        // system allows it, as the raw driver's restore does: through the cache, a restore of a
        // GiB ran at 66-95% of the cluster's GET, with O_DIRECT at 142-146% (docs/performance.md).
        startQemuNbd({ binary: options.qemuNbd, path: options.path, format: 'qcow2', readOnly: false, cache: 'none', dir: options.dir }).catch(() =>
          startQemuNbd({ binary: options.qemuNbd, path: options.path, format: 'qcow2', readOnly: false, dir: options.dir }),
        );
  let bitmaps = marks.map((b) => b.name);
  const server = await start(bitmaps).catch(async (err: unknown) => {
    if (bitmaps.length === 0) throw err;
    // A bitmap qemu-nbd will not export (changed under us): read without tracking.
    bitmaps = [];
    return await start([]);
  });
  let client: NbdClient;
  try {
    client = await NbdClient.connect(server.socket, { metaContexts: bitmaps.map((n) => `qemu:dirty-bitmap:${n}`) });
  } catch (err) {
    await server.stop();
    throw err;
  }
  let closed = false;
  const written = new DirtySync(() => client.flush());
  const check = (): void => {
    if (closed) throw new InvalidVolume('the volume file is closed');
  };
  const readInto = async (buffer: Uint8Array, position: number): Promise<number> => {
    check();
    const n = Math.max(0, Math.min(buffer.length, sizeBytes - position));
    if (n > 0) await client.readInto(buffer.subarray(0, n), position);
    return n;
  };
  return {
    sizeBytes,
    read: readVia(sizeBytes, readInto),
    readInto,
    async write(position, data) {
      check();
      checkVolumeWrite(mode, position, data.length, sizeBytes);
      written.mark();
      await client.write(position, data);
    },
    async changedSince(mark) {
      check();
      const name = marks.find((b) => b.mark === mark)?.name;
      const context = name !== undefined && bitmaps.includes(name) ? `qemu:dirty-bitmap:${name}` : undefined;
      if (context === undefined || !client.contexts.has(context)) return undefined;
      const ranges: Array<[number, number]> = [];
      for (let at = 0; at < sizeBytes; at += STATUS_WINDOW) {
        for (const extent of await client.blockStatus(context, at, Math.min(STATUS_WINDOW, sizeBytes - at))) {
          if ((extent.flags & DIRTY) === 0) continue;
          const end = Math.min(sizeBytes, extent.offset + extent.length);
          const last = ranges.at(-1);
          if (last && last[1] === extent.offset) last[1] = end;
          else ranges.push([extent.offset, end]);
        }
      }
      return ranges;
    },
    async sync() {
      check();
      await written.sync();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await written.sync();
      } finally {
        try {
          await client.close();
        } finally {
          // qemu-nbd stores the bitmaps back into the image as it exits (SIGTERM, waited for).
          await server.stop();
        }
      }
    },
  };
}
