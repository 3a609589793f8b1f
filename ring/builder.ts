import type { Clock } from '../common/clock.ts';
import { checkWeight, type Device, type DeviceSpec, RingError } from './device.ts';
import { dispersionReport } from './dispersion.ts';
import type { BuilderData, RingData } from './io.ts';
import { rebalance } from './rebalance.ts';
import { partitionTargets, requiredOverload } from './targets.ts';

export interface BuilderParams {
  partPower: number;
  replicas: number;
  minPartHours: number;
  overload?: number;
}

export interface RebalanceReport {
  /** Replica assignments that changed device. */
  readonly moved: number;
  /** Percent by which the device furthest from its weighted share misses it. */
  readonly balance: number;
  /** Percent of partitions not spread as widely as the tiers allow. */
  readonly dispersion: number;
  readonly version: number;
  /** Devices taken out of the ring by this rebalance. */
  readonly removed: readonly Device[];
  readonly seed: number;
}

const MAX_DEVICE_ID = 0xfffe; // 0xffff marks "no device" in the table

/**
 * The offline ring builder (swift-ring-builder's model): the operator adds, removes and
 * reweights devices, then `rebalance()` assigns partitions and `ringData()` is written out as
 * the ring file servers load. Time comes from the injected clock (min_part_hours).
 */
export class RingBuilder {
  private readonly clock: Clock;
  private partPowerValue: number;
  private replicasValue: number;
  private minPartHoursValue: number;
  private overloadValue: number;
  private versionValue: number;
  private devs: (Device | null)[];
  private removing: number[];
  private lastPartMovesEpoch: number;
  private lastPartMoves: Uint8Array;
  private table: Uint16Array[] | null;

  private constructor(data: BuilderData, clock: Clock) {
    this.clock = clock;
    this.partPowerValue = data.partPower;
    this.replicasValue = data.replicas;
    this.minPartHoursValue = data.minPartHours;
    this.overloadValue = data.overload;
    this.versionValue = data.version;
    this.devs = [...data.devices];
    this.removing = [...data.removing];
    this.lastPartMovesEpoch = data.lastPartMovesEpoch;
    this.lastPartMoves = Uint8Array.from(data.lastPartMoves);
    this.table = data.replica2part2dev ? data.replica2part2dev.map((row) => Uint16Array.from(row)) : null;
  }

  /** A new, empty builder. @throws {RingError} for out-of-range parameters. */
  static create(params: BuilderParams, clock: Clock): RingBuilder {
    const { partPower, replicas, minPartHours, overload = 0 } = params;
    if (!Number.isInteger(partPower) || partPower < 0 || partPower > 23) throw new RingError('RING_BUILDER', `part_power ${partPower}: must be an integer from 0 to 23`);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new RingError('RING_BUILDER', `replicas ${replicas}: must be an integer from 1 to 16`);
    checkMinPartHours(minPartHours);
    checkOverload(overload);
    return new RingBuilder(
      {
        version: 0,
        partPower,
        replicas,
        minPartHours,
        overload,
        devices: [],
        removing: [],
        lastPartMovesEpoch: Math.floor(clock.now() / 1000),
        lastPartMoves: new Uint8Array(2 ** partPower).fill(0xff),
        replica2part2dev: null,
      },
      clock,
    );
  }

  static fromData(data: BuilderData, clock: Clock): RingBuilder {
    return new RingBuilder(data, clock);
  }

  get partPower(): number {
    return this.partPowerValue;
  }
  get replicas(): number {
    return this.replicasValue;
  }
  get partitions(): number {
    return 2 ** this.partPowerValue;
  }
  get minPartHours(): number {
    return this.minPartHoursValue;
  }
  get overload(): number {
    return this.overloadValue;
  }
  get version(): number {
    return this.versionValue;
  }
  /** Devices in the builder, by id order (including those pending removal). */
  get devices(): Device[] {
    return this.devs.filter((d): d is Device => d !== null);
  }
  /** Ids marked for removal at the next rebalance. */
  get pendingRemoval(): readonly number[] {
    return this.removing;
  }
  get isBuilt(): boolean {
    return this.table !== null;
  }

