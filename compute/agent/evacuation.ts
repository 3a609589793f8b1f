import { constants } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import type { ImageApi } from '../image-api.ts';
import { type MigrationRecord, type MigrationStatus, setMigrationStatus } from '../migration-record.ts';
import type { NetworkApi } from '../network-api.ts';
import { bindingFields } from '../port-binding.ts';
import { T } from '../records.ts';
import { flavorClaim } from '../resize-claims.ts';
import { releaseOn } from '../scheduler/claims.ts';
import type { ServerFlavor, ServerRecord } from '../server-record.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { ComputeStore } from '../store.ts';
import type { WorkItem } from '../work-queue.ts';
import { DomainNotFound } from './hypervisor/errors.ts';
import { POWER_STATE_CODES, type Hypervisor, type PowerState } from './hypervisor/types.ts';
import type { ImageCache } from './image-cache.ts';

export interface EvacuationOptions {
  readonly host: string;
  readonly stateDir: string;
  /** The host's zone now (its configured one, or an aggregate's). */
  readonly zone: () => Promise<string>;
}

/** What the agent lends these steps: its domain XML and its guest removal (one way to write and remove a guest per host). */
export interface GuestOps {
  domainXml(server: ServerRecord, flavor: ServerFlavor, format: 'qcow2' | 'raw'): Promise<string>;
  removeGuest(name: string, uuid: string): Promise<void>;
  /** The server's ephemeral and swap disks made blank in its directory (Nova spawns them anew on the target). */
  makeLocalDisks(server: ServerRecord): Promise<void>;
}

/** Evacuations the source cleans up when it comes back (Nova's `_destroy_evacuated_instances` filter). */
const LEFT_BEHIND: readonly MigrationStatus[] = ['accepted', 'pre-migrating', 'done'];

/**
 * An evacuation's two host sides (Nova's `rebuild_instance` with `recreate=True` on the target,
 * `_destroy_evacuated_instances` on the source at `init_host`). Hosts share no storage here, so
 * the target rebuilds the server from its image, as Nova does without shared storage: the root
 * disk's data does not survive an evacuation.
 */
export class EvacuationSteps {
  private readonly options: EvacuationOptions;
  private readonly store: ComputeStore;
  private readonly hosts: RecordHostStateStore;
  private readonly hypervisor: Hypervisor;
  private readonly images: ImageApi;
  private readonly cache: ImageCache;
  private readonly networks: NetworkApi;
  private readonly service: ServiceAuth;
  private readonly guests: GuestOps;
  private readonly logger: Logger;

