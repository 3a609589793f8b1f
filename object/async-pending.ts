import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { writeFileAtomic } from '../common/atomic-write.ts';
import { devicePath } from '../common/drive.ts';
import { policyString } from '../common/storage-policy.ts';

/**
 * A container update that could not be delivered when the object was written (Swift's
 * "async pending"): the object updater retries it until a container server takes it.
 */
export interface AsyncUpdate {
  readonly op: 'PUT' | 'DELETE';
  readonly account: string;
  readonly container: string;
  readonly obj: string;
  /** The headers the container server needs (`X-Timestamp`, `X-Size`, `X-Etag`, ...). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface AsyncPendingEntry {
  /** Opaque id to remove the entry once delivered. */
  readonly id: string;
  readonly update: AsyncUpdate;
}

/** Where async pendings are kept, per device; the fs store and its memory twin. */
export interface AsyncPendingStore {
  /** Saves an update durably. `hash` names the object, `timestamp` (internal) the write. */
  save(device: string, hash: string, timestamp: string, update: AsyncUpdate): Promise<void>;
  /** Every pending update of a device (oldest write last is fine; the updater sorts). */
  list(device: string): AsyncIterable<AsyncPendingEntry>;
  remove(device: string, id: string): Promise<void>;
  /** How many updates wait on a device (recon). */
  count(device: string): Promise<number>;
}

/**
 * Async pendings on disk as Swift keeps them: `<device>/async_pending/<suffix>/<hash>-<timestamp>`
 * (`async_pending-<N>` for storage policy N's objects, from the update's
 * `X-Backend-Storage-Policy-Index`), one msgpack file each, written with fsync and rename.
 */
export class FsAsyncPendingStore implements AsyncPendingStore {
  private readonly devices: string;
  private readonly mountCheck: boolean;

  constructor(options: { devices: string; mountCheck: boolean }) {
    this.devices = options.devices;
    this.mountCheck = options.mountCheck;
  }

  async save(device: string, hash: string, timestamp: string, update: AsyncUpdate): Promise<void> {
    const dir = join(await devicePath(this.devices, device, this.mountCheck), pendingDir(update), hash.slice(-3));
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, `${hash}-${timestamp}`), pack(update));
  }

  async *list(device: string): AsyncGenerator<AsyncPendingEntry> {
    const dev = await devicePath(this.devices, device, this.mountCheck);
    for (const root of await pendingRoots(dev)) {
      for (const suffix of await readdir(join(dev, root)).catch(() => [] as string[])) {
        for (const name of await readdir(join(dev, root, suffix)).catch(() => [] as string[])) {
          if (name.startsWith('.')) continue; // a temp file mid-write
          const id = `${root}/${suffix}/${name}`;
          const bytes = await readFile(join(dev, id)).catch(() => undefined);
          if (bytes) yield { id, update: unpack(bytes) as AsyncUpdate };
        }
      }
    }
  }

  async remove(device: string, id: string): Promise<void> {
    if (!/^async_pending(-\d+)?\/[0-9a-f]{3}\/[^/]+$/.test(id)) throw new TypeError(`not an async pending id: ${id}`);
    await unlink(join(await devicePath(this.devices, device, this.mountCheck), id)).catch(() => undefined);
  }

  async count(device: string): Promise<number> {
    const dev = await devicePath(this.devices, device, this.mountCheck);
    let n = 0;
    for (const root of await pendingRoots(dev)) {
      for (const suffix of await readdir(join(dev, root)).catch(() => [] as string[])) {
        n += (await readdir(join(dev, root, suffix)).catch(() => [] as string[])).filter((name) => !name.startsWith('.')).length;
      }
    }
    return n;
  }
}

/** The directory of an update's policy: `async_pending`, `async_pending-1`, ... */
function pendingDir(update: AsyncUpdate): string {
  const raw = update.headers['x-backend-storage-policy-index'];
  return policyString('async_pending', raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0);
}

/** Every policy's async-pending directory on a device. */
async function pendingRoots(devPath: string): Promise<string[]> {
  const names = await readdir(devPath).catch(() => [] as string[]);
  return names.filter((n) => /^async_pending(-\d+)?$/.test(n)).sort();
}

/** The in-memory twin. */
export class MemoryAsyncPendingStore implements AsyncPendingStore {
  readonly entries = new Map<string, Map<string, AsyncUpdate>>();

  async save(device: string, hash: string, timestamp: string, update: AsyncUpdate): Promise<void> {
    let forDevice = this.entries.get(device);
    if (!forDevice) this.entries.set(device, (forDevice = new Map()));
    forDevice.set(`${pendingDir(update)}/${hash.slice(-3)}/${hash}-${timestamp}`, update);
  }

  async *list(device: string): AsyncGenerator<AsyncPendingEntry> {
    for (const [id, update] of this.entries.get(device) ?? []) yield { id, update };
  }

  async remove(device: string, id: string): Promise<void> {
    this.entries.get(device)?.delete(id);
  }

  async count(device: string): Promise<number> {
    return this.entries.get(device)?.size ?? 0;
  }
}
