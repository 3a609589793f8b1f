import type { Clock } from '../../../common/clock.ts';
import { KeyedLock } from '../../../common/keyed-lock.ts';
import { readConsoleTail } from './console-log.ts';
import { extractDisk } from './disk-image.ts';
import { describeDomain } from './domain-description.ts';
import { diskAt, withDisk, withoutDisk } from './domain-disks.ts';
import { nicAt, withNic, withoutNic } from './domain-nics.ts';
import type { DiskSpec, NicSpec } from './domain-xml.ts';
import { ConsoleNotAvailable, DeviceDetachFailed, DomainExists, DomainNotFound, DomainStateError, NotSupportedByDriver, SnapshotFailed } from './errors.ts';
import type {
  DomainInfo,
  HostResources,
  Hypervisor,
  HypervisorSupports,
  PowerState,
  RebootType,
  SnapshotImage,
  SnapshotOptions,
  StopOptions,
  StopResult,
} from './types.ts';

/** Nova's `[libvirt] wait_soft_reboot_seconds`: how long a soft reboot waits for the guest. */
export const SOFT_REBOOT_TIMEOUT_MS = 120_000;

export interface DriverBaseOptions {
  readonly clock: Clock;
  /** How often a clean shutdown's (or a disk detach's) progress is looked at (Nova polls a shutdown every second). */
  readonly shutdownPollMs?: number;
  /** The `qemu-img` command snapshots run. */
  readonly qemuImg?: string;
  /** How many times a disk is asked out of a running guest (Nova's `[libvirt] device_detach_attempts`, 8). */
  readonly detachAttempts?: number;
  /** How long each ask waits for the guest to let the disk go (Nova's `device_detach_timeout`, 20 s). */
  readonly detachTimeoutMs?: number;
}

const OFF: ReadonlySet<PowerState> = new Set(['shutdown', 'crashed']);
const ON: ReadonlySet<PowerState> = new Set(['running', 'paused']);

/**
 * The public half of every driver (abstract-level's split): the state checks, the policies
 * Nova's driver applies (a clean shutdown before a power-off, a soft reboot falling back to
 * a hard one, a guest saved while its disk is copied) and one operation at a time per domain.
 * A driver supplies only the raw operations below, each called in a state it allows.
 */
export abstract class HypervisorDriverBase implements Hypervisor {
  abstract readonly supports: HypervisorSupports;
  protected readonly clock: Clock;
  private readonly pollMs: number;
  private readonly qemuImg: string;
  private readonly detachAttempts: number;
  private readonly detachTimeoutMs: number;
  private readonly lock = new KeyedLock();

  constructor(options: DriverBaseOptions) {
    this.clock = options.clock;
    this.pollMs = options.shutdownPollMs ?? 1000;
    this.qemuImg = options.qemuImg ?? 'qemu-img';
    this.detachAttempts = options.detachAttempts ?? 8;
    this.detachTimeoutMs = options.detachTimeoutMs ?? 20_000;
  }

  /** The domain's UUID, or undefined when there is no such domain. */
  protected abstract findUuid(name: string): Promise<string | undefined>;
  /** @throws {InvalidDomainXml} when the hypervisor refuses it. */
  protected abstract rawDefine(xml: string): Promise<void>;
  /** @throws {DomainNotFound} */
  protected abstract rawState(name: string): Promise<PowerState>;
  protected abstract rawStart(name: string): Promise<void>;
  /** Asks the guest to shut down (ACPI); it may take its time or ignore it. */
  protected abstract rawRequestShutdown(name: string): Promise<void>;
  protected abstract rawDestroy(name: string): Promise<void>;
  protected abstract rawPause(name: string): Promise<void>;
  protected abstract rawUnpause(name: string): Promise<void>;
  protected abstract rawSave(name: string): Promise<void>;
  protected abstract rawRestore(name: string): Promise<void>;
  protected abstract rawUndefine(name: string): Promise<void>;
  protected abstract rawInfo(name: string): Promise<DomainInfo>;
  protected abstract rawNames(): Promise<string[]>;
  protected abstract rawXml(name: string): Promise<string>;
  /** The persistent definition (what the next start boots). @throws {DomainNotFound} */
  protected abstract rawDefinitionXml(name: string): Promise<string>;
  abstract hostResources(): Promise<HostResources>;
  abstract close(): Promise<void>;

  /** Plugs `disk` into the running or paused guest (only where `supports.hotplug`). */
  protected rawAttachLive(_name: string, _disk: DiskSpec): Promise<void> {
    return Promise.reject(new NotSupportedByDriver('disk hot-plug', 'this driver changes the definition only'));
  }

