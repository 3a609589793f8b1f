import { randomUUID } from 'node:crypto';
import { describeDomain } from './domain-description.ts';
import { withDisk, withoutDisk } from './domain-disks.ts';
import { withNic, withoutNic } from './domain-nics.ts';
import type { DiskSpec, NicSpec } from './domain-xml.ts';
import { type DriverBaseOptions, HypervisorDriverBase } from './driver-base.ts';
import { DomainNotFound } from './errors.ts';
import type { DomainInfo, HostResources, HypervisorSupports, PowerState } from './types.ts';

interface MemoryDomain {
  uuid: string;
  /** The persistent definition (what the next start boots). */
  xml: string;
  /** The definition the domain runs with, while it runs or is paused or saved. */
  liveXml: string | undefined;
  state: PowerState;
}

export interface MemoryHypervisorOptions extends DriverBaseOptions {
  readonly resources?: HostResources;
}

/**
 * The hypervisor twin (Nova's `nova/virt/fake.py`): domains are records in memory that follow
 * libvirt's state machine, guests shut down at once when asked, and snapshots copy the disk
 * file the XML names as the libvirt driver does, and disks plug into a running guest at once.
 * `ignoreShutdown` makes a guest that ignores ACPI, `ignoreUnplug` one that keeps its disks, for
 * the forced and failed paths.
 */
export class MemoryHypervisor extends HypervisorDriverBase {
  readonly supports: HypervisorSupports = { durable: false, suspend: true, snapshot: true, realGuests: false, hotplug: true };
  private readonly domains = new Map<string, MemoryDomain>();
  private readonly deaf = new Set<string>();
  private readonly holding = new Set<string>();
  private readonly resources: HostResources;

  constructor(options: MemoryHypervisorOptions) {
    super(options);
    this.resources = options.resources ?? { hostname: 'fake-host', vcpus: 16, memoryMiB: 32_768, diskGiB: 1024, hypervisorType: 'fake' };
  }

  /** From now on the guest of `name` ignores clean shutdown requests (as a hung OS does). */
  ignoreShutdown(name: string): void {
    this.deaf.add(name);
  }

  /** From now on the guest of `name` keeps its disks when asked to let one go (as a guest holding a mounted disk can). */
  ignoreUnplug(name: string): void {
    this.holding.add(name);
  }

  private get(name: string): MemoryDomain {
    const domain = this.domains.get(name);
    if (domain === undefined) throw new DomainNotFound(name);
    return domain;
  }

  protected async findUuid(name: string): Promise<string | undefined> {
    return this.domains.get(name)?.uuid;
  }

  protected async rawDefine(xml: string): Promise<void> {
    const d = describeDomain(xml);
    const existing = this.domains.get(d.name);
    if (existing !== undefined) existing.xml = xml;
    else this.domains.set(d.name, { uuid: d.uuid ?? randomUUID(), xml, liveXml: undefined, state: 'shutdown' });
  }

  protected async rawState(name: string): Promise<PowerState> {
    return this.get(name).state;
  }

  protected async rawStart(name: string): Promise<void> {
    const domain = this.get(name);
    domain.state = 'running';
    domain.liveXml = domain.xml;
  }

  protected async rawRequestShutdown(name: string): Promise<void> {
    if (!this.deaf.has(name)) this.powerOff(this.get(name));
  }

  protected async rawDestroy(name: string): Promise<void> {
    this.powerOff(this.get(name));
  }

  private powerOff(domain: MemoryDomain): void {
    domain.state = 'shutdown';
    domain.liveXml = undefined;
  }

  protected async rawPause(name: string): Promise<void> {
    this.get(name).state = 'paused';
  }

  protected async rawUnpause(name: string): Promise<void> {
    this.get(name).state = 'running';
  }

  protected async rawSave(name: string): Promise<void> {
    this.get(name).state = 'suspended';
  }

  protected async rawRestore(name: string): Promise<void> {
    this.get(name).state = 'running';
  }

  protected async rawUndefine(name: string): Promise<void> {
    this.get(name);
    this.domains.delete(name);
    this.deaf.delete(name);
    this.holding.delete(name);
  }

  protected override async rawAttachLive(name: string, disk: DiskSpec): Promise<void> {
    const domain = this.get(name);
    domain.liveXml = withDisk(domain.liveXml ?? domain.xml, disk) ?? domain.liveXml;
  }

  protected override async rawDetachLive(name: string, targetDev: string): Promise<void> {
    const domain = this.get(name);
    if (!this.holding.has(name)) domain.liveXml = withoutDisk(domain.liveXml ?? domain.xml, targetDev) ?? domain.liveXml;
  }

  protected override async rawAttachNicLive(name: string, nic: NicSpec): Promise<void> {
    const domain = this.get(name);
    domain.liveXml = withNic(domain.liveXml ?? domain.xml, nic) ?? domain.liveXml;
  }

  protected override async rawDetachNicLive(name: string, mac: string): Promise<void> {
    const domain = this.get(name);
    domain.liveXml = withoutNic(domain.liveXml ?? domain.xml, mac) ?? domain.liveXml;
  }

  protected async rawInfo(name: string): Promise<DomainInfo> {
    const domain = this.get(name);
    const d = describeDomain(domain.liveXml ?? domain.xml);
    return { name, uuid: domain.uuid, powerState: domain.state, memoryKiB: d.memoryKiB, vcpus: d.vcpus };
  }

  protected async rawNames(): Promise<string[]> {
    return [...this.domains.keys()];
  }

  protected async rawXml(name: string): Promise<string> {
    const domain = this.get(name);
    return domain.liveXml ?? domain.xml;
  }

  protected async rawDefinitionXml(name: string): Promise<string> {
    return this.get(name).xml;
  }

  async hostResources(): Promise<HostResources> {
    return this.resources;
  }

  async close(): Promise<void> {}
}
