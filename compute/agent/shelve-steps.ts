import { randomUUID } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import type { ImageApi } from '../image-api.ts';
import type { NetworkApi } from '../network-api.ts';
import { bindingFields } from '../port-binding.ts';
import { T } from '../records.ts';
import { flavorClaim, serverClaims } from '../resize-claims.ts';
import { releaseOn } from '../scheduler/claims.ts';
import type { ServerFlavor, ServerRecord, TaskState } from '../server-record.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { ComputeStore } from '../store.ts';
import { enqueue, type WorkItem } from '../work-queue.ts';
import { POWER_STATE_CODES, type Hypervisor, type PowerState } from './hypervisor/types.ts';
import type { ImageCache } from './image-cache.ts';
import { powerOff } from './power-off.ts';
import type { VolumeSteps } from './volume-steps.ts';

export interface ShelveOptions {
  readonly host: string;
  /** The host's zone now (its configured one, or an aggregate's). */
  readonly zone: () => Promise<string>;
  readonly stateDir: string;
  /** How long a guest gets to shut down cleanly (Nova's `shutdown_timeout`), in ms. */
  readonly stopTimeoutMs: number;
  /** Nova's `shelved_offload_time`: 0 offloads at once, -1 never, N: after N seconds (`pollShelved`). */
  readonly offloadTimeSeconds: number;
}

/** What the agent lends these steps: one way per host to write, find and remove a guest. */
export interface ShelveGuests {
  domainXml(server: ServerRecord, flavor: ServerFlavor, format: 'qcow2' | 'raw'): Promise<string>;
  domainState(name: string): Promise<PowerState | undefined>;
  removeGuest(name: string, uuid: string): Promise<void>;
  /** The ephemeral and swap disks made blank, the config drive to be made anew (Nova's spawn). */
  makeLocalDisks(server: ServerRecord): Promise<void>;
  /** A volume-backed server's root volume connected on this host. */
  connectRoot(token: string, server: ServerRecord): Promise<void>;
}

/**
 * Shelving on a host (Nova's `shelve_instance`, `shelve_offload_instance`, `unshelve_instance`
 * and `_poll_shelved_instances` in compute/manager.py). Shelve powers the guest off and
 * uploads its root disk into the image the API made (`<name>-shelved`); offload takes the
 * guest, its files and its claim off the host (its ports stay, unbound from the host; its volumes
 * stay attached); unshelve, on the host the API scheduled, boots it again from that image (or
 * its root volume) and deletes the image. Each step checks the server's task first, so a task
 * run again after a restart ends the same way.
 */
export class ShelveSteps {
  private readonly options: ShelveOptions;
  private readonly store: ComputeStore;
  private readonly hosts: RecordHostStateStore;
  private readonly hypervisor: Hypervisor;
  private readonly images: ImageApi;
  private readonly cache: ImageCache;
  private readonly networks: NetworkApi;
  private readonly service: ServiceAuth;
  private readonly volumeSteps: VolumeSteps | undefined;
  private readonly guests: ShelveGuests;
  private readonly logger: Logger;

