import type { LocalDisk } from './local-disks.ts';

/**
 * A server as compute keeps it (`servers/<uuid>`): Nova's instance fields, with the flavor
 * copied in at boot (Nova keeps `instance.flavor` too, so a deleted flavor does not change a
 * running server). The API writes it at create; the host's agent moves its states.
 */
export type VmState = 'building' | 'active' | 'stopped' | 'paused' | 'suspended' | 'error' | 'deleted' | 'resized' | 'shelved' | 'shelved_offloaded' | 'rescued';

/** Nova's task states, those this cloud passes through. */
export type TaskState =
  | 'image_snapshot' | 'image_backup' | 'scheduling' | 'networking' | 'block_device_mapping' | 'spawning' | 'deleting' | 'powering-off' | 'powering-on' | 'rebooting' | 'rebooting_hard'
  | 'pausing' | 'unpausing' | 'suspending' | 'resuming'
  | 'rebuilding' | 'rebuild_spawning'
  | 'resize_prep' | 'resize_migrating' | 'resize_migrated' | 'resize_finish' | 'resize_reverting'
  | 'shelving' | 'shelving_image_pending_upload' | 'shelving_image_uploading' | 'shelving_offloading' | 'unshelving'
  | 'rescuing' | 'unrescuing'
  | null;

const REBUILD_TASKS: ReadonlySet<TaskState> = new Set(['rebuilding', 'rebuild_spawning']);
const RESIZE_TASKS: ReadonlySet<TaskState> = new Set(['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish']);

export interface ServerFlavor {
  readonly flavorid: string;
  readonly name: string;
  readonly vcpus: number;
  readonly ram: number;
  readonly disk: number;
  readonly ephemeral: number;
  readonly swap: number;
  readonly extra_specs: Readonly<Record<string, string>>;
}

/** What the user asked for each NIC (`networks`), resolved to ports by the agent. */
export interface RequestedNetwork {
  readonly uuid?: string;
  readonly port?: string;
  readonly fixed_ip?: string;
}

/** One address as Nova's `addresses` shows it, under its network's name. */
export interface ServerAddress {
  readonly version: 4 | 6;
  readonly addr: string;
  readonly 'OS-EXT-IPS:type': 'fixed' | 'floating';
  readonly 'OS-EXT-IPS-MAC:mac_addr': string;
}

/** A NIC the agent made or bound: the port, and whether compute created it (and so deletes it). */
export interface ServerPort {
  readonly portId: string;
  readonly networkId: string;
  readonly mac: string;
  readonly created: boolean;
  /** The device tag an interface attach gave it (os-interface 2.49). */
  readonly tag?: string;
}

export interface ServerFault {
  readonly code: number;
  readonly message: string;
  readonly created: string;
  readonly details?: string;
}

