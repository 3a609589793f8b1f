/**
 * The hypervisor driver of the compute agent (Nova's `ComputeDriver`, kept small): the agent
 * writes a domain's XML (`domain-xml.ts`) and drives its life through this interface, never
 * through libvirt directly. Two implementations pass one conformance suite
 * (`test/conformance/hypervisor.ts`): `libvirt.ts` (the real one, over the libvirt binding;
 * `test:///default` in tests, `qemu:///system` on real hosts) and `memory.ts` (the twin).
 *
 * Domains are named by the agent (Nova's `instance-0000002a`) and carry the server's UUID.
 * The state machine is libvirt's, as Nova drives it:
 *
 * ```
 *  define ─► shutdown ─start─► running ─pause─► paused ─unpause─► running
 *                ▲                │ └─suspend─► suspended ─resume─► running
 *                └── stop/destroy ┘ (also from paused)
 * ```
 * `reboot` returns a running, paused or shut-off domain to running; `undefine` needs it shut
 * off or suspended. An operation from the wrong state throws `DomainStateError` and changes
 * nothing.
 */

import type { DiskSpec, NicSpec } from './domain-xml.ts';

/**
 * A domain's power state, as Nova reports it (`nova/objects/fields.py` InstancePowerState;
 * libvirt's states map as `nova/virt/libvirt/guest.py` LIBVIRT_POWER_STATE does: blocked is
 * running, shutdown and shutoff are `shutdown`, pmsuspended is `suspended`). A domain saved
 * to disk by `suspend` is `suspended` too (libvirt sees it shut off with a saved image).
 */
export type PowerState = 'pending' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

/** Nova's numeric power state (`OS-EXT-STS:power_state` in the API): the index in its list. */
export const POWER_STATE_CODES: Readonly<Record<PowerState, number>> = {
  pending: 0,
  running: 1,
  paused: 3,
  shutdown: 4,
  crashed: 6,
  suspended: 7,
};

/** What the driver knows of one domain. */
export interface DomainInfo {
  readonly name: string;
  readonly uuid: string;
  readonly powerState: PowerState;
  /** Memory the domain has (KiB, libvirt's unit). */
  readonly memoryKiB: number;
  readonly vcpus: number;
}