  constructor(options: ShelveOptions, deps: { store: ComputeStore; hosts: RecordHostStateStore; hypervisor: Hypervisor; images: ImageApi; cache: ImageCache; networks: NetworkApi; service: ServiceAuth; volumeSteps: VolumeSteps | undefined; guests: ShelveGuests; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.hosts = deps.hosts;
    this.hypervisor = deps.hypervisor;
    this.images = deps.images;
    this.cache = deps.cache;
    this.networks = deps.networks;
    this.service = deps.service;
    this.volumeSteps = deps.volumeSteps;
    this.guests = deps.guests;
    this.logger = deps.logger;
  }

  /**
   * `shelve`: the guest powered off (cleanly unless paused), its root disk written out and
   * uploaded (`shelving_image_pending_upload`, `shelving_image_uploading`), the server SHELVED
   * with the image recorded; offloaded at once when `shelved_offload_time` is 0 (Nova's default).
   * A failed upload deletes the image and leaves the server SHUTOFF with the fault.
   */
  async shelve(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server || item.imageId === undefined) return;
    if (server.vm_state === 'shelved' && server.task_state === 'shelving_offloading') return this.offload(item);
    if (server.task_state !== 'shelving' && server.task_state !== 'shelving_image_pending_upload' && server.task_state !== 'shelving_image_uploading') return;
    const name = server.instance_name;
    const path = join(this.options.stateDir, server.uuid, `snapshot-${item.imageId}`);
    // A rerun after the upload (the agent stopped before it recorded SHELVED) uploads nothing again.
    const uploaded = (await this.images.get(item.token, item.imageId))?.status === 'active';
    if (!uploaded) {
      try {
        await powerOff(this.hypervisor, name, { clean: server.power_state !== POWER_STATE_CODES.paused, timeoutMs: this.options.stopTimeoutMs });
        await this.setTask(server.uuid, 'shelving_image_pending_upload');
        await rm(path, { force: true });
        const image = await this.hypervisor.snapshot(name, { path });
        await this.setTask(server.uuid, 'shelving_image_uploading');
        await this.images.upload(item.token, item.imageId, { disk_format: image.diskFormat, container_format: 'bare' }, createReadStream(path));
      } catch (err) {
        this.logger.error('shelve failed', { server: server.uuid, image: item.imageId, err });
        await this.images.delete(item.token, item.imageId).catch(() => undefined);
        const state = await this.guests.domainState(name).catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        await this.update(server.uuid, (v) => ({ ...v, vm_state: state === 'shutdown' ? 'stopped' : v.vm_state, task_state: null, ...(state === undefined ? {} : { power_state: POWER_STATE_CODES[state] }), fault: { code: 500, message, created: this.store.isoSeconds() } }));
        return;
      } finally {
        await rm(path, { force: true });
      }
    }
    const offload = this.options.offloadTimeSeconds === 0;
    const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
    await this.update(server.uuid, (v) => ({ ...v, vm_state: 'shelved', task_state: offload ? 'shelving_offloading' : null, power_state: power, shelved: { at: new Date(this.store.clock.now()).toISOString(), image_id: item.imageId as string, host: this.options.host } }));
    this.logger.info('server shelved', { server: server.uuid, image: item.imageId });
    if (offload) await this.offload(item);
  }

