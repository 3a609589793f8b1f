import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Datadir } from '../common/db/datadir.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import { devicePath } from '../common/drive.ts';
import type { Logger } from '../common/logger.ts';
import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';

/** One database on one of this node's devices, as a daemon walks them. */
export interface LocalDb<D> {
  readonly device: string;
  readonly datadir: D;
  readonly partition: number;
  readonly hash: string;
}

/** Where a node keeps one kind of database. */
export interface LocalDbsSource<D extends { close(): Promise<void> }> {
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  /** Swift's datadir name: `containers` or `accounts`. */
  readonly datadirName: string;
  /** The node's open databases, shared with its servers. */
  readonly dbs: DeviceDbs<D>;
  readonly logger: Logger;
}

/**
 * The devices under the devices root (or those of `only`) that pass the device check (Swift's
 * `check_drive`) and hold a datadir of this kind (its directory, or its database already open),
 * sorted. A device that fails the check is logged and skipped, as Swift's daemons do; a
 * datadir is never created by walking it.
 */
export async function devicesWithDatadir<D extends { close(): Promise<void> }>(source: LocalDbsSource<D>, only?: readonly string[]): Promise<string[]> {
  // Hidden entries of the root (the devices lock) are not devices.
  const names = only ?? (await readdir(source.devices).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  const open = new Set(source.dbs.openDevices());
  const out: string[] = [];
  for (const name of [...new Set(names)].sort()) {
    try {
      const path = await devicePath(source.devices, name, source.mountCheck);
      if (open.has(name) || (await stat(join(path, source.datadirName)).catch(() => undefined))?.isDirectory()) out.push(name);
    } catch (err) {
      source.logger.warn('skipping device', { device: name, err });
    }
  }
  return out;
}

/**
 * Every database of the given devices, taking one from each device in turn (Swift's
 * `roundrobin_datadirs`), so a pass spreads its reads over the disks. Within a device,
 * databases come by partition, then hash.
 */
export async function* localDbs<D extends Datadir<unknown>>(source: LocalDbsSource<D>, devices: readonly string[]): AsyncGenerator<LocalDb<D>> {
  const walks: { device: string; datadir: D; it: AsyncGenerator<{ partition: number; hash: string }> }[] = [];
  try {
    for (const device of devices) {
      try {
        const datadir = await source.dbs.get(device);
        walks.push({ device, datadir, it: datadir.entries() });
      } catch (err) {
        source.logger.warn('skipping device', { device, err });
      }
    }
    while (walks.length > 0) {
      for (let i = 0; i < walks.length; ) {
        const walk = walks[i] as (typeof walks)[number];
        const next = await walk.it.next();
        if (next.done) {
          walks.splice(i, 1);
          continue;
        }
        yield { device: walk.device, datadir: walk.datadir, partition: next.value.partition, hash: next.value.hash };
        i += 1;
      }
    }
  } finally {
    await Promise.all(walks.map((w) => w.it.return(undefined)));
  }
}

/** This node's device named `device` in a ring: same ip, this node's port for the ring's server type. */
export function ringDevice(ring: Ring, local: { readonly bindIp: string; readonly port: number }, device: string): Device | undefined {
  return ring.devices.find((d) => d.ip === local.bindIp && d.port === local.port && d.device === device);
}