  /** Adds a device; its id is the lowest free one unless the spec names one. */
  addDevice(spec: DeviceSpec): Device {
    const { region, zone, ip, port, device, weight } = spec;
    if (!Number.isInteger(region) || region < 0) throw new RingError('RING_BUILDER', `region ${region}: must be a non-negative integer`);
    if (!Number.isInteger(zone) || zone < 0) throw new RingError('RING_BUILDER', `zone ${zone}: must be a non-negative integer`);
    if (ip === '') throw new RingError('RING_BUILDER', 'ip must not be empty');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RingError('RING_BUILDER', `port ${port}: must be 1-65535`);
    if (device === '' || device.includes('/')) throw new RingError('RING_BUILDER', `device name ${JSON.stringify(device)}: must be non-empty without "/"`);
    checkWeight(weight);
    const clash = this.devices.find((d) => d.ip === ip && d.port === port && d.device === device);
    if (clash) throw new RingError('RING_BUILDER', `device ${ip}:${port}/${device} already exists as d${clash.id}`);
    let id = spec.id;
    if (id === undefined) {
      const hole = this.devs.indexOf(null);
      id = hole === -1 ? this.devs.length : hole;
    } else if (this.devs[id]) {
      throw new RingError('RING_BUILDER', `device id ${id} is already in use`);
    }
    if (!Number.isInteger(id) || id < 0 || id > MAX_DEVICE_ID) throw new RingError('RING_BUILDER', `device id ${id}: must be 0-${MAX_DEVICE_ID}`);
    const dev: Device = {
      id,
      region,
      zone,
      ip,
      port,
      replication_ip: spec.replication_ip ?? ip,
      replication_port: spec.replication_port ?? port,
      device,
      weight,
      meta: spec.meta ?? '',
    };
    while (this.devs.length < id) this.devs.push(null);
    this.devs[id] = dev;
    return dev;
  }

  /** Marks a device for removal: the next rebalance moves all its partitions and drops it. */
  removeDevice(id: number): Device {
    const dev = this.device(id);
    if (!this.removing.includes(id)) this.removing.push(id);
    return dev;
  }

  setWeight(id: number, weight: number): Device {
    const dev = { ...this.device(id), weight: checkWeight(weight) };
    this.devs[id] = dev;
    return dev;
  }

  setOverload(overload: number): void {
    this.overloadValue = checkOverload(overload);
  }

  setMinPartHours(hours: number): void {
    this.minPartHoursValue = checkMinPartHours(hours);
  }

  /** Lets every partition move again at the next rebalance (swift-ring-builder's command). */
  pretendMinPartHoursPassed(): void {
    this.lastPartMoves.fill(0xff);
  }

  /** Seconds until every partition may move again. */
  minPartSecondsLeft(): number {
    if (!this.isBuilt) return 0;
    let youngest = 0xff;
    for (const hours of this.lastPartMoves) if (hours < youngest) youngest = hours;
    const sinceEpoch = Math.floor(this.clock.now() / 1000) - this.lastPartMovesEpoch;
    return Math.max(0, this.minPartHoursValue * 3600 - (youngest * 3600 + sinceEpoch));
  }

  device(id: number): Device {
    const dev = this.devs[id];
    if (!dev) throw new RingError('RING_BUILDER', `no device with id ${id}`);
    return dev;
  }

