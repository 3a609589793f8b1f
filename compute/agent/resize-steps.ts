import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { volumesOf } from '../block-device-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { ephemeralFloor, type LocalDisk, localDisksAfterResize } from '../local-disks.ts';
import { setMigrationStatus } from '../migration-record.ts';
import { T } from '../records.ts';
import { flavorClaim, restoreSourceClaim, revertResizeClaim } from '../resize-claims.ts';
import { releaseOn } from '../scheduler/claims.ts';
import type { ServerFlavor, ServerMigration, ServerRecord, TaskState, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { enqueue, type WorkItem } from '../work-queue.ts';
import type { DiskTransfer } from './disk-transfer.ts';
import { diskFormatOf } from './disk-format.ts';
import { POWER_STATE_CODES, type Hypervisor, type PowerState } from './hypervisor/types.ts';
import type { LocalDiskFiles } from './local-disk-files.ts';
import type { VolumeSteps } from './volume-steps.ts';

/** Nova's `ResizeError` for a flavor with a smaller disk (`migrate_disk_and_power_off`): the server goes back as it was. */
class ResizeDiskDown extends Error {
  constructor() {
    super('Resize error: Unable to resize disk down.');
    this.name = 'ResizeDiskDown';
  }
}

/**
 * Nova's check before a resize moves anything (`migrate_disk_and_power_off`): a local root disk
 * or the ephemeral disks would be smaller under the new flavor. @throws {ResizeDiskDown}
 */
function checkDiskDown(server: ServerRecord, m: ServerMigration): void {
  const rootDown = !server.volume_backed && m.new_flavor.disk < m.old_flavor.disk;
  if (rootDown || m.new_flavor.ephemeral < ephemeralFloor(server.local_disks ?? [], m.old_flavor)) throw new ResizeDiskDown();
}

/** The local disk files a move carries (an image root's `disk` aside): ephemeral ones, at most the local device limit's. Swap is made again on the target. */
const TRAVELLING = ['disk.eph0', 'disk.eph1', 'disk.eph2', 'disk.local'] as const;

/** The object a moving server's local disk file goes to (beside the root disk's `key`; not under `key/`, where its segments are). */
function travelKey(key: string, file: string): string {
  return `${key}.${file}`;
}

export interface ResizeOptions {
  readonly host: string;
  readonly stateDir: string;
  readonly stopTimeoutMs: number;
}

/** What the agent lends the resize steps: one way per host to set a server's state, read and write its guest, bind its ports. */
export interface ResizeGuestOps {
  setState(uuid: string, vm: VmState, task: TaskState, extra?: Partial<ServerRecord>): Promise<ServerRecord | undefined>;
  domainState(name: string): Promise<PowerState | undefined>;
  domainXml(server: ServerRecord, flavor: ServerFlavor, format: 'qcow2' | 'raw'): Promise<string>;
  diskFormat(name: string): Promise<'qcow2' | 'raw'>;
  removeGuest(name: string, uuid: string): Promise<void>;
  bindPorts(server: ServerRecord, host: string): Promise<void>;
  connectRoot(token: string, server: ServerRecord): Promise<void>;
}

export interface ResizeDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly hypervisor: Hypervisor;
  readonly disks: DiskTransfer;
  readonly localDisks: LocalDiskFiles;
  readonly volumeSteps: VolumeSteps | undefined;
  readonly logger: Logger;
  readonly guests: ResizeGuestOps;
}

/**
 * A host's side of resizes and cold migrations (Nova's `prep_resize` ... `finish_revert_resize`):
 * in place, or as a move whose disks travel through the cluster, the source and the target each
 * running their half from their own queue; confirm and revert on either side.
 */
export class ResizeSteps {
  private readonly options: ResizeOptions;
  private readonly store: ComputeStore;
  private readonly hosts: RecordHostStateStore;
  private readonly hypervisor: Hypervisor;
  private readonly disks: DiskTransfer;
  private readonly localDisks: LocalDiskFiles;
  private readonly volumeSteps: VolumeSteps | undefined;
  private readonly logger: Logger;
  private readonly guests: ResizeGuestOps;
  private readonly clock: Clock;

  constructor(options: ResizeOptions, deps: ResizeDeps) {
    this.options = options;
    this.store = deps.store;
    this.hosts = deps.hosts;
    this.hypervisor = deps.hypervisor;
    this.disks = deps.disks;
    this.localDisks = deps.localDisks;
    this.volumeSteps = deps.volumeSteps;
    this.logger = deps.logger;
    this.guests = deps.guests;
    this.clock = deps.store.clock;
  }