/** The host's capacity as the scheduler sees it (Nova's resource tracker inventory). */
export interface HostResources {
  readonly hostname: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Space for instance disks, whole GiB (Nova's `local_gb`). */
  readonly diskGiB: number;
  /** The hypervisor's kind as `os-hypervisors` reports it (`QEMU`, `test`, `fake`). */
  readonly hypervisorType: string;
}

/** How `stop` ended: the guest shut itself down, or it was powered off. */
export type StopResult = 'clean' | 'forced';

export interface StopOptions {
  /**
   * How long the guest gets to shut down cleanly (ACPI) before it is powered off; 0 powers
   * off at once (Nova's `power_off(timeout=0)`).
   */
  readonly timeoutMs: number;
}

/** `soft`: a clean shutdown and start (a hard one if the guest does not stop); `hard`: power cycle. */
export type RebootType = 'soft' | 'hard';

export interface SnapshotOptions {
  /** Where the image goes (a new file; it must not exist). */
  readonly path: string;
}

/** The image a snapshot wrote. */
export interface SnapshotImage {
  readonly path: string;
  /** The image's disk format (Glance's `disk_format`): the root disk's own. */
  readonly diskFormat: 'qcow2' | 'raw';
  readonly size: number;
}

/** What an implementation can do (abstract-level's manifest idea). */
export interface HypervisorSupports {
  /** Domains outlive the driver object and its process (libvirt's daemon keeps them). */
  readonly durable: boolean;
  /** `suspend`/`resume` save memory to disk and restore it. */
  readonly suspend: boolean;
  /** `snapshot` writes the root disk out as an image. */
  readonly snapshot: boolean;
  /** Guests run their own OS, so a clean shutdown may take time or be ignored. */
  readonly realGuests: boolean;
  /**
   * Disks are plugged into and out of a running or paused guest at once (Nova's
   * `attach_device(live=True)`); without it a running guest sees a change at its next start.
   */
  readonly hotplug: boolean;
}

export interface Hypervisor {
  readonly supports: HypervisorSupports;
  /**
   * Defines a domain (persistent, shut off) from its XML; the same name and UUID again
   * replaces the definition, taking effect at the next start.
   * @throws {InvalidDomainXml} XML the hypervisor refuses; {DomainExists} the name belongs to
   *   another UUID.
   */
  define(xml: string): Promise<DomainInfo>;
  /**
   * Boots a shut-off domain.
   * @throws {DomainNotFound}; {DomainStateError} unless shut off.
   */
  start(name: string): Promise<void>;
  /**
   * Powers a running or paused domain off: a clean shutdown for up to `timeoutMs`, then
   * destroy (Nova's `power_off`). A domain already off resolves `clean`.
   * @throws {DomainNotFound}; {DomainStateError} when suspended.
   */
  stop(name: string, options: StopOptions): Promise<StopResult>;
  /** Powers off at once (pulls the plug); a domain already off stays so. @throws {DomainNotFound} */
  destroy(name: string): Promise<void>;
  /**
   * Brings a domain back to running through a shutdown (Nova's reboot: soft falls back to
   * hard when the guest does not go down within `softTimeoutMs`).
   * @throws {DomainNotFound}; {DomainStateError} when suspended.
   */
  reboot(name: string, type: RebootType, softTimeoutMs?: number): Promise<void>;
  /** Freezes a running domain's vCPUs. @throws {DomainNotFound}; {DomainStateError} unless running. */
  pause(name: string): Promise<void>;
  /** @throws {DomainNotFound}; {DomainStateError} unless paused. */
  unpause(name: string): Promise<void>;
  /**
   * Saves a running or paused domain's memory to disk and stops it (Nova's suspend: libvirt's
   * managed save). @throws {DomainNotFound}; {DomainStateError}; {NotSupportedByDriver}.
   */
  suspend(name: string): Promise<void>;
  /** Restores a suspended domain to running. @throws {DomainNotFound}; {DomainStateError}. */
  resume(name: string): Promise<void>;
  /**
   * Forgets a shut-off or suspended domain (and its saved memory); its disks stay.
   * @throws {DomainNotFound}; {DomainStateError} while running or paused.
   */
  undefine(name: string): Promise<void>;
  /** @throws {DomainNotFound} */
  info(name: string): Promise<DomainInfo>;
  /** Every domain the hypervisor has, in name order. */
  list(): Promise<DomainInfo[]>;
  /**
   * The domain's XML as the hypervisor holds it: the running one while running, or with
   * `inactive` the definition the next start boots. @throws {DomainNotFound}
   */
  domainXml(name: string, options?: { readonly inactive?: boolean }): Promise<string>;
  /**
   * Adds a disk (an attached volume) to the domain's definition and, where `supports.hotplug`,
   * to the running or paused guest at once (Nova's `attach_device(persistent=True, live=True)`);
   * otherwise a running guest sees it from its next start. The same disk at the same target again
   * changes nothing. @throws {DomainNotFound}; {DiskTargetInUse} another file holds the target.
   */
  attachDisk(name: string, disk: DiskSpec): Promise<void>;
  /**
   * Takes the disk at `targetDev` out of the definition and, where `supports.hotplug`, out of the
   * running or paused guest, asking again until it is gone from the guest (Nova's
   * `_detach_with_retry`); none there changes nothing.
   * @throws {DomainNotFound}; {DeviceDetachFailed} the guest still holds it after every attempt.
   */
  detachDisk(name: string, targetDev: string): Promise<void>;
  /**
   * Adds a NIC to the domain's definition and, where `supports.hotplug`, to the running or paused
   * guest (Nova's `attach_interface`). One with the same MAC already there is left as it is.
   * @throws {DomainNotFound}; {InvalidDomainXml}.
   */
  attachNic(name: string, nic: NicSpec): Promise<void>;
  /** Takes the NIC of `mac` out of the definition and the running guest; none there is fine. @throws {DomainNotFound} */
  detachNic(name: string, mac: string): Promise<void>;
  /**
   * The end of the guest's serial console log (at most `CONSOLE_MAX_BYTES`), empty before the
   * guest wrote any. @throws {DomainNotFound}; {ConsoleNotAvailable} the domain has no file console.
   */
  consoleOutput(name: string): Promise<Buffer>;
  /**
   * Writes the domain's root disk out as a standalone image (backing files folded in), with
   * the guest paused meanwhile when it runs, so the image is consistent.
   * @throws {DomainNotFound}; {NotSupportedByDriver}; {SnapshotFailed}.
   */
  snapshot(name: string, options: SnapshotOptions): Promise<SnapshotImage>;
  hostResources(): Promise<HostResources>;
  /** Releases the connection; domains keep running where `supports.durable`. */
  close(): Promise<void>;
}

/** Nova reads at most 100 KiB of a console log (`MAX_CONSOLE_BYTES`). */
export const CONSOLE_MAX_BYTES = 100 * 1024;