  /**
   * Assigns partitions to devices (see `rebalance.ts` for how), removes devices pending
   * removal, and bumps the version.
   */
  rebalance(options: { seed?: number } = {}): RebalanceReport {
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.ageLastPartMoves();
    const devices = this.devs.map((d) => (d && !this.removing.includes(d.id) ? d : null));
    const outcome = rebalance({
      partPower: this.partPowerValue,
      replicas: this.replicasValue,
      minPartHours: this.minPartHoursValue,
      overload: this.overloadValue,
      devices,
      replica2part2dev: this.table,
      lastPartMoves: this.lastPartMoves,
      seed,
    });
    this.table = outcome.replica2part2dev;
    this.lastPartMoves = outcome.lastPartMoves;
    const removed = this.removing.map((id) => this.devs[id]).filter((d): d is Device => !!d);
    for (const id of this.removing) this.devs[id] = null;
    while (this.devs.length > 0 && this.devs[this.devs.length - 1] === null) this.devs.pop();
    this.removing = [];
    this.versionValue += 1;
    return {
      moved: outcome.moved,
      balance: this.balance(),
      dispersion: this.dispersion().percent,
      version: this.versionValue,
      removed,
      seed,
    };
  }

  /** Replica assignments per device id. */
  partCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const d of this.devices) counts.set(d.id, 0);
    for (const row of this.table ?? []) {
      for (const id of row) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Per device: how far (in percent) its partition count is from its weighted share;
   * 999.99 for a device with parts but no weight, as swift-ring-builder shows it.
   */
  deviceBalances(): Map<number, number> {
    const counts = this.partCounts();
    const targets = partitionTargets(this.devs, this.partitions, this.replicasValue);
    const out = new Map<number, number>();
    for (const d of this.devices) {
      const count = counts.get(d.id) ?? 0;
      const exact = targets.get(d.id)?.exact ?? 0;
      out.set(d.id, exact > 0 ? ((count - exact) / exact) * 100 : count > 0 ? 999.99 : 0);
    }
    return out;
  }

  /** The largest device balance, in absolute percent. */
  balance(): number {
    let worst = 0;
    for (const b of this.deviceBalances().values()) worst = Math.max(worst, Math.abs(b));
    return worst;
  }

  /** The overload that would let every partition spread as widely as the tiers allow. */
  requiredOverload(): number {
    return requiredOverload(this.devs.map((d) => (d && !this.removing.includes(d.id) ? d : null)), this.partitions, this.replicasValue);
  }

  dispersion(): ReturnType<typeof dispersionReport> {
    if (!this.table) return { percent: 0, badParts: 0, tiers: [] };
    return dispersionReport(this.devs, this.table, this.replicasValue);
  }

  /** The ring servers load. @throws {RingError} before the first rebalance. */
  ringData(): RingData {
    if (!this.table) throw new RingError('RING_NOT_BUILT', 'the builder has never been rebalanced: run "swiftlet ring rebalance" first');
    return {
      version: this.versionValue,
      partPower: this.partPowerValue,
      replicas: this.replicasValue,
      devices: [...this.devs],
      replica2part2dev: this.table,
    };
  }

  toData(): BuilderData {
    return {
      version: this.versionValue,
      partPower: this.partPowerValue,
      replicas: this.replicasValue,
      minPartHours: this.minPartHoursValue,
      overload: this.overloadValue,
      devices: [...this.devs],
      removing: [...this.removing],
      lastPartMovesEpoch: this.lastPartMovesEpoch,
      lastPartMoves: this.lastPartMoves,
      replica2part2dev: this.table,
    };
  }

  /** Adds whole hours passed since the epoch to every partition's age (kept below 256). */
  private ageLastPartMoves(): void {
    const now = Math.floor(this.clock.now() / 1000);
    const hours = Math.floor((now - this.lastPartMovesEpoch) / 3600);
    if (hours <= 0) return;
    for (let p = 0; p < this.lastPartMoves.length; p++) this.lastPartMoves[p] = Math.min(0xff, (this.lastPartMoves[p] as number) + hours);
    // Keep the part of an hour not yet counted.
    this.lastPartMovesEpoch += hours * 3600;
  }
}

function checkMinPartHours(hours: number): number {
  if (!Number.isInteger(hours) || hours < 0 || hours > 255) throw new RingError('RING_BUILDER', `min_part_hours ${hours}: must be an integer from 0 to 255`);
  return hours;
}

function checkOverload(overload: number): number {
  if (!Number.isFinite(overload) || overload < 0) throw new RingError('RING_BUILDER', `overload ${overload}: must be a number >= 0`);
  return overload;
}
