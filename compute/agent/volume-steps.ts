import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Logger } from '../../common/logger.ts';
import { type BlockDeviceMapping, blockDevicesOf, changeBlockDevices, rootVolume } from '../block-device-record.ts';
import { releaseVolumes } from '../release-volumes.ts';
import { T } from '../records.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { VolumeApi } from '../volume-api.ts';
import type { WorkItem } from '../work-queue.ts';
import { DomainNotFound } from './hypervisor/errors.ts';
import { type DiskSpec, IOTUNE_KEYS } from './hypervisor/domain-xml.ts';
import type { Hypervisor } from './hypervisor/types.ts';

export interface VolumeStepsOptions {
  readonly host: string;
  readonly hostIp: string;
  /** Nova's `block_device_allocate_retries` (60): how often a volume compute made is looked at before the build gives up. */
  readonly allocateRetries?: number;
  /** Nova's `block_device_allocate_retries_interval` (3 s), in ms. */
  readonly allocateRetryIntervalMs?: number;
}

/**
 * The compute host's half of attaching and detaching volumes (Nova's `attach_volume`,
 * `detach_volume` and `_shutdown_instance` in compute/manager.py, with
 * `DriverVolumeBlockDevice`): the host's connector given to Cinder's attachment (which answers
 * with the connection: a local file here), the volume's disk put into or taken out of the
 * domain through the hypervisor driver, and the attachment completed or deleted, all with the
 * user's token. Each step looks at the mapping first, so a task run again ends the same way.
 */
export class VolumeSteps {
  private readonly options: VolumeStepsOptions;
  private readonly store: ComputeStore;
  private readonly hypervisor: Hypervisor;
  private readonly volumes: VolumeApi;
  private readonly logger: Logger;