  /**
   * `shelve-offload` (shelveOffload, a volume-backed server's shelve, the periodic offload, or a
   * shelve when `shelved_offload_time` is 0): the guest off and gone with its files, the ports
   * unbound from this host (Nova's `unbind_ports` without detach: the server keeps them), the
   * claim given back, then the server SHELVED_OFFLOADED with no host.
   */
  async offload(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server || server.host !== this.options.host || (server.task_state !== 'shelving_offloading' && server.task_state !== 'shelving')) return;
    const name = server.instance_name;
    // A shelve from the API (a volume-backed server) shuts down cleanly; after a snapshot the guest is off already.
    await powerOff(this.hypervisor, name, { clean: server.vm_state !== 'shelved' && server.power_state !== POWER_STATE_CODES.paused, timeoutMs: this.options.stopTimeoutMs });
    const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
    const token = await this.service.token();
    for (const p of server.ports) await this.networks.updatePort(token, p.portId, { 'binding:host_id': '' });
    await this.guests.removeGuest(name, server.uuid);
    // Nova frees the allocations before the state changes, so a client polling for SHELVED_OFFLOADED finds the host free.
    await releaseOn(this.hosts, this.options.host, ...serverClaims(server));
    await this.update(server.uuid, (v) => ({ ...v, vm_state: 'shelved_offloaded', task_state: null, power_state: power, host: null }));
    this.logger.info('server offloaded', { server: server.uuid, host: this.options.host });
  }

  /**
   * `unshelve` of an offloaded server on the host the API scheduled and claimed (the server's
   * host already this one): the ports bound here, the root disk made from the shelved image (or
   * the root volume connected), blank ephemeral disks, the guest defined, its volumes connected,
   * started; then the shelved image deleted and the server ACTIVE. A failure gives the claim back
   * and leaves the server SHELVED_OFFLOADED with the fault, as Nova's `reverts_task_state`.
   */
  async unshelve(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.vm_state !== 'shelved_offloaded' || (server.task_state !== 'unshelving' && server.task_state !== 'spawning') || server.host !== this.options.host) return;
    const name = server.instance_name;
    const zone = await this.options.zone();
    const placed = { ...server, availability_zone: zone };
    try {
      await this.setTask(server.uuid, 'spawning');
      const token = await this.service.token();
      for (const p of server.ports) await this.networks.updatePort(token, p.portId, bindingFields(placed, this.options.host));
      let format: 'qcow2' | 'raw' = 'raw';
      if (server.volume_backed) await this.guests.connectRoot(item.token, server);
      else {
        const imageId = server.shelved?.image_id;
        if (imageId === undefined) throw new Error(`Unshelve attempted but the server ${server.uuid} has no shelved image.`);
        const base = await this.cache.fetch(item.token, imageId);
        format = (await this.images.get(item.token, imageId))?.disk_format === 'qcow2' ? 'qcow2' : 'raw';
        const dir = join(this.options.stateDir, server.uuid);
        await mkdir(dir, { recursive: true });
        await rm(join(dir, 'disk'), { force: true });
        await copyFile(base, join(dir, 'disk'), constants.COPYFILE_FICLONE);
      }
      await this.guests.makeLocalDisks(placed);
      if ((await this.guests.domainState(name)) === undefined) await this.hypervisor.define(await this.guests.domainXml(placed, server.flavor, format));
      await this.volumeSteps?.connectHere(item.token, server, { reserved: true });
      if ((await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
    } catch (err) {
      this.logger.error('unshelve failed', { server: server.uuid, err });
      await this.guests.removeGuest(name, server.uuid).catch(() => undefined);
      const token = await this.service.token();
      for (const p of server.ports) await this.networks.updatePort(token, p.portId, { 'binding:host_id': '' }).catch(() => undefined);
      await releaseOn(this.hosts, this.options.host, flavorClaim(server.uuid, server.flavor, server.root_disk_unclaimed));
      const message = err instanceof Error ? err.message : String(err);
      await this.update(server.uuid, (v) => ({ ...v, task_state: null, host: null, fault: { code: 500, message, created: this.store.isoSeconds() } }));
      return;
    }
    if (server.shelved !== undefined) await this.deleteShelvedImage(item.token, server);
    const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
    await this.update(server.uuid, (v) => {
      const { shelved: _, ...rest } = v;
      return { ...rest, vm_state: 'active', task_state: null, power_state: power, availability_zone: zone, launched_at: this.store.isoMicros() };
    });
    this.logger.info('server unshelved', { server: server.uuid, host: this.options.host });
  }

  /**
   * After the `start` of a SHELVED server (Nova's conductor powers on a server never offloaded,
   * and `start_instance` deletes its snapshot): the image deleted, the shelved record dropped.
   */
  async afterStart(token: string, uuid: string): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, uuid);
    if (server?.shelved === undefined || server.vm_state !== 'active') return;
    await this.deleteShelvedImage(token, server);
    await this.update(uuid, (v) => {
      const { shelved: _, ...rest } = v;
      return rest;
    });
  }

  /**
   * Nova's `_poll_shelved_instances`: with `shelved_offload_time` above 0, the servers shelved on
   * this host longer than that are queued for offload. Returns how many.
   */
  async pollShelved(): Promise<number> {
    if (this.options.offloadTimeSeconds <= 0) return 0;
    const host = await this.store.get<ComputeHostRecord>(T.hosts, this.options.host);
    const cutoff = this.store.clock.now() - this.options.offloadTimeSeconds * 1000;
    let queued = 0;
    for (const uuid of host?.instances ?? []) {
      const s = await this.store.get<ServerRecord>(T.servers, uuid);
      if (s?.vm_state !== 'shelved' || s.task_state !== null || s.host !== this.options.host || s.shelved === undefined || Date.parse(s.shelved.at) > cutoff) continue;
      const taken = await updateRecord<ServerRecord>(this.store.records, T.servers, uuid, (cur) => (cur.value.vm_state === 'shelved' && cur.value.task_state === null ? { ...cur.value, task_state: 'shelving_offloading', updated_at: this.store.isoSeconds() } : undefined));
      if (taken?.value.task_state !== 'shelving_offloading') continue;
      // No request asked for this one: its event has no action to land in, as Nova's periodic task.
      await enqueue(this.store, this.options.host, this.store.clock.now(), { server: uuid, task: 'shelve-offload', token: '', requestId: `req-${randomUUID()}` });
      queued++;
    }
    return queued;
  }

  private async deleteShelvedImage(token: string, server: ServerRecord): Promise<void> {
    const imageId = server.shelved?.image_id;
    if (imageId === undefined) return;
    // Nova logs a snapshot it cannot delete and goes on: the server is running again either way.
    await this.images.delete(token, imageId).catch((err) => this.logger.warn('shelved image not deleted', { server: server.uuid, image: imageId, err }));
    await this.cache.evict(imageId);
  }

  private async setTask(uuid: string, task: TaskState): Promise<void> {
    await this.update(uuid, (v) => ({ ...v, task_state: task }));
  }

  private async update(uuid: string, change: (v: ServerRecord) => ServerRecord): Promise<void> {
    await updateRecord<ServerRecord>(this.store.records, T.servers, uuid, (cur) => ({ ...change(cur.value), updated_at: this.store.isoSeconds() }));
  }
}