  constructor(options: EvacuationOptions, deps: { store: ComputeStore; hosts: RecordHostStateStore; hypervisor: Hypervisor; images: ImageApi; cache: ImageCache; networks: NetworkApi; service: ServiceAuth; guests: GuestOps; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.hosts = deps.hosts;
    this.hypervisor = deps.hypervisor;
    this.images = deps.images;
    this.cache = deps.cache;
    this.networks = deps.networks;
    this.service = deps.service;
    this.guests = deps.guests;
    this.logger = deps.logger;
  }

  /**
   * The `evacuate` task on the target, its claim already made by the API: the ports bound here
   * (compute's token; the owner's zone is this host's), the disk made again from the image, the
   * guest defined and started (left off when it was stopped, or from 2.95), and the server
   * recorded here, ACTIVE or SHUTOFF (an ERROR one comes back ACTIVE, as Nova's rebuild does),
   * the migration `done`. A failure leaves the server ERROR on its source with the fault, this
   * host's claim given back and the migration `failed`. A server deleted meanwhile: the claim
   * is given back. Each step is safe to run again.
   */
  async run(item: WorkItem): Promise<void> {
    const m = item.migration === undefined ? undefined : await this.store.get<MigrationRecord>(T.migrations, item.migration);
    // `completed`: the source came back and cleaned up before this host rebuilt the server.
    if (!m || !(['accepted', 'pre-migrating', 'completed'] as const).some((x) => x === m.status)) return;
    const server = await this.store.get<ServerRecord>(T.servers, m.instance_uuid);
    if (!server || server.task_state === 'deleting') {
      await releaseOn(this.hosts, this.options.host, flavorClaim(m.instance_uuid, m.flavor, m.root_disk_unclaimed));
      await setMigrationStatus(this.store, m.uuid, 'failed', {}, ['accepted', 'pre-migrating', 'completed']);
      return;
    }
    if (server.task_state !== 'rebuilding' && server.task_state !== 'rebuild_spawning') return;
    const name = server.instance_name;
    try {
      // No storage is shared with the source (Nova checks the driver's `instance_on_disk`).
      if (item.onSharedStorage === true) throw new Error('Invalid state of instance files on shared storage');
      await this.setTask(server.uuid, 'rebuild_spawning');
      const token = await this.service.token();
      const zone = await this.options.zone();
      const placed = { ...server, availability_zone: zone };
      for (const p of server.ports) await this.networks.updatePort(token, p.portId, bindingFields(placed, this.options.host));
      const base = await this.cache.fetch(item.token, server.image_ref);
      const format = (await this.images.get(item.token, server.image_ref))?.disk_format === 'qcow2' ? 'qcow2' : 'raw';
      const dir = join(this.options.stateDir, server.uuid);
      await mkdir(dir, { recursive: true });
      await rm(join(dir, 'disk'), { force: true });
      await copyFile(base, join(dir, 'disk'), constants.COPYFILE_FICLONE);
      await this.guests.makeLocalDisks(server);
      await this.hypervisor.define(await this.guests.domainXml(server, server.flavor, format));
      const stopped = server.vm_state !== 'error' && (item.targetState === 'stopped' || server.vm_state === 'stopped');
      if (!stopped && (await this.domainState(name)) !== 'running') await this.hypervisor.start(name);
      const power = POWER_STATE_CODES[(await this.domainState(name)) ?? 'shutdown'];
      await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => ({ ...cur.value, host: this.options.host, availability_zone: zone, vm_state: stopped ? 'stopped' : 'active', task_state: null, power_state: power, launched_at: this.store.isoMicros(), updated_at: this.store.isoSeconds() }));
      await setMigrationStatus(this.store, m.uuid, 'done', {}, ['accepted', 'pre-migrating']);
      this.logger.info('server evacuated', { server: server.uuid, source: m.source_compute, target: this.options.host });
    } catch (err) {
      this.logger.error('evacuation failed', { server: server.uuid, err });
      await this.guests.removeGuest(name, server.uuid).catch(() => undefined);
      await releaseOn(this.hosts, this.options.host, flavorClaim(server.uuid, server.flavor, server.root_disk_unclaimed));
      await setMigrationStatus(this.store, m.uuid, 'failed');
      const message = err instanceof Error ? err.message : String(err);
      await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => ({ ...cur.value, vm_state: 'error', task_state: null, fault: { code: 500, message, created: this.store.isoSeconds() }, updated_at: this.store.isoSeconds() }));
    }
  }

  /**
   * On the source, before its instances are brought back (Nova's `_destroy_evacuated_instances`):
   * for every evacuation from this host accepted, under way or done, the local guest and its
   * files are destroyed (its disk is not shared, so it goes too), the source's claim is given
   * back, and the migration is `completed`. An evacuated guest is thus never started again here.
   */
  async destroyEvacuated(): Promise<number> {
    const left = (await this.store.scan<MigrationRecord>(T.migrations)).filter((m) => m.migration_type === 'evacuation' && m.source_compute === this.options.host && LEFT_BEHIND.includes(m.status));
    for (const m of left) {
      // A server that came back here after its evacuation was done (a host forced down but not
      // restarted, then up again) is this host's own now: its guest and claim stay.
      const back = m.status === 'done' && (await this.store.get<ServerRecord>(T.servers, m.instance_uuid))?.host === this.options.host;
      if (!back) {
        this.logger.info('destroying an instance evacuated from this host', { server: m.instance_uuid, migration: m.uuid });
        await this.guests.removeGuest(m.instance_name, m.instance_uuid);
        await releaseOn(this.hosts, this.options.host, flavorClaim(m.instance_uuid, m.flavor, m.root_disk_unclaimed));
      }
      await setMigrationStatus(this.store, m.uuid, 'completed', {}, LEFT_BEHIND);
    }
    return left.length;
  }

  private async setTask(uuid: string, task: 'rebuild_spawning'): Promise<void> {
    await updateRecord<ServerRecord>(this.store.records, T.servers, uuid, (cur) => ({ ...cur.value, task_state: task, updated_at: this.store.isoSeconds() }));
  }

  private async domainState(name: string): Promise<PowerState | undefined> {
    try {
      return (await this.hypervisor.info(name)).powerState;
    } catch (err) {
      if (err instanceof DomainNotFound) return undefined;
      throw err;
    }
  }
}