  constructor(options: VolumeStepsOptions, deps: { store: ComputeStore; hypervisor: Hypervisor; volumes: VolumeApi; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.hypervisor = deps.hypervisor;
    this.volumes = deps.volumes;
    this.logger = deps.logger;
  }

  run(item: WorkItem): Promise<void> {
    return item.task === 'attach-volume' ? this.attach(item) : this.detach(item);
  }

  /** libvirt's volume connector as Nova's driver gives it (`get_volume_connector`), with the mount point Nova adds. */
  private connector(m: BlockDeviceMapping): Record<string, unknown> {
    return { host: this.options.host, ip: this.options.hostIp, platform: 'x86_64', os_type: 'linux', multipath: false, do_local_attach: false, mountpoint: m.device_name };
  }

  private setMapping(server: string, volumeId: string, change: (m: BlockDeviceMapping) => BlockDeviceMapping | undefined): Promise<readonly BlockDeviceMapping[]> {
    return changeBlockDevices(this.store, server, (mappings) => {
      const i = mappings.findIndex((m) => m.volume_id === volumeId);
      if (i < 0) return undefined;
      const next = change(mappings[i] as BlockDeviceMapping);
      return next === undefined ? mappings.filter((_, j) => j !== i) : mappings.map((m, j) => (j === i ? next : m));
    });
  }

  /**
   * This host's connector to Cinder's attachment; Cinder answers the connection, which must be
   * os-brick's `local` one (the volume host's file) and reachable from here.
   */
  private async connect(token: string, m: BlockDeviceMapping): Promise<NonNullable<BlockDeviceMapping['connection']>> {
    // A connection known before (a move) is checked first, so a host that cannot reach it leaves Cinder's attachment as it was.
    if (m.connection !== undefined) await this.reachable(m.volume_id, m.connection.path);
    const attachment = await this.volumes.attachmentUpdate(token, m.attachment_id as string, this.connector(m));
    const data = (attachment.connection_info['data'] ?? {}) as Record<string, unknown>;
    const path = data['device_path'];
    if (attachment.connection_info['driver_volume_type'] !== 'local' || typeof path !== 'string') throw new Error(`volume ${m.volume_id}: no local connection (${JSON.stringify(attachment.connection_info).slice(0, 200)})`);
    // Nova's LibvirtBaseVolumeDriver: `ro` makes the disk `<readonly/>`, `rw` or none a writable one, anything else is refused.
    const mode = data['access_mode'];
    if (mode !== undefined && mode !== null && mode !== '' && mode !== 'ro' && mode !== 'rw') throw new Error(`volume ${m.volume_id}: Invalid access mode: ${String(mode)}`);
    await this.reachable(m.volume_id, path);
    const iotune = iotuneOf(m.volume_id, data['qos_specs']);
    return { path, format: data['format'] === 'qcow2' ? 'qcow2' : 'raw', readOnly: mode === 'ro', ...(iotune ? { iotune } : {}) };
  }

  /** A local connection names a file on the volume host: a compute host on another machine cannot open it. */
  private async reachable(volumeId: string, path: string): Promise<void> {
    await access(path, constants.R_OK | constants.W_OK).catch((err) => {
      throw new Error(`volume ${volumeId}: its file ${path} (a local connection on the volume host) cannot be opened on host ${this.options.host}`, { cause: err });
    });
  }

  /**
   * Connect, attach, complete. A failure undoes what it did, as Nova's does: the disk out of the
   * domain, Cinder's attachment deleted (the volume `available` again), the mapping gone.
   */
  private async attach(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    const volumeId = item.volumeId as string;
    const m = (await blockDevicesOf(this.store, item.server)).find((x) => x.volume_id === volumeId);
    if (!server || !m || m.attachment_id === null || m.attached) return;
    const target = m.device_name.replace(/^\/dev\//, '');
    try {
      const connection = await this.connect(item.token, m);
      await this.hypervisor.attachDisk(server.instance_name, { ...connection, targetDev: target, serial: volumeId });
      await this.setMapping(server.uuid, volumeId, (x) => ({ ...x, connection }));
      await this.volumes.attachmentComplete(item.token, m.attachment_id);
      await this.setMapping(server.uuid, volumeId, (x) => ({ ...x, attached: true }));
      this.logger.info('volume attached', { server: server.uuid, volume: volumeId, device: m.device_name });
    } catch (err) {
      this.logger.error('volume attach failed; undone', { server: server.uuid, volume: volumeId, err });
      await this.hypervisor.detachDisk(server.instance_name, target).catch(() => undefined);
      await this.volumes.attachmentDelete(item.token, m.attachment_id).catch((e) => this.logger.warn('attachment delete failed', { volume: volumeId, err: e }));
      await this.setMapping(server.uuid, volumeId, () => undefined);
    }
  }

  /** The disk out of the domain, the attachment deleted; a failure rolls the volume back to `in-use` (Nova's `roll_detaching`). */
  private async detach(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    const volumeId = item.volumeId as string;
    const m = (await blockDevicesOf(this.store, item.server)).find((x) => x.volume_id === volumeId);
    if (!server || !m) return;
    try {
      await this.hypervisor.detachDisk(server.instance_name, m.device_name.replace(/^\/dev\//, '')).catch((err) => {
        if (!(err instanceof DomainNotFound)) throw err;
      });
      if (m.attachment_id !== null) await this.volumes.attachmentDelete(item.token, m.attachment_id);
      await this.setMapping(server.uuid, volumeId, () => undefined);
      this.logger.info('volume detached', { server: server.uuid, volume: volumeId });
    } catch (err) {
      this.logger.error('volume detach failed', { server: server.uuid, volume: volumeId, err });
      await this.volumes.rollDetaching(item.token, volumeId).catch(() => undefined);
    }
  }

  private async setByUuid(server: string, uuid: string, change: (m: BlockDeviceMapping) => BlockDeviceMapping): Promise<BlockDeviceMapping> {
    const after = await changeBlockDevices(this.store, server, (mappings) => (mappings.some((m) => m.uuid === uuid) ? mappings.map((m) => (m.uuid === uuid ? change(m) : m)) : undefined));
    const m = after.find((x) => x.uuid === uuid);
    if (!m) throw new Error(`server ${server}: block device ${uuid} is gone`);
    return m;
  }

  /**
   * A volume compute made, once Cinder has it `available` (Nova's `_await_block_device_map_created`):
   * `creating` and `downloading` are looked at again until the retries are spent, any other
   * status fails at once (Nova's `VolumeNotCreated`, its text).
   */
  private async awaitAvailable(token: string, volumeId: string): Promise<void> {
    const retries = Math.max(1, this.options.allocateRetries ?? 60);
    const interval = this.options.allocateRetryIntervalMs ?? 3000;
    const start = this.store.clock.monotonic();
    let status = 'unknown';
    let attempt = 1;
    for (; attempt <= retries; attempt++) {
      status = (await this.volumes.get(token, volumeId))?.status ?? 'deleted';
      if (status === 'available') return;
      if (status !== 'creating' && status !== 'downloading') break;
      if (attempt < retries) await this.store.clock.sleep(interval);
    }
    const seconds = Math.floor((this.store.clock.monotonic() - start) / 1000);
    throw new Error(`Volume ${volumeId} did not finish being created even after we waited ${seconds} seconds or ${Math.min(attempt, retries)} attempts. And its status is ${status}.`);
  }

  /**
   * A new server's volumes before its guest is defined (Nova's `_prep_block_device` with the
   * `DriverVol{Image,Snapshot,Blank}BlockDevice` and `DriverVolumeBlockDevice` attach): a volume
   * compute makes is created in Cinder with the user's token (from the image or the snapshot,
   * or empty), awaited until `available` and reserved for the server; then each mapping's
   * attachment gets this host's connector and is completed (the volume `in-use`). Returns the
   * disks for the domain, the root volume (`vda`) first. Each step is recorded in the mapping,
   * so a build run again goes on from where it stopped and never makes a volume twice.
   */
  async prepareBoot(token: string, server: ServerRecord): Promise<DiskSpec[]> {
    const disks: DiskSpec[] = [];
    const mappings = [...(await blockDevicesOf(this.store, server.uuid))].sort((a, b) => (a.boot_index === 0 ? -1 : b.boot_index === 0 ? 1 : 0));
    for (let m of mappings) {
      if (m.volume_id === '' && m.source !== undefined) {
        const src = m.source;
        const made = await this.volumes.create(token, { size: src.volume_size, name: '', ...(src.type === 'image' ? { imageRef: src.id as string } : {}), ...(src.type === 'snapshot' ? { snapshot_id: src.id as string } : {}) });
        m = await this.setByUuid(server.uuid, m.uuid, (x) => ({ ...x, volume_id: made.id }));
        this.logger.info('volume created for the server', { server: server.uuid, volume: made.id, source: src.type });
      }
      if (m.attachment_id === null) {
        await this.awaitAvailable(token, m.volume_id);
        const attachment = await this.volumes.attachmentCreate(token, m.volume_id, server.uuid);
        m = await this.setByUuid(server.uuid, m.uuid, (x) => ({ ...x, attachment_id: attachment.id }));
      }
      if (!m.attached || m.connection === undefined) {
        const connection = await this.connect(token, m);
        await this.volumes.attachmentComplete(token, m.attachment_id as string);
        m = await this.setByUuid(server.uuid, m.uuid, (x) => ({ ...x, connection, attached: true }));
      }
      disks.push({ ...(m.connection as NonNullable<BlockDeviceMapping['connection']>), targetDev: m.device_name.replace(/^\/dev\//, ''), serial: m.volume_id });
    }
    return disks;
  }

  /** The root volume's disk for a domain defined again (rebuild, resize, a move's target once connected there). */
  async rootDisk(server: string): Promise<DiskSpec | undefined> {
    const m = rootVolume(await blockDevicesOf(this.store, server));
    return m?.connection === undefined ? undefined : { ...m.connection, targetDev: 'vda', serial: m.volume_id };
  }

  /**
   * A volume-backed server's root volume connected on this host before its domain is defined
   * here (a move's target, a revert's source): its attachment given this host's connector and
   * completed. The other volumes follow the domain (`connectHere`).
   */
  async connectRootHere(token: string, server: ServerRecord): Promise<void> {
    const m = rootVolume(await blockDevicesOf(this.store, server.uuid));
    if (m === undefined || m.attachment_id === null) return;
    const connection = await this.connect(token, m);
    await this.setByUuid(server.uuid, m.uuid, (x) => ({ ...x, connection }));
    await this.volumes.attachmentComplete(token, m.attachment_id);
  }

  /** A server's volumes at its delete, its domain already gone (release-volumes.ts). */
  release(token: string, server: ServerRecord): Promise<void> {
    return releaseVolumes(this.store, this.volumes, token, server.uuid, this.logger);
  }

  /**
   * The server's attached volumes connected on this host, into its domain defined here (Nova's
   * `_update_volume_attachments` and `_complete_volume_attachments` in finish_resize and
   * finish_revert_resize): each attachment updated with this host's connector (Cinder records
   * the host and answers the connection), the disk put into the domain, the attachment completed.
   * With `reserved` (an unshelve), also the volumes attached while the server had no host, which
   * are then attached (Nova's unshelve `_prep_block_device`); otherwise a mapping not attached yet
   * is an attach under way and is left to it.
   * A volume this host cannot reach fails the move (the caller's rollback) before the guest starts.
   */
  async connectHere(token: string, server: ServerRecord, options: { readonly reserved?: boolean } = {}): Promise<void> {
    for (const m of await blockDevicesOf(this.store, server.uuid)) {
      // The root volume is in the domain's definition already (connectRootHere).
      if (m.attachment_id === null || m.boot_index === 0 || (!m.attached && options.reserved !== true)) continue;
      const connection = await this.connect(token, m);
      await this.hypervisor.attachDisk(server.instance_name, { ...connection, targetDev: m.device_name.replace(/^\/dev\//, ''), serial: m.volume_id });
      await this.setMapping(server.uuid, m.volume_id, (x) => ({ ...x, connection }));
      await this.volumes.attachmentComplete(token, m.attachment_id);
      if (!m.attached) await this.setMapping(server.uuid, m.volume_id, (x) => ({ ...x, attached: true }));
      this.logger.info('volume connected on this host', { server: server.uuid, volume: m.volume_id, host: this.options.host });
    }
  }

  /** Puts the attached volumes back into a domain defined again (rebuild, resize), which the new XML left out. */
  async reattach(server: ServerRecord): Promise<void> {
    for (const m of await blockDevicesOf(this.store, server.uuid)) {
      if (m.connection === undefined || m.boot_index === 0) continue;
      await this.hypervisor.attachDisk(server.instance_name, { ...m.connection, targetDev: m.device_name.replace(/^\/dev\//, ''), serial: m.volume_id });
    }
  }
}

/**
 * The disk's `<iotune>` from the connection's `qos_specs` (Nova's LibvirtBaseVolumeDriver): the
 * keys libvirt has, others ignored; none when there are no specs. A limit that is not a whole
 * number fails the attach, as libvirt refuses it.
 */
function iotuneOf(volumeId: string, specs: unknown): Record<string, number> | undefined {
  if (!specs || typeof specs !== 'object' || Array.isArray(specs)) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(specs)) {
    if (!(IOTUNE_KEYS as readonly string[]).includes(key) || value === null) continue;
    if (!/^\d+$/.test(String(value))) throw new Error(`volume ${volumeId}: QoS spec ${key}=${String(value)} is not a whole number`);
    out[key] = Number(value);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
