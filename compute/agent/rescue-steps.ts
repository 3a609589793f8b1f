import { constants } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { ImageApi } from '../image-api.ts';
import { T } from '../records.ts';
import type { ServerFlavor, ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { WorkItem } from '../work-queue.ts';
import { diskFormatOf } from './disk-format.ts';
import { POWER_STATE_CODES, type Hypervisor, type PowerState } from './hypervisor/types.ts';
import type { ImageCache } from './image-cache.ts';
import { powerOff } from './power-off.ts';
import type { VolumeSteps } from './volume-steps.ts';

export interface RescueOptions {
  readonly stateDir: string;
  /** How long a guest gets to shut down cleanly (Nova's `shutdown_timeout`), in ms. */
  readonly stopTimeoutMs: number;
}

/** What the agent lends these steps: its two domain definitions of a server and its power state. */
export interface RescueGuests {
  domainXml(server: ServerRecord, flavor: ServerFlavor, format: 'qcow2' | 'raw'): Promise<string>;
  /** The rescue definition: `disk.rescue` as `vda`, the server's own disk as `vdb`, the same NICs. */
  rescueXml(server: ServerRecord, rescueFormat: 'qcow2' | 'raw', diskFormat: 'qcow2' | 'raw'): Promise<string>;
  domainState(name: string): Promise<PowerState | undefined>;
}

/** The rescue disk beside the server's own (Nova's libvirt `disk.rescue`). */
export const RESCUE_DISK = 'disk.rescue';

/**
 * Rescue on a host (Nova's `rescue_instance` and `unrescue_instance` with the libvirt driver's
 * `rescue`/`unrescue`): the guest powered off, a copy of the rescue image made `disk.rescue`,
 * the domain defined again to boot from it with the server's own disk second (so the rescue
 * system can repair it) and started, RESCUED; unrescue defines the server's own domain again
 * (its volumes back in), drops the rescue disk and starts it, ACTIVE. A failure puts the server
 * in ERROR with Nova's fault.
 */
export class RescueSteps {
  private readonly options: RescueOptions;
  private readonly store: ComputeStore;
  private readonly hypervisor: Hypervisor;
  private readonly images: ImageApi;
  private readonly cache: ImageCache;
  private readonly volumeSteps: VolumeSteps | undefined;
  private readonly guests: RescueGuests;
  private readonly logger: Logger;

  constructor(options: RescueOptions, deps: { store: ComputeStore; hypervisor: Hypervisor; images: ImageApi; cache: ImageCache; volumeSteps: VolumeSteps | undefined; guests: RescueGuests; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.hypervisor = deps.hypervisor;
    this.images = deps.images;
    this.cache = deps.cache;
    this.volumeSteps = deps.volumeSteps;
    this.guests = deps.guests;
    this.logger = deps.logger;
  }

  async rescue(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.task_state !== 'rescuing') return;
    const name = server.instance_name;
    const dir = join(this.options.stateDir, server.uuid);
    try {
      await powerOff(this.hypervisor, name, { clean: true, timeoutMs: this.options.stopTimeoutMs });
      // Nova's `_get_rescue_image`: the image asked for, else the server's own.
      const imageId = item.rescueImageRef ?? server.image_ref;
      const base = await this.cache.fetch(item.token, imageId);
      const rescueFormat = (await this.images.get(item.token, imageId))?.disk_format === 'qcow2' ? 'qcow2' : 'raw';
      await rm(join(dir, RESCUE_DISK), { force: true });
      await copyFile(base, join(dir, RESCUE_DISK), constants.COPYFILE_FICLONE);
      await this.hypervisor.define(await this.guests.rescueXml(server, rescueFormat, await diskFormatOf(join(dir, 'disk'))));
      // A rerun after the start finds the rescue guest running already.
      if ((await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
      const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
      await this.update(server.uuid, (v) => ({ ...v, vm_state: 'rescued', task_state: null, power_state: power, launched_at: this.store.isoMicros() }));
      this.logger.info('server rescued', { server: server.uuid, image: imageId });
    } catch (err) {
      this.logger.error('rescue failed', { server: server.uuid, err });
      const message = `Instance ${server.uuid} cannot be rescued: Driver Error: ${err instanceof Error ? err.message : String(err)}`;
      await this.update(server.uuid, (v) => ({ ...v, vm_state: 'error', task_state: null, fault: { code: 400, message, created: this.store.isoSeconds() } }));
    }
  }

  async unrescue(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.task_state !== 'unrescuing') return;
    const name = server.instance_name;
    const dir = join(this.options.stateDir, server.uuid);
    try {
      await this.hypervisor.destroy(name);
      await this.hypervisor.define(await this.guests.domainXml(server, server.flavor, await diskFormatOf(join(dir, 'disk'))));
      await this.volumeSteps?.reattach(server);
      await rm(join(dir, RESCUE_DISK), { force: true });
      if ((await this.guests.domainState(name)) !== 'running') await this.hypervisor.start(name);
      const power = POWER_STATE_CODES[(await this.guests.domainState(name)) ?? 'shutdown'];
      await this.update(server.uuid, (v) => ({ ...v, vm_state: 'active', task_state: null, power_state: power }));
      this.logger.info('server unrescued', { server: server.uuid });
    } catch (err) {
      // Nova's `_error_out_instance_on_exception`.
      this.logger.error('unrescue failed', { server: server.uuid, err });
      const message = err instanceof Error ? err.message : String(err);
      await this.update(server.uuid, (v) => ({ ...v, vm_state: 'error', task_state: null, fault: { code: 500, message, created: this.store.isoSeconds() } }));
    }
  }

  private async update(uuid: string, change: (v: ServerRecord) => ServerRecord): Promise<void> {
    await updateRecord<ServerRecord>(this.store.records, T.servers, uuid, (cur) => ({ ...change(cur.value), updated_at: this.store.isoSeconds() }));
  }
}
