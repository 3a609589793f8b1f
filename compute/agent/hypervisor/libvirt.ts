import { execFile } from 'node:child_process';
import { rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../../common/path-exists.ts';
import { BindingCalls } from './binding-calls.ts';
import { type DriverBaseOptions, HypervisorDriverBase } from './driver-base.ts';
import { type DiskSpec, diskXml, type NicSpec, nicXml } from './domain-xml.ts';
import { DomainNotFound, HypervisorError, HypervisorUnavailable, InvalidDomainXml } from './errors.ts';
import type { DomainInfo, HostResources, HypervisorSupports, PowerState } from './types.ts';

/** The part of `@unraid/libvirt` the driver uses (an optional dependency, loaded at open). */
interface BindingDomain {
  getName(): Promise<string>;
  getUUIDString(): Promise<string>;
}
interface BindingConnection {
  connectOpen(): Promise<void>;
  connectClose(): Promise<void>;
  connectGetHostname(): Promise<string>;
  connectListAllDomains(flags?: number): Promise<BindingDomain[]>;
  nodeGetInfo(): Promise<{ memory: number; cpus: number }>;
  domainDefineXML(xml: string): Promise<BindingDomain>;
  domainLookupByName(name: string): Promise<BindingDomain>;
  domainCreate(domain: BindingDomain): Promise<void>;
  domainShutdown(domain: BindingDomain): Promise<void>;
  domainDestroy(domain: BindingDomain): Promise<void>;
  domainSuspend(domain: BindingDomain): Promise<void>;
  domainResume(domain: BindingDomain): Promise<void>;
  domainSave(domain: BindingDomain, path: string): Promise<void>;
  domainRestore(path: string): Promise<void>;
  domainUndefine(domain: BindingDomain): Promise<void>;
  domainGetInfo(domain: BindingDomain): Promise<{ state: number; memory: number; nrVirtCpu: number }>;
  domainGetXMLDesc(domain: BindingDomain, flags?: number): Promise<string>;
}
interface Binding {
  Hypervisor: new (options: { uri: string }) => BindingConnection;
}

// virDomainXMLFlags: the persistent definition rather than the running guest's.
const VIR_DOMAIN_XML_INACTIVE = 2;

// libvirt's virDomainState to Nova's power state (nova/virt/libvirt/guest.py LIBVIRT_POWER_STATE).
const POWER_STATES: readonly PowerState[] = ['pending', 'running', 'running', 'paused', 'shutdown', 'shutdown', 'crashed', 'suspended'];

export interface LibvirtHypervisorOptions extends DriverBaseOptions {
  /** `test:///default` (in process), `test:///<node.xml>` (a private test node), `qemu:///system`. */
  readonly uri: string;
  /**
   * The agent's instances directory (Nova's `instances_path`): suspended guests' memory is
   * saved here as `<name>.save`, and its file system's size is the host's disk.
   */
  readonly stateDir: string;
  /** The `virsh` command that plugs disks into running guests (Debian's libvirt-clients). */
  readonly virsh?: string;
}

/**
 * The libvirt driver over `@unraid/libvirt`. The binding lacks reboot, managed save,
 * snapshots and error codes, so (docs/decisions.md, "Compute"): reboots are shutdown/destroy
 * and start, as Nova's soft and hard reboots are; suspend is `virDomainSave` to a file in
 * `stateDir` and resume `virDomainRestore` (Nova's managed save, kept by us); snapshots are
 * `qemu-img convert` of the root disk while the guest is saved; disks are plugged into and out
 * of running guests by `virsh attach-device`/`detach-device --live` (a process per call; not on
 * `test:` URIs, whose driver lives in this process and no other can reach); and every state is
 * checked before acting, so the typed errors never depend on libvirt's messages. Every call
 * into the binding goes through `calls` (binding-calls.ts), which holds its domain and
 * connection until it settles: the binding's workers hold neither.
 */
export class LibvirtHypervisor extends HypervisorDriverBase {
  readonly supports: HypervisorSupports;
  private readonly uri: string;
  private readonly stateDir: string;
  private readonly conn: BindingConnection;
  private readonly calls: BindingCalls;
  private readonly virsh: string;

  private constructor(options: LibvirtHypervisorOptions, conn: BindingConnection) {
    super(options);
    this.uri = options.uri;
    this.stateDir = options.stateDir;
    this.conn = conn;
    this.calls = new BindingCalls(options.uri, conn);
    this.virsh = options.virsh ?? 'virsh';
    const test = options.uri.startsWith('test:');
    this.supports = { durable: !test, suspend: true, snapshot: true, realGuests: !test, hotplug: !test };
  }

  /** Loads the binding and connects. @throws {HypervisorUnavailable} */
  static async open(options: LibvirtHypervisorOptions): Promise<LibvirtHypervisor> {
    let binding: Binding;
    try {
      binding = (await import('@unraid/libvirt' as string)) as Binding;
    } catch (err) {
      throw new HypervisorUnavailable(options.uri, 'the libvirt binding (@unraid/libvirt) is not installed: install libvirt-dev and pkg-config, then npm ci', { cause: err });
    }
    const conn = new binding.Hypervisor({ uri: options.uri });
    try {
      await conn.connectOpen();
    } catch (err) {
      throw new HypervisorUnavailable(options.uri, String(err), { cause: err });
    }
    return new LibvirtHypervisor(options, conn);
  }

  private savePath(name: string): string {
    return join(this.stateDir, `${name}.save`);
  }

  /** One call into the binding, `keep` (the domains it uses) held until it settles. @throws {HypervisorError} */
  private async call<T>(operation: string, keep: readonly BindingDomain[], step: () => Promise<T>): Promise<T> {
    try {
      return await this.calls.run(keep, step);
    } catch (err) {
      if (err instanceof HypervisorUnavailable) throw err;
      throw new HypervisorError(operation, String(err instanceof Error ? err.message : err), { cause: err });
    }
  }

  /**
   * `step` on the domain named `name`. A domain undefined by another call meanwhile (a delete
   * while the heartbeat lists) is `DomainNotFound`, as it would have been a moment later.
   */
  private async onDomain<T>(operation: string, name: string, step: (d: BindingDomain) => Promise<T>): Promise<T> {
    const domain = await this.lookup(name);
    try {
      return await this.call(operation, [domain], () => step(domain));
    } catch (err) {
      if (err instanceof HypervisorError && !(await this.rawNames()).includes(name)) throw new DomainNotFound(name, { cause: err });
      throw err;
    }
  }

  /**
   * The domain by name. A failed lookup is told apart by listing names (the binding's errors
   * carry only libvirt's message), so a missing domain is always `DomainNotFound`.
   */
  private async lookup(name: string): Promise<BindingDomain> {
    try {
      return await this.call('lookup', [], () => this.conn.domainLookupByName(name));
    } catch (err) {
      if (err instanceof HypervisorError && !(await this.rawNames()).includes(name)) throw new DomainNotFound(name, { cause: err });
      throw err;
    }
  }

  protected async findUuid(name: string): Promise<string | undefined> {
    if (!(await this.rawNames()).includes(name)) return undefined;
    return this.onDomain('lookup', name, (d) => d.getUUIDString());
  }

  protected async rawDefine(xml: string): Promise<void> {
    try {
      await this.calls.run([], () => this.conn.domainDefineXML(xml));
    } catch (err) {
      if (err instanceof HypervisorUnavailable) throw err;
      throw new InvalidDomainXml(String(err instanceof Error ? err.message : err), { cause: err });
    }
  }

  protected async rawState(name: string): Promise<PowerState> {
    const { state } = await this.onDomain('state', name, (d) => this.conn.domainGetInfo(d));
    const power = POWER_STATES[state] ?? 'pending';
    if (power === 'shutdown' && (await pathExists(this.savePath(name)))) return 'suspended';
    return power;
  }

  protected rawStart(name: string): Promise<void> {
    return this.onDomain('start', name, (d) => this.conn.domainCreate(d));
  }

  protected rawRequestShutdown(name: string): Promise<void> {
    return this.onDomain('shutdown', name, (d) => this.conn.domainShutdown(d));
  }

  protected rawDestroy(name: string): Promise<void> {
    return this.onDomain('destroy', name, (d) => this.conn.domainDestroy(d));
  }

  protected rawPause(name: string): Promise<void> {
    return this.onDomain('pause', name, (d) => this.conn.domainSuspend(d));
  }

  protected rawUnpause(name: string): Promise<void> {
    return this.onDomain('unpause', name, (d) => this.conn.domainResume(d));
  }

  protected rawSave(name: string): Promise<void> {
    return this.onDomain('suspend', name, (d) => this.conn.domainSave(d, this.savePath(name)));
  }

  protected async rawRestore(name: string): Promise<void> {
    await this.call('resume', [], () => this.conn.domainRestore(this.savePath(name)));
    await rm(this.savePath(name), { force: true });
  }

  protected async rawUndefine(name: string): Promise<void> {
    await this.onDomain('undefine', name, (d) => this.conn.domainUndefine(d));
    await rm(this.savePath(name), { force: true });
  }

  protected async rawInfo(name: string): Promise<DomainInfo> {
    const [info, uuid] = await this.onDomain('info', name, async (d) => [await this.conn.domainGetInfo(d), await d.getUUIDString()] as const);
    let powerState = POWER_STATES[info.state] ?? 'pending';
    if (powerState === 'shutdown' && (await pathExists(this.savePath(name)))) powerState = 'suspended';
    // A shut-off domain reports its defined size; a running one what it runs with.
    return { name, uuid, powerState, memoryKiB: info.memory, vcpus: info.nrVirtCpu };
  }

  protected async rawNames(): Promise<string[]> {
    const domains = await this.call('list', [], () => this.conn.connectListAllDomains());
    return this.call('list', domains, () => Promise.all(domains.map((d) => d.getName())));
  }

  protected async rawXml(name: string): Promise<string> {
    return this.onDomain('xml', name, (d) => this.conn.domainGetXMLDesc(d));
  }

  protected async rawDefinitionXml(name: string): Promise<string> {
    return this.onDomain('xml', name, (d) => this.conn.domainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE));
  }

  protected override rawAttachLive(name: string, disk: DiskSpec): Promise<void> {
    return this.virshLive('attach-device', name, diskXml(disk));
  }

  protected override rawAttachNicLive(name: string, nic: NicSpec): Promise<void> {
    return this.virshLive('attach-device', name, nicXml(nic));
  }

  protected override rawDetachNicLive(name: string, _mac: string, xml: string): Promise<void> {
    return this.virshLive('detach-device', name, xml);
  }

  protected override async rawDetachLive(name: string, _targetDev: string, xml: string): Promise<void> {
    try {
      await this.virshLive('detach-device', name, xml);
    } catch (err) {
      // QEMU refuses a second request while the guest still works on the first (a retry after a
      // timeout); Nova ignores it the same way and keeps watching (its comment cites bz 1878659).
      if (!(err instanceof HypervisorError && err.message.includes('already in the process of unplug'))) throw err;
    }
  }

  /**
   * `virsh -c <uri> <command> <domain> <file> --live`: the running guest only, as the definition
   * is changed by defining it again. The device's XML goes through a file in `stateDir` (the
   * domain's lock keeps one such call per domain at a time).
   */
  private async virshLive(command: 'attach-device' | 'detach-device', name: string, xml: string): Promise<void> {
    const file = join(this.stateDir, `${name}.${command}.xml`);
    await writeFile(file, xml);
    try {
      await new Promise<void>((resolve, reject) => {
        execFile(this.virsh, ['-c', this.uri, command, name, file, '--live'], { maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
          if (err) reject(new HypervisorError(command, String(stderr).trim() || err.message, { cause: err }));
          else resolve();
        });
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  async hostResources(): Promise<HostResources> {
    const node = await this.call('node info', [], () => this.conn.nodeGetInfo());
    const hostname = await this.call('hostname', [], () => this.conn.connectGetHostname());
    const fs = await statfs(this.stateDir);
    return {
      hostname,
      vcpus: node.cpus,
      memoryMiB: Math.floor(node.memory / 1024),
      diskGiB: Math.floor((fs.blocks * fs.bsize) / 1024 ** 3),
      // os-hypervisors says QEMU for kvm and qemu guests alike, as Nova's libvirt driver does.
      hypervisorType: this.uri.startsWith('test:') ? 'test' : 'QEMU',
    };
  }

  /** Waits for the calls in flight (a heartbeat's list), then closes; later calls are `HypervisorUnavailable`. */
  async close(): Promise<void> {
    try {
      await this.calls.close(() => this.conn.connectClose());
    } catch (err) {
      throw new HypervisorError('close', String(err instanceof Error ? err.message : err), { cause: err });
    }
  }
}