  /**
   * Asks the running or paused guest to let the disk at `targetDev` go (`diskXml`, the live XML's
   * element); it may go at once, later, or never (the guest decides). Only where `supports.hotplug`.
   */
  protected rawDetachLive(_name: string, _targetDev: string, _diskXml: string): Promise<void> {
    return Promise.reject(new NotSupportedByDriver('disk hot-unplug', 'this driver changes the definition only'));
  }

  /** Plugs `nic` into the running or paused guest (only where `supports.hotplug`). */
  protected rawAttachNicLive(_name: string, _nic: NicSpec): Promise<void> {
    return Promise.reject(new NotSupportedByDriver('interface hot-plug', 'this driver changes the definition only'));
  }

  /** Takes the interface (`nicXml`, the live XML's element) out of the running or paused guest (only where `supports.hotplug`). */
  protected rawDetachNicLive(_name: string, _mac: string, _nicXml: string): Promise<void> {
    return Promise.reject(new NotSupportedByDriver('interface hot-unplug', 'this driver changes the definition only'));
  }

  async define(xml: string): Promise<DomainInfo> {
    const description = describeDomain(xml);
    return this.lock.run(description.name, async () => {
      const existing = await this.findUuid(description.name);
      if (existing !== undefined && description.uuid !== undefined && existing !== description.uuid) throw new DomainExists(description.name, existing);
      await this.rawDefine(xml);
      return this.rawInfo(description.name);
    });
  }

  start(name: string): Promise<void> {
    return this.lock.run(name, async () => {
      const state = await this.rawState(name);
      if (!OFF.has(state)) throw new DomainStateError(name, 'start', state);
      await this.rawStart(name);
    });
  }

  stop(name: string, options: StopOptions): Promise<StopResult> {
    return this.lock.run(name, async () => {
      const state = await this.rawState(name);
      if (OFF.has(state)) return 'clean';
      if (state === 'suspended') throw new DomainStateError(name, 'stop', state);
      // A paused guest cannot act on ACPI, so it is powered off at once.
      if (state === 'running' && options.timeoutMs > 0 && (await this.shutDownCleanly(name, options.timeoutMs))) return 'clean';
      await this.rawDestroy(name);
      return 'forced';
    });
  }

  destroy(name: string): Promise<void> {
    return this.lock.run(name, async () => {
      if (ON.has(await this.rawState(name))) await this.rawDestroy(name);
    });
  }

  reboot(name: string, type: RebootType, softTimeoutMs = SOFT_REBOOT_TIMEOUT_MS): Promise<void> {
    return this.lock.run(name, async () => {
      const state = await this.rawState(name);
      if (state === 'suspended') throw new DomainStateError(name, 'reboot', state);
      if (type === 'soft' && state === 'running' && (await this.shutDownCleanly(name, softTimeoutMs))) {
        await this.rawStart(name);
        return;
      }
      if (ON.has(await this.rawState(name))) await this.rawDestroy(name);
      await this.rawStart(name);
    });
  }

  pause(name: string): Promise<void> {
    return this.transition(name, 'pause', ['running'], () => this.rawPause(name));
  }

  unpause(name: string): Promise<void> {
    return this.transition(name, 'unpause', ['paused'], () => this.rawUnpause(name));
  }

  suspend(name: string): Promise<void> {
    if (!this.supports.suspend) return Promise.reject(new NotSupportedByDriver('suspend', 'this driver cannot save a guest'));
    return this.transition(name, 'suspend', ['running', 'paused'], () => this.rawSave(name));
  }

  resume(name: string): Promise<void> {
    return this.transition(name, 'resume', ['suspended'], () => this.rawRestore(name));
  }

  undefine(name: string): Promise<void> {
    return this.transition(name, 'undefine', ['shutdown', 'crashed', 'suspended'], () => this.rawUndefine(name));
  }

  info(name: string): Promise<DomainInfo> {
    return this.rawInfo(name);
  }

  async list(): Promise<DomainInfo[]> {
    const out: DomainInfo[] = [];
    for (const name of (await this.rawNames()).sort()) {
      try {
        out.push(await this.rawInfo(name));
      } catch (err) {
        if (!(err instanceof DomainNotFound)) throw err; // undefined meanwhile
      }
    }
    return out;
  }

  domainXml(name: string, options: { readonly inactive?: boolean } = {}): Promise<string> {
    return options.inactive ? this.rawDefinitionXml(name) : this.rawXml(name);
  }

  attachDisk(name: string, disk: DiskSpec): Promise<void> {
    return this.lock.run(name, async () => {
      // Checked against the definition first, so a taken target changes nothing anywhere.
      const definition = withDisk(await this.rawDefinitionXml(name), disk);
      // Live first, as libvirt does with LIVE|CONFIG: a guest that refuses the disk leaves the definition as it was.
      if (this.supports.hotplug && ON.has(await this.rawState(name)) && withDisk(await this.rawXml(name), disk) !== undefined) await this.rawAttachLive(name, disk);
      if (definition !== undefined) await this.rawDefine(definition);
    });
  }

