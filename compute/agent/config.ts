import { serviceCredentialSchema } from '../../client/service-credential.ts';
import { bool, int, oneOf, type Schema, str } from '../../common/config.ts';

/**
 * The `[compute-agent]` section of `swiftlet start compute-agent --config FILE` (or of the file
 * a storage process is given with `--compute-agent`): one compute host. It reaches compute's
 * system account with the same credential as the compute API, Glance and Neutron with the
 * tokens of the users whose servers it builds, and binds ports with compute's own Keystone user
 * (`service_user`, Nova's `[neutron]` credential; required).
 */
export const computeAgentSchema = {
  host: str('', { doc: "this host's name in the scheduler, os-services and os-hypervisors; default: the machine's host name" }),
  availability_zone: str('nova', { nonEmpty: true }),
  host_ip: str('127.0.0.1', { nonEmpty: true, doc: 'the address os-hypervisors shows' }),
  state_dir: str('/var/lib/swiftlet/instances', { nonEmpty: true, doc: "instance disks, console logs and the image cache (Nova's instances_path)" }),
  hypervisor: oneOf('libvirt', ['libvirt', 'memory'] as const, 'libvirt (through @unraid/libvirt) or the in-memory twin'),
  libvirt_uri: str('qemu:///system', { nonEmpty: true, doc: 'test:///default runs guests in the agent process (no daemon)' }),
  virt_type: oneOf('kvm', ['kvm', 'qemu'] as const, 'kvm with hardware virtualization, qemu (TCG) without'),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { nonEmpty: true, doc: "the cluster's v1 auth URL" }),
  account_user: str('.compute:compute', { nonEmpty: true, doc: "the compute API's system account user" }),
  account_key: str('', { doc: "that user's key; required" }),
  image_url: str('http://127.0.0.1:9292', { nonEmpty: true, doc: 'the image service (Glance v2)' }),
  network_url: str('http://127.0.0.1:9696', { nonEmpty: true, doc: 'the network service (Neutron v2.0)' }),
  volume_url: str('http://127.0.0.1:8776', { nonEmpty: true, doc: 'the volume service (Cinder v3) whose volumes this host attaches, without /v3' }),
  ...serviceCredentialSchema,
  heartbeat_interval: int(10, { min: 1, doc: "seconds between heartbeats (Nova's report_interval)" }),
  poll_interval: int(1, { min: 1, doc: 'seconds between looks at the queue' }),
  shutdown_timeout: int(60, { min: 0, doc: "seconds a guest gets to shut down cleanly before it is powered off (Nova's shutdown_timeout)" }),
  concurrency: int(4, { min: 1, doc: 'tasks of different servers run at once' }),
  resize_confirm_window: int(0, { min: 0, doc: "seconds a resize or migration to this host waits in VERIFY_RESIZE before the agent confirms it (Nova's [DEFAULT] option of that name); 0: never" }),
  default_ephemeral_format: str('', { doc: "an ephemeral disk's file system when its block device mapping names none (Nova's option of that name: ext2, ext3, ext4, xfs, vfat...); empty: ext4 for images of os_type linux, ntfs for windows, vfat otherwise, as Nova" }),
  force_config_drive: bool(false, "give every server built here a config drive, as if it had asked (Nova's option of that name)"),
  dhcp_domain: str('novalocal', { doc: "the domain appended to the hostname a config drive gives the guest (Nova's [api] dhcp_domain); empty: none" }),
  mkisofs_cmd: str('genisoimage', { nonEmpty: true, doc: "the program that writes config drives as ISO 9660 images (Nova's option of that name; Debian genisoimage)" }),
  shelved_offload_time: int(0, { min: -1, doc: "seconds a shelved server keeps its guest and claim on this host before the agent offloads it (Nova's option of that name); 0: at once, -1: never (only shelveOffload does)" }),
  shelved_poll_interval: int(3600, { min: 1, doc: "seconds between looks for shelved servers to offload (Nova's option of that name)" }),
  resume_guests_state_on_host_boot: bool(false, "at start, boot again the guests the records say run and that do not (Nova's option of that name); without it they are recorded stopped"),
} as const satisfies Schema;