  /**
   * A resize in place (the claims are already made by the API): the guest powered off,
   * defined again with the new flavor, started again if it ran, and left VERIFY_RESIZE
   * (`resized`) for the user to confirm or revert. Each step is safe to run again.
   */
  async resize(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    const steps: readonly TaskState[] = ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'];
    if (!server?.migration || !steps.includes(server.task_state)) return;
    const m = server.migration;
    const target = m.dest_compute ?? this.options.host;
    if (target !== this.options.host) return this.migrate(item, server, m, target);
    const name = server.instance_name;
    try {
      checkDiskDown(server, m);
      await this.guests.setState(server.uuid, server.vm_state, 'resize_migrating');
      await setMigrationStatus(this.store, m.id, 'migrating');
      if ((await this.guests.domainState(name)) === 'running') await this.hypervisor.stop(name, { timeoutMs: this.options.stopTimeoutMs });
      await this.guests.setState(server.uuid, server.vm_state, 'resize_migrated');
      await setMigrationStatus(this.store, m.id, 'post-migrating');
      const disks = await this.resizedLocalDisks(server, m);
      await this.localDisks.replace(server, disks);
      await this.hypervisor.define(await this.guests.domainXml({ ...server, local_disks: disks }, m.new_flavor, await this.guests.diskFormat(name)));
      await this.volumeSteps?.reattach(server);
      await this.guests.setState(server.uuid, server.vm_state, 'resize_finish');
      if (m.old_vm_state === 'active' && (await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
      await this.guests.setState(server.uuid, 'resized', null, { flavor: m.new_flavor, power_state: POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'], local_disks: disks, migration: { ...m, old_local_disks: server.local_disks ?? [] } });
      await setMigrationStatus(this.store, m.id, 'finished');
      this.logger.info('server resized', { server: server.uuid, flavor: m.new_flavor.flavorid });
    } catch (err) {
      // Nova leaves a failed resize in ERROR with its fault (a disk that would shrink: as it was, Nova's
      // InstanceFaultRollback); the new flavor's claim is given back.
      this.logger.error('resize failed', { server: server.uuid, err });
      await revertResizeClaim(this.hosts, this.options.host, server.uuid, m.id, m.old_flavor, m.new_flavor, server.root_disk_unclaimed);
      await setMigrationStatus(this.store, m.id, 'error');
      const message = err instanceof Error ? err.message : String(err);
      const vmState = err instanceof ResizeDiskDown ? m.old_vm_state : 'error';
      await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
        const { migration: _gone, ...rest } = cur.value;
        return { ...rest, flavor: m.old_flavor, vm_state: vmState, task_state: null, fault: { code: 500, message, created: this.store.isoSeconds() }, updated_at: this.store.isoSeconds() };
      });
    }
  }

  /** revertResize: the guest defined again with the old flavor, in the state it had before; the claims as they were. */
  async revert(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server?.migration || server.task_state !== 'resize_reverting') return;
    const m = server.migration;
    const name = server.instance_name;
    const source = m.source_compute ?? this.options.host;
    if (source !== this.options.host) {
      // Nova's revert_resize on the target: its guest, disk and claim go; the source takes over.
      await this.guests.removeGuest(name, server.uuid);
      await releaseOn(this.hosts, this.options.host, flavorClaim(server.uuid, m.new_flavor, server.root_disk_unclaimed));
      await enqueue(this.store, source, this.clock.now(), { server: server.uuid, task: 'resize-revert-finish', token: item.token, requestId: item.requestId });
      this.logger.info('resize reverted on the target', { server: server.uuid, source });
      return;
    }
    if ((await this.guests.domainState(name)) === 'running') await this.hypervisor.stop(name, { timeoutMs: this.options.stopTimeoutMs });
    // The old flavor's swap again, and no ephemeral disk the resize added (a resize recorded before local disks changes none).
    const disks = m.old_local_disks ?? server.local_disks;
    if (m.old_local_disks !== undefined) await this.localDisks.replace(server, m.old_local_disks);
    await this.hypervisor.define(await this.guests.domainXml({ ...server, local_disks: disks }, m.old_flavor, await this.guests.diskFormat(name)));
    await this.volumeSteps?.reattach(server);
    if (m.old_vm_state === 'active') await this.hypervisor.start(name);
    await revertResizeClaim(this.hosts, this.options.host, server.uuid, m.id, m.old_flavor, m.new_flavor, server.root_disk_unclaimed);
    const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
    await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
      const { migration: _gone, ...rest } = cur.value;
      return { ...rest, flavor: m.old_flavor, ...(disks !== undefined ? { local_disks: disks } : {}), vm_state: m.old_vm_state, task_state: null, power_state: power, updated_at: this.store.isoSeconds() };
    });
    await setMigrationStatus(this.store, m.id, 'reverted');
    this.logger.info('resize reverted', { server: server.uuid, flavor: m.old_flavor.flavorid });
  }

  /**
   * A move's first half on the source (Nova's resize_instance): the guest powered off, its disk
   * uploaded to the cluster under the migration's id, and the target's agent asked to finish.
   * The guest stays defined here, off, until confirm or revert.
   */
  private async migrate(item: WorkItem, server: ServerRecord, m: ServerMigration, target: string): Promise<void> {
    const name = server.instance_name;
    // A rerun after the disk was sent only queues the finish again (it runs once: it checks the state).
    if (server.task_state === 'resize_finish') return;
    if (server.task_state === 'resize_migrated') {
      await enqueue(this.store, target, this.clock.now(), { server: server.uuid, task: 'resize-finish', token: item.token, requestId: item.requestId });
      return;
    }
    try {
      checkDiskDown(server, m);
      await this.guests.setState(server.uuid, server.vm_state, 'resize_migrating');
      await setMigrationStatus(this.store, m.id, 'migrating');
      if ((await this.guests.domainState(name)) === 'running') await this.hypervisor.stop(name, { timeoutMs: this.options.stopTimeoutMs });
      // A root volume stays on its volume host; only a local root disk travels, with the ephemeral disks (swap is made anew).
      if (!server.volume_backed) await this.disks.upload(m.id, join(this.options.stateDir, server.uuid, 'disk'));
      for (const d of server.local_disks ?? []) if (d.kind === 'ephemeral') await this.disks.upload(travelKey(m.id, d.file), join(this.options.stateDir, server.uuid, d.file));
      await this.guests.setState(server.uuid, server.vm_state, 'resize_migrated', { power_state: POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'] });
      await setMigrationStatus(this.store, m.id, 'post-migrating');
      await enqueue(this.store, target, this.clock.now(), { server: server.uuid, task: 'resize-finish', token: item.token, requestId: item.requestId });
      this.logger.info('server disk sent', { server: server.uuid, source: this.options.host, target });
    } catch (err) {
      await this.failMove(server, m, err, err instanceof ResizeDiskDown);
    }
  }

  /**
   * A move's second half on the target (Nova's finish_resize): the disk downloaded, the ports
   * bound to this host (compute's own token, as at boot), the guest defined with the new flavor,
   * its volumes connected here (they stay on the volume host: docs/decisions.md) and started if
   * it ran; the server is here now, VERIFY_RESIZE.
   */
  async finish(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server?.migration || (server.task_state !== 'resize_migrated' && server.task_state !== 'resize_finish')) return;
    const m = server.migration;
    const name = server.instance_name;
    try {
      await this.guests.setState(server.uuid, server.vm_state, 'resize_finish');
      const dir = join(this.options.stateDir, server.uuid);
      await mkdir(dir, { recursive: true });
      const disk = join(dir, 'disk');
      if (!server.volume_backed) await this.disks.download(m.id, disk);
      for (const d of server.local_disks ?? []) if (d.kind === 'ephemeral') await this.disks.download(travelKey(m.id, d.file), join(dir, d.file));
      const disks = await this.resizedLocalDisks(server, m);
      await this.localDisks.replace(server, disks);
      await this.guests.bindPorts(server, this.options.host);
      if (server.volume_backed) await this.guests.connectRoot(item.token, server);
      await this.hypervisor.define(await this.guests.domainXml({ ...server, local_disks: disks }, m.new_flavor, await diskFormatOf(disk)));
      await this.volumeSteps?.connectHere(item.token, server);
      if (m.old_vm_state === 'active' && (await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
      await this.guests.setState(server.uuid, 'resized', null, { host: this.options.host, flavor: m.new_flavor, power_state: POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'], local_disks: disks, migration: { ...m, old_local_disks: server.local_disks ?? [] } });
      await setMigrationStatus(this.store, m.id, 'finished');
      this.logger.info('server moved', { server: server.uuid, source: m.source_compute, target: this.options.host, flavor: m.new_flavor.flavorid });
    } catch (err) {
      await this.guests.removeGuest(name, server.uuid).catch(() => undefined);
      await this.failMove(server, m, err);
    }
  }

  /**
   * Confirm after a move, on the source (Nova's confirm_resize): the old guest undefined, its
   * disk and the temporary object removed. Nothing is removed when the server is here again.
   */
  async confirm(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.host === this.options.host) return;
    if (server) await this.guests.removeGuest(server.instance_name, server.uuid);
    else await rm(join(this.options.stateDir, item.server), { recursive: true, force: true });
    if (item.migration !== undefined) {
      await this.removeTransfer(item.migration);
      await setMigrationStatus(this.store, item.migration, 'confirmed');
    }
    this.logger.info('moved server cleaned from its source', { server: item.server });
  }

  /** Revert after a move, on the source (Nova's finish_revert_resize): ports bound back, the old guest started again, the claim the instance's again. */
  async revertFinish(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server?.migration || server.task_state !== 'resize_reverting') return;
    const m = server.migration;
    const name = server.instance_name;
    await this.guests.bindPorts(server, this.options.host);
    if (server.volume_backed) await this.guests.connectRoot(item.token, server);
    // The source kept its files as they were: the old local disks are there.
    const disks = m.old_local_disks ?? server.local_disks;
    await this.hypervisor.define(await this.guests.domainXml({ ...server, local_disks: disks }, m.old_flavor, await diskFormatOf(join(this.options.stateDir, server.uuid, 'disk'))));
    await this.volumeSteps?.connectHere(item.token, server);
    if (m.old_vm_state === 'active' && (await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
    await restoreSourceClaim(this.hosts, this.options.host, server.uuid, m.id, m.old_flavor, server.root_disk_unclaimed);
    const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
    await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
      const { migration: _gone, ...rest } = cur.value;
      return { ...rest, host: this.options.host, flavor: m.old_flavor, ...(disks !== undefined ? { local_disks: disks } : {}), vm_state: m.old_vm_state, task_state: null, power_state: power, updated_at: this.store.isoSeconds() };
    });
    await this.removeTransfer(m.id);
    await setMigrationStatus(this.store, m.id, 'reverted');
    this.logger.info('move reverted', { server: server.uuid, host: this.options.host });
  }

  /**
   * A move that failed (Nova leaves it in ERROR with its fault): the target's claim given back,
   * the source's the instance's again, the server on its source (where its disk still is).
   */
  private async failMove(server: ServerRecord, m: ServerMigration, err: unknown, rollback = false): Promise<void> {
    this.logger.error('move failed', { server: server.uuid, err });
    const source = m.source_compute ?? this.options.host;
    if (m.dest_compute !== undefined) await releaseOn(this.hosts, m.dest_compute, flavorClaim(server.uuid, m.new_flavor, server.root_disk_unclaimed));
    await restoreSourceClaim(this.hosts, source, server.uuid, m.id, m.old_flavor, server.root_disk_unclaimed);
    await this.removeTransfer(m.id).catch(() => undefined);
    await setMigrationStatus(this.store, m.id, 'error');
    const message = err instanceof Error ? err.message : String(err);
    await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
      const { migration: _gone, ...rest } = cur.value;
      return { ...rest, host: source, flavor: m.old_flavor, vm_state: rollback ? m.old_vm_state : 'error', task_state: null, fault: { code: 500, message, created: this.store.isoSeconds() }, updated_at: this.store.isoSeconds() };
    });
  }

  /** The local disks a resize leaves (`localDisksAfterResize`), clear of the devices its volumes hold. */
  private async resizedLocalDisks(server: ServerRecord, m: ServerMigration): Promise<LocalDisk[]> {
    const volumes = new Set((await volumesOf(this.store, server)).map((v) => v.device_name.replace(/^\/dev\//, '')));
    return localDisksAfterResize(server.local_disks ?? [], m.new_flavor, volumes);
  }

  /** A move's objects in the cluster: the root disk's and the ephemeral disks'. */
  private async removeTransfer(key: string): Promise<void> {
    await this.disks.remove(key);
    for (const file of TRAVELLING) await this.disks.remove(travelKey(key, file));
  }
}