  attachNic(name: string, nic: NicSpec): Promise<void> {
    return this.lock.run(name, async () => {
      const definition = withNic(await this.rawDefinitionXml(name), nic);
      if (this.supports.hotplug && ON.has(await this.rawState(name)) && withNic(await this.rawXml(name), nic) !== undefined) await this.rawAttachNicLive(name, nic);
      if (definition !== undefined) await this.rawDefine(definition);
    });
  }

  detachNic(name: string, mac: string): Promise<void> {
    return this.lock.run(name, async () => {
      const definition = withoutNic(await this.rawDefinitionXml(name), mac);
      if (definition !== undefined) await this.rawDefine(definition);
      const live = this.supports.hotplug && ON.has(await this.rawState(name)) ? nicAt(await this.rawXml(name), mac) : undefined;
      if (live !== undefined) await this.rawDetachNicLive(name, mac, live);
    });
  }

  detachDisk(name: string, targetDev: string): Promise<void> {
    return this.lock.run(name, async () => {
      const definition = withoutDisk(await this.rawDefinitionXml(name), targetDev);
      if (definition !== undefined) await this.rawDefine(definition);
      if (this.supports.hotplug && ON.has(await this.rawState(name))) await this.detachLive(name, targetDev);
    });
  }

  /**
   * Nova's `_detach_from_live_with_retry`: ask the guest, watch its live XML until the disk is
   * gone (the binding has no device-removed event to wait on), ask again after
   * `detachTimeoutMs`, at most `detachAttempts` times.
   */
  private async detachLive(name: string, targetDev: string): Promise<void> {
    const liveDisk = async () => diskAt(await this.rawXml(name), targetDev);
    for (let attempt = 0; attempt < this.detachAttempts; attempt++) {
      const disk = await liveDisk();
      if (disk === undefined) return;
      await this.rawDetachLive(name, targetDev, disk);
      const deadline = this.clock.monotonic() + this.detachTimeoutMs;
      for (let left = this.detachTimeoutMs; left > 0 && (await liveDisk()) !== undefined; left = deadline - this.clock.monotonic()) {
        await this.clock.sleep(Math.min(this.pollMs, left));
      }
    }
    if ((await liveDisk()) !== undefined) throw new DeviceDetachFailed(name, targetDev, this.detachAttempts);
  }

  async consoleOutput(name: string): Promise<Buffer> {
    const path = describeDomain(await this.rawXml(name)).consoleLogPath;
    if (path === undefined) throw new ConsoleNotAvailable(name);
    return readConsoleTail(path);
  }

  snapshot(name: string, options: SnapshotOptions): Promise<SnapshotImage> {
    if (!this.supports.snapshot) return Promise.reject(new NotSupportedByDriver('snapshot', 'this driver has no disks'));
    return this.lock.run(name, async () => {
      const root = describeDomain(await this.rawXml(name)).disks.find((d) => d.device === 'disk');
      if (root === undefined) throw new SnapshotFailed(name, 'the domain has no file disk');
      const state = await this.rawState(name);
      // Nova's cold snapshot: QEMU holds image metadata in memory, so a running guest is saved
      // (QEMU exits) while its disk is read, then brought back as it was.
      const saved = ON.has(state) && this.supports.suspend;
      if (saved) await this.rawSave(name);
      else if (state === 'running') await this.rawPause(name);
      try {
        return await extractDisk(name, root, options.path, this.qemuImg);
      } finally {
        if (saved) {
          await this.rawRestore(name);
          if (state === 'paused' && (await this.rawState(name)) === 'running') await this.rawPause(name);
        } else if (state === 'running') await this.rawUnpause(name);
      }
    });
  }

  private transition(name: string, operation: string, from: readonly PowerState[], step: () => Promise<void>): Promise<void> {
    return this.lock.run(name, async () => {
      const state = await this.rawState(name);
      if (!from.includes(state)) throw new DomainStateError(name, operation, state);
      await step();
    });
  }

  /** Nova's `_clean_shutdown`: asks, then watches until off or `timeoutMs` passed (asking again each 10 polls). */
  private async shutDownCleanly(name: string, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.monotonic() + timeoutMs;
    await this.rawRequestShutdown(name);
    for (let polls = 1; ; polls++) {
      if (OFF.has(await this.rawState(name))) return true;
      const left = deadline - this.clock.monotonic();
      if (left <= 0) return false;
      await this.clock.sleep(Math.min(this.pollMs, left));
      if (polls % 10 === 0 && (await this.rawState(name)) === 'running') await this.rawRequestShutdown(name);
    }
  }
}
