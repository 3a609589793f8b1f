import { InvalidDomainXml } from './errors.ts';

/**
 * The domain XML the agent hands the hypervisor for one server, as Nova's libvirt driver
 * writes it for qemu/KVM (`nova/virt/libvirt/driver.py` `_get_guest_config`, `config.py`):
 * memory and vCPUs from the flavor, the root disk a file (a qcow2 overlay on the cached image,
 * or raw), one virtio NIC per port on its bridge with Neutron's MAC and tap name, ACPI (so a
 * clean shutdown reaches the guest), the serial console written to a log file that
 * `consoleOutput` reads, and Nova's clock and timers. Valid for libvirt's schema
 * (`virt-xml-validate`, checked in the tests) and accepted by `test:///default` too.
 */
export interface DomainSpec {
  /** The domain's name (Nova's `instance-%08x`): letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /** The server's UUID. */
  readonly uuid: string;
  /** `kvm` with hardware virtualization, `qemu` (TCG emulation) without. */
  readonly virtType: 'kvm' | 'qemu';
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** The guest machine type (Nova's `hw_machine_type`; its x86 default is q35). */
  readonly machineType?: string;
  readonly disks: readonly DiskSpec[];
  readonly nics: readonly NicSpec[];
  /** The serial console's log file. */
  readonly consoleLogPath: string;
}

export interface DiskSpec {
  readonly path: string;
  readonly format: 'qcow2' | 'raw';
  /** The guest's device name (`vda`, `vdb`, ...). */
  readonly targetDev: string;
  /** A config drive is a read-only `cdrom`; disks are `disk`. */
  readonly device?: 'disk' | 'cdrom';
  /** A volume's id (Nova's `<serial>`), so the guest finds it as `/dev/disk/by-id/virtio-<id>`. */
  readonly serial?: string;
  /** The guest may not write it (`<readonly/>`): a volume whose connection's `access_mode` is `ro`. Cdroms always are. */
  readonly readOnly?: boolean;
  /** I/O limits (`<iotune>`): a volume's front-end QoS specs, by their names in IOTUNE_KEYS. */
  readonly iotune?: Readonly<Record<string, number>>;
}

/**
 * The `<iotune>` limits Nova takes from a connection's `qos_specs`, in the order its
 * LibvirtConfigGuestDisk writes them (nova/virt/libvirt/config.py `_format_iotune`).
 */
export const IOTUNE_KEYS = ['read_bytes_sec', 'read_iops_sec', 'write_bytes_sec', 'write_iops_sec', 'total_bytes_sec', 'total_iops_sec', 'read_bytes_sec_max', 'write_bytes_sec_max', 'total_bytes_sec_max', 'read_iops_sec_max', 'write_iops_sec_max', 'total_iops_sec_max', 'size_iops_sec'] as const;

export interface NicSpec {
  /** The port's MAC address (`fa:16:3e:..`). */
  readonly mac: string;
  /** The Linux bridge the tap joins (Neutron's `brq` + network id prefix). */
  readonly bridge: string;
  /** The tap device's name (Neutron's `tap` + port id prefix): at most 15 characters. */
  readonly targetDev: string;
  readonly mtu?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const DEVICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/; // Linux IFNAMSIZ: 15 characters
const TARGET = /^(vd|sd|hd)[a-z]{1,2}$/;
const MACHINE = /^[a-z0-9][a-z0-9._-]*$/;

/** XML text and attribute values with the five special characters escaped. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as const)[c as '&']};`);
}

function check(ok: boolean, reason: string): void {
  if (!ok) throw new InvalidDomainXml(reason);
}

/** @throws {InvalidDomainXml} a disk path that is not absolute, a target that is not a vdX/sdX/hdX name, an iotune limit libvirt has not or that is not a whole number. */
export function checkDisk(disk: DiskSpec): void {
  check(disk.path.startsWith('/'), `disk path ${JSON.stringify(disk.path)} must be absolute`);
  check(TARGET.test(disk.targetDev), `disk target ${JSON.stringify(disk.targetDev)} is not a vdX/sdX/hdX name`);
  check(disk.serial === undefined || /^[A-Za-z0-9._-]{1,64}$/.test(disk.serial), `disk serial ${JSON.stringify(disk.serial)}`);
  for (const [key, value] of Object.entries(disk.iotune ?? {})) {
    check((IOTUNE_KEYS as readonly string[]).includes(key), `iotune ${JSON.stringify(key)} is not one of libvirt's limits`);
    check(Number.isSafeInteger(value) && value >= 0, `iotune ${key} ${JSON.stringify(value)} must be a whole number`);
  }
}

function validate(spec: DomainSpec): void {
  check(NAME.test(spec.name), `name ${JSON.stringify(spec.name)}: letters, digits, '.', '_' and '-' only, at most 64`);
  check(UUID.test(spec.uuid), `uuid ${JSON.stringify(spec.uuid)} is not a lower-case UUID`);
  check(Number.isSafeInteger(spec.memoryMiB) && spec.memoryMiB > 0, `memoryMiB ${spec.memoryMiB} must be a positive integer`);
  check(Number.isSafeInteger(spec.vcpus) && spec.vcpus > 0, `vcpus ${spec.vcpus} must be a positive integer`);
  check(spec.machineType === undefined || MACHINE.test(spec.machineType), `machine type ${JSON.stringify(spec.machineType)}`);
  check(spec.consoleLogPath.startsWith('/'), `console log path ${JSON.stringify(spec.consoleLogPath)} must be absolute`);
  const targets = new Set<string>();
  for (const disk of spec.disks) {
    checkDisk(disk);
    check(!targets.has(disk.targetDev), `disk target ${JSON.stringify(disk.targetDev)} is not a free vdX/sdX/hdX name`);
    targets.add(disk.targetDev);
  }
  const macs = new Set<string>();
  for (const nic of spec.nics) {
    checkNic(nic);
    check(!macs.has(nic.mac), `MAC ${JSON.stringify(nic.mac)} is not a unique lower-case MAC address`);
    macs.add(nic.mac);
  }
}

/** @throws {InvalidDomainXml} a MAC that is not lower-case hex pairs, a bridge or tap that is not a Linux device name, an MTU out of range. */
export function checkNic(nic: NicSpec): void {
  check(MAC.test(nic.mac), `MAC ${JSON.stringify(nic.mac)} is not a unique lower-case MAC address`);
  check(DEVICE.test(nic.bridge), `bridge ${JSON.stringify(nic.bridge)} is not a Linux device name`);
  check(DEVICE.test(nic.targetDev), `tap ${JSON.stringify(nic.targetDev)} is not a Linux device name`);
  check(nic.mtu === undefined || (Number.isSafeInteger(nic.mtu) && nic.mtu >= 68 && nic.mtu <= 65535), `MTU ${nic.mtu}`);
}

/** One `<disk>` element, as the domain's and an attached volume's (Nova's `LibvirtConfigGuestDisk`). */
export function diskXml(disk: DiskSpec): string {
  // cdroms sit on the SATA bus (q35 has no IDE), as Nova puts config drives there.
  const device = disk.device ?? 'disk';
  const bus = device === 'cdrom' ? 'sata' : 'virtio';
  const cache = device === 'cdrom' ? '' : " cache='none'";
  return [
    `    <disk type='file' device='${device}'>`,
    `      <driver name='qemu' type='${disk.format}'${cache}/>`,
    `      <source file='${escapeXml(disk.path)}'/>`,
    `      <target dev='${disk.targetDev}' bus='${bus}'/>`,
    ...(disk.serial === undefined ? [] : [`      <serial>${escapeXml(disk.serial)}</serial>`]),
    ...iotuneXml(disk.iotune),
    device === 'cdrom' || disk.readOnly === true ? '      <readonly/>\n    </disk>' : '    </disk>',
  ].join('\n');
}

/** The disk's `<iotune>` lines: the limits it has, in Nova's order; none without any. */
function iotuneXml(iotune: DiskSpec['iotune']): string[] {
  const lines = IOTUNE_KEYS.filter((k) => iotune?.[k] !== undefined).map((k) => `        <${k}>${iotune?.[k]}</${k}>`);
  return lines.length === 0 ? [] : ['      <iotune>', ...lines, '      </iotune>'];
}

/** One `<interface>` element (Nova's `LibvirtConfigGuestInterface` for a Linux bridge). */
export function nicXml(nic: NicSpec): string {
  return [
    "    <interface type='bridge'>",
    `      <mac address='${nic.mac}'/>`,
    `      <source bridge='${nic.bridge}'/>`,
    `      <target dev='${nic.targetDev}'/>`,
    "      <model type='virtio'/>",
    ...(nic.mtu === undefined ? [] : [`      <mtu size='${nic.mtu}'/>`]),
    '    </interface>',
  ].join('\n');
}

/** The domain XML for `spec`. @throws {InvalidDomainXml} a field libvirt would refuse. */
export function domainXml(spec: DomainSpec): string {
  validate(spec);
  const log = escapeXml(spec.consoleLogPath);
  // KVM guests see the host's CPU model and Nova's timers; TCG emulates its default CPU.
  const kvm = spec.virtType === 'kvm';
  return [
    `<domain type='${spec.virtType}'>`,
    `  <name>${spec.name}</name>`,
    `  <uuid>${spec.uuid}</uuid>`,
    `  <memory unit='KiB'>${spec.memoryMiB * 1024}</memory>`,
    `  <vcpu>${spec.vcpus}</vcpu>`,
    '  <os>',
    `    <type arch='x86_64' machine='${spec.machineType ?? 'q35'}'>hvm</type>`,
    "    <boot dev='hd'/>",
    '  </os>',
    '  <features>',
    '    <acpi/>',
    '    <apic/>',
    '  </features>',
    ...(kvm ? ["  <cpu mode='host-model'/>"] : []),
    "  <clock offset='utc'>",
    ...(kvm ? ["    <timer name='pit' tickpolicy='delay'/>", "    <timer name='rtc' tickpolicy='catchup'/>"] : []),
    "    <timer name='hpet' present='no'/>",
    '  </clock>',
    '  <on_poweroff>destroy</on_poweroff>',
    '  <on_reboot>restart</on_reboot>',
    '  <on_crash>destroy</on_crash>',
    '  <devices>',
    ...spec.disks.map(diskXml),
    ...spec.nics.map(nicXml),
    "    <serial type='file'>",
    `      <source path='${log}'/>`,
    "      <target port='0'/>",
    '    </serial>',
    "    <console type='file'>",
    `      <source path='${log}'/>`,
    "      <target type='serial' port='0'/>",
    '    </console>',
    "    <memballoon model='virtio'>",
    "      <stats period='10'/>",
    '    </memballoon>',
    "    <rng model='virtio'>",
    "      <backend model='random'>/dev/urandom</backend>",
    '    </rng>',
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}
