import { statSync } from 'node:fs';
import type { Clock } from '../common/clock.ts';
import { type HashPath, uniformHash } from '../common/hash-path.ts';
import type { Device } from './device.ts';
import { type RingData, readRingFile } from './io.ts';

/** A primary device for a partition, with its replica index. */
export interface RingNode extends Device {
  readonly index: number;
}

export interface RingOptions {
  clock: Clock;
  /** How often to check the file's mtime for a newer ring (Swift's `reload_time`, 15 s). */
  reloadIntervalMs?: number;
}

/**
 * The runtime ring: read-only, loaded from a ring file, and reloaded when the file changes
 * (checked at most every `reloadIntervalMs`, on lookup). A bad new file is not loaded: the
 * ring keeps serving the last good one and reports the problem in `reloadError`.
 */
export class Ring {
  private data: RingData;
  private readonly hashPath: HashPath;
  private readonly path: string | undefined;
  private readonly clock: Clock | undefined;
  private readonly reloadIntervalMs: number;
  private mtimeMs: number;
  private nextCheck: number;
  private shift: bigint;
  private liveDevices: Device[];
  /** The error of the last failed reload, cleared by a good one. */
  reloadError: Error | undefined;

  private constructor(data: RingData, hashPath: HashPath, path?: string, options?: RingOptions, mtimeMs = 0) {
    this.hashPath = hashPath;
    this.path = path;
    this.clock = options?.clock;
    this.reloadIntervalMs = options?.reloadIntervalMs ?? 15_000;
    this.mtimeMs = mtimeMs;
    this.nextCheck = (this.clock?.monotonic() ?? 0) + this.reloadIntervalMs;
    this.data = data;
    this.shift = BigInt(64 - data.partPower);
    this.liveDevices = data.devices.filter((d): d is Device => d !== null);
  }

  /** Loads a ring file. @throws {RingError} when it is missing, corrupt or foreign. */
  static load(path: string, hashPath: HashPath, options: RingOptions): Ring {
    const mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    return new Ring(readRingFile(path), hashPath, path, options, mtimeMs);
  }

  /** A ring over data in memory (never reloads). */
  static fromData(data: RingData, hashPath: HashPath): Ring {
    return new Ring(data, hashPath);
  }

  get partPower(): number {
    return this.data.partPower;
  }
  get replicas(): number {
    return this.data.replicas;
  }
  get partitions(): number {
    return 2 ** this.data.partPower;
  }
  get version(): number {
    return this.data.version;
  }
  /** Devices in the ring (not the removed ids). */
  get devices(): readonly Device[] {
    this.maybeReload();
    return this.liveDevices;
  }

  /** The partition of a name: the top `partPower` bits of its salted 64-bit hash. */
  getPart(account: string, container?: string, object?: string): number {
    this.maybeReload();
    return Number(this.hashPath.placementKey(account, container, object) >> this.shift);
  }

  /** The primary devices of a partition, each device once, with its replica index. */
  getPartNodes(partition: number): RingNode[] {
    this.maybeReload();
    const nodes: RingNode[] = [];
    const seen = new Set<number>();
    this.data.replica2part2dev.forEach((row, index) => {
      const id = row[partition];
      if (id === undefined || seen.has(id)) return;
      const dev = this.data.devices[id];
      if (!dev) return;
      seen.add(id);
      nodes.push({ ...dev, index });
    });
    return nodes;
  }

  /** The partition of a name and its primary devices. */
  getNodes(account: string, container?: string, object?: string): { partition: number; nodes: RingNode[] } {
    const partition = this.getPart(account, container, object);
    return { partition, nodes: this.getPartNodes(partition) };
  }

  /**
   * Handoff devices for a partition, best first, never a primary: first devices in regions the
   * primaries (and earlier handoffs) do not use, then in unused zones, then on unused servers,
   * then the rest. Within each group the order is a weighted, per-partition shuffle, the same
   * on every node, so proxies and replicators agree on where handoffs are.
   */
  *moreNodes(partition: number): Generator<Device> {
    const primaries = this.getPartNodes(partition);
    const used = new Set(primaries.map((d) => d.id));
    const regions = new Set(primaries.map((d) => d.region));
    const zones = new Set(primaries.map((d) => `${d.region}/${d.zone}`));
    const servers = new Set(primaries.map((d) => `${d.ip}:${d.port}`));
    const candidates = this.liveDevices
      .filter((d) => d.weight > 0 && !used.has(d.id))
      .map((d) => ({ d, key: -Math.log(uniformHash(`${partition}/${d.id}`)) / d.weight }))
      .sort((a, b) => a.key - b.key)
      .map((c) => c.d);
    const tests: ((d: Device) => boolean)[] = [
      (d) => !regions.has(d.region),
      (d) => !zones.has(`${d.region}/${d.zone}`),
      (d) => !servers.has(`${d.ip}:${d.port}`),
      () => true,
    ];
    for (const fresh of tests) {
      for (const d of candidates) {
        if (used.has(d.id) || !fresh(d)) continue;
        used.add(d.id);
        regions.add(d.region);
        zones.add(`${d.region}/${d.zone}`);
        servers.add(`${d.ip}:${d.port}`);
        yield d;
      }
    }
  }

  private maybeReload(): void {
    if (!this.path || !this.clock) return;
    const now = this.clock.monotonic();
    if (now < this.nextCheck) return;
    this.nextCheck = now + this.reloadIntervalMs;
    const mtimeMs = statSync(this.path, { throwIfNoEntry: false })?.mtimeMs;
    if (mtimeMs === undefined || mtimeMs === this.mtimeMs) return;
    try {
      const data = readRingFile(this.path);
      this.data = data;
      this.shift = BigInt(64 - data.partPower);
      this.liveDevices = data.devices.filter((d): d is Device => d !== null);
      this.mtimeMs = mtimeMs;
      this.reloadError = undefined;
    } catch (err) {
      this.reloadError = err as Error;
    }
  }
}
