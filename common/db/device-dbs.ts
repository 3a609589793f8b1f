import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { DeviceChecker } from '../drive.ts';
import { SwiftError } from '../errors.ts';

/** Where the databases live and how to open one. */
export interface DeviceDbsOptions<T> {
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  /** Swift's datadir: `containers` or `accounts`. */
  readonly datadir: string;
  /** Opens the database kept at `<devices>/<device>/<datadir>`. */
  readonly open: (path: string) => Promise<T>;
  readonly clock: Clock;
  /** How long a passed device check is trusted, in ms (default 1000; 0 checks every time). */
  readonly recheckMs?: number;
}

/** The databases were closed (the server is shutting down). */
export class DatabasesClosedError extends SwiftError {
  constructor() {
    super('DB_CLOSED', 'the databases are closed');
  }
}

/**
 * One database per device per server type, opened on first use and kept open until `close()`.
 * Lookups check the device first (Swift's `check_drive`), so a missing or unmounted device is
 * refused (507) even when its database is already open (a passed check is trusted for
 * `recheckMs`: see `DeviceChecker`).
 */
export class DeviceDbs<T extends { close(): Promise<void> }> {
  private readonly options: DeviceDbsOptions<T>;
  private readonly opened = new Map<string, Promise<T>>();
  private readonly checker: DeviceChecker;
  private closed = false;

  constructor(options: DeviceDbsOptions<T>) {
    this.options = options;
    this.checker = new DeviceChecker(options);
  }

  /**
   * The database of `device`.
   * @throws {DeviceUnavailableError} when the device is missing or not mounted.
   * @throws {DatabasesClosedError} after `close()`.
   */
  async get(device: string): Promise<T> {
    await this.checker.path(device);
    if (this.closed) throw new DatabasesClosedError();
    let db = this.opened.get(device);
    if (!db) {
      db = this.options.open(join(this.options.devices, device, this.options.datadir));
      this.opened.set(device, db);
      // A failed open is not cached: the next request tries again.
      db.catch(() => this.opened.delete(device));
    }
    return db;
  }

  /** Devices whose database is open (for daemons that walk every database). */
  openDevices(): string[] {
    return [...this.opened.keys()];
  }

  /** Closes every database; later lookups fail. */
  async close(): Promise<void> {
    this.closed = true;
    const dbs = [...this.opened.values()];
    this.opened.clear();
    await Promise.all(dbs.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}