export interface ServerRecord {
  readonly uuid: string;
  readonly name: string;
  readonly description: string | null;
  readonly project_id: string;
  readonly user_id: string;
  /** '' for a server booted from a volume without `imageRef` (Nova's `image: ""`). */
  readonly image_ref: string;
  /** Booted from a volume (Nova's `is_volume_backed`): the root disk is its boot mapping's volume, not a copy of the image on the host. */
  readonly volume_backed?: boolean;
  /**
   * Its claims leave out the flavor's root disk (set at boot with `volume_backed`, Nova's
   * is_bfv). A volume-backed server booted before claims did so has none: it was claimed with
   * its root disk, and every release of it gives that back (`flavorClaim`).
   */
  readonly root_disk_unclaimed?: boolean;
  /**
   * The server has (or had) a block-devices record: a volume at boot or attached since. Show,
   * list and the build read that record only then, so servers without volumes cost no extra read.
   */
  readonly volume_mappings?: boolean;
  /**
   * Its ephemeral and swap disks on the host (Nova's blank `local` mappings), set at boot and
   * by a resize. A server recorded before had none made: absent is none.
   */
  readonly local_disks?: readonly LocalDisk[];
  /** The booted image's `os_type` (Nova's `instance.os_type`): it picks an ephemeral disk's default file system. */
  readonly os_type?: string | null;
  readonly flavor: ServerFlavor;
  readonly key_name: string | null;
  readonly key_data: string | null;
  readonly user_data: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly security_groups: readonly string[];
  /** `auto`, `none`, or the NICs asked for. */
  readonly networks: 'auto' | 'none' | readonly RequestedNetwork[];
  /** The zone asked for (null: any); the host's zone once placed. */
  readonly availability_zone: string | null;
  readonly config_drive: string;
  readonly reservation_id: string;
  readonly launch_index: number;
  readonly hostname: string;
  /** The domain's name on the host (`instance-<8 hex>`). */
  readonly instance_name: string;
  readonly host: string | null;
  readonly vm_state: VmState;
  readonly task_state: TaskState;
  /** Nova's numeric power state (0 pending, 1 running, 3 paused, 4 shutdown, 6 crashed, 7 suspended). */
  readonly power_state: number;
  readonly ports: readonly ServerPort[];
  readonly addresses: Readonly<Record<string, readonly ServerAddress[]>>;
  readonly locked_by: 'owner' | 'admin' | null;
  readonly locked_reason: string | null;
  readonly tags: readonly string[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly launched_at: string | null;
  readonly fault: ServerFault | null;
  readonly access_ip_v4: string;
  readonly access_ip_v6: string;
  /** The server group it booted into (the `group` scheduler hint); absent: none. */
  readonly server_group?: string;
  /** A resize in progress or waiting to be confirmed or reverted (Nova's Migration). */
  readonly migration?: ServerMigration;
  /** The zone the boot asked for (Nova's request spec `availability_zone`), which an unshelve's scheduling keeps; absent: none. */
  readonly requested_availability_zone?: string;
  /** A shelved server's snapshot (Nova's `shelved_*` system metadata); absent when not shelved or shelved from a volume. */
  readonly shelved?: ServerShelved;
}

/** Nova's `shelved_at`, `shelved_image_id` and `shelved_host` system metadata. */
export interface ServerShelved {
  readonly at: string;
  readonly image_id: string;
  readonly host: string;
}

/**
 * What a resize keeps until it is confirmed or reverted: the consumer id holding the old
 * flavor's claim on the host (Nova moves the source allocation to the migration's UUID), the
 * old flavor, and the vm state to go back to (Nova's `old_vm_state`).
 */
export interface ServerMigration {
  readonly id: string;
  readonly old_flavor: ServerFlavor;
  readonly new_flavor: ServerFlavor;
  readonly old_vm_state: 'active' | 'stopped';
  /** `resize` or `migration` (a cold migration keeps the flavor), as Nova's Migration.migration_type. */
  readonly migration_type?: 'resize' | 'migration';
  /** The host the server left and the one it goes to (the same for a resize in place); absent on records older than moves. */
  readonly source_compute?: string;
  readonly dest_compute?: string;
  /** The local disks before the resize, for a revert (absent: the server had none recorded). */
  readonly old_local_disks?: readonly LocalDisk[];
}

/** Nova's `_STATE_MAP` (nova/api/openstack/common.py): the API `status` of a vm and task state. */
export function serverStatus(vm: VmState, task: TaskState): string {
  switch (vm) {
    case 'active':
      if (task === 'rebooting') return 'REBOOT';
      if (task === 'rebooting_hard') return 'HARD_REBOOT';
      if (REBUILD_TASKS.has(task)) return 'REBUILD';
      if (RESIZE_TASKS.has(task)) return 'RESIZE';
      return 'ACTIVE';
    case 'building':
      return 'BUILD';
    case 'stopped':
      if (REBUILD_TASKS.has(task)) return 'REBUILD';
      if (RESIZE_TASKS.has(task)) return 'RESIZE';
      return 'SHUTOFF';
    case 'paused':
      return 'PAUSED';
    case 'suspended':
      return 'SUSPENDED';
    case 'error':
      return REBUILD_TASKS.has(task) ? 'REBUILD' : 'ERROR';
    case 'deleted':
      return 'DELETED';
    case 'resized':
      return task === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case 'shelved':
      return 'SHELVED';
    case 'shelved_offloaded':
      return 'SHELVED_OFFLOADED';
    case 'rescued':
      return 'RESCUE';
  }
}

/** Statuses a `status` filter accepts (Nova's reverse map), to vm states. */
export const STATUS_TO_VM_STATES: Readonly<Record<string, readonly VmState[]>> = {
  ACTIVE: ['active'],
  BUILD: ['building'],
  SHUTOFF: ['stopped'],
  PAUSED: ['paused'],
  SUSPENDED: ['suspended'],
  ERROR: ['error'],
  DELETED: ['deleted'],
  VERIFY_RESIZE: ['resized'],
  REVERT_RESIZE: ['resized'],
  SHELVED: ['shelved'],
  SHELVED_OFFLOADED: ['shelved_offloaded'],
  RESCUE: ['rescued'],
  REBUILD: ['active', 'stopped', 'error'],
  RESIZE: ['active', 'stopped'],
  REBOOT: ['active'],
  HARD_REBOOT: ['active'],
};
