import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import { RecordExistsError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import type { ImageApi } from '../image-api.ts';
import type { NetworkApi, NeutronPort } from '../network-api.ts';
import { bindingFields, UNBIND_FIELDS } from '../port-binding.ts';
import type { ServiceAuth } from '../service-auth.ts';
import { bridgeName, tapName } from '../network/driver/device-names.ts';
import { T } from '../records.ts';
import { recordTermination } from '../terminated-servers.ts';
import { leaveGroup } from '../server-group-record.ts';
import { unindexServer } from '../server-index.ts';
import { releaseOn } from '../scheduler/claims.ts';
import { DEFAULT_ALLOCATION_RATIOS, DEFAULT_RESERVED } from '../scheduler/host-state.ts';
import { setMigrationStatus } from '../migration-record.ts';
import { flavorClaim, serverClaims } from '../resize-claims.ts';
import type { RequestedNetwork, ServerAddress, ServerFlavor, ServerPort, ServerRecord, TaskState, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { type ConsoleReply, enqueue, type WorkItem } from '../work-queue.ts';
import { ConsoleNotAvailable, DomainNotFound } from './hypervisor/errors.ts';
import { type DiskSpec, domainXml, type NicSpec } from './hypervisor/domain-xml.ts';
import { describeDomain } from './hypervisor/domain-description.ts';
import { POWER_STATE_CODES, type Hypervisor, type PowerState } from './hypervisor/types.ts';
import type { DiskTransfer } from './disk-transfer.ts';
import { ImageCache } from './image-cache.ts';
import type { VolumeApi } from '../volume-api.ts';
import { VolumeSteps } from './volume-steps.ts';
import { volumesOf } from '../block-device-record.ts';
import { EvacuationSteps } from './evacuation.ts';
import { UNCONFIRMED_POLL_MS, UnconfirmedResizes } from './unconfirmed-resizes.ts';
import { LocalDiskFiles } from './local-disk-files.ts';
import { withActionEvent } from './action-events.ts';
import { ConfigDrives } from './config-drives.ts';
import { diskFormatOf } from './disk-format.ts';
import { ResizeSteps } from './resize-steps.ts';
import { InterfaceSteps } from './interface-steps.ts';
import { RESCUE_DISK, RescueSteps } from './rescue-steps.ts';
import { ShelveSteps } from './shelve-steps.ts';
import { portAddresses } from './port-addresses.ts';

export interface ComputeAgentOptions {
  /** The host's name as the scheduler, os-services and os-hypervisors show it. */
  readonly host: string;
  readonly availabilityZone: string;
  readonly hostIp: string;
  /** Instance disks, console logs and the image cache (`_base`) live here. */
  readonly stateDir: string;
  /** `kvm` on hosts with hardware virtualization, `qemu` without. */
  readonly virtType: 'kvm' | 'qemu';
  readonly heartbeatMs: number;
  readonly pollMs: number;
  /** Tasks of different servers run at once up to this many. */
  readonly concurrency: number;
  /** How long a guest gets to shut down cleanly before it is powered off (Nova's `shutdown_timeout`, 60 s). */
  readonly stopTimeoutMs: number;
  /**
   * Nova's `resume_guests_state_on_host_boot` (default false): at start, a server the records
   * say runs but whose guest does not is booted again; without it the server is stopped.
   */
  readonly resumeGuestsStateOnHostBoot?: boolean;
  /** Nova's `resize_confirm_window` (seconds, 0 = off): resizes waiting longer are confirmed (unconfirmed-resizes.ts). */
  readonly resizeConfirmWindowSeconds?: number;
  /** Nova's `block_device_allocate_retries` (60) and `block_device_allocate_retries_interval` (3 s): how long a build waits for a volume it made. */
  readonly blockDeviceAllocateRetries?: number;
  readonly blockDeviceAllocateRetryIntervalMs?: number;
  /** Nova's `default_ephemeral_format`: an ephemeral disk's file system when its mapping names none (empty or absent: by the image's `os_type`). */
  readonly defaultEphemeralFormat?: string;
  /** Nova's `force_config_drive`: every server built here gets a config drive. */
  readonly forceConfigDrive?: boolean;
  /** Nova's `[api] dhcp_domain` (default `novalocal`): the domain of the hostname a config drive gives the guest. */
  readonly dhcpDomain?: string;
  /** Nova's `mkisofs_cmd` (default `genisoimage`). */
  readonly mkisofs?: string;
  /** Nova's `shelved_offload_time` (seconds; 0, the default, offloads a shelved server at once; -1 never). */
  readonly shelvedOffloadTimeSeconds?: number;
  /** Nova's `shelved_poll_interval` (3600 s): how often shelved servers are looked at for offload. */
  readonly shelvedPollIntervalSeconds?: number;
}

/** A NIC per port: the port's MAC on its network's bridge, through the port's tap. */
function nicsOf(server: ServerRecord): NicSpec[] {
  return server.ports.map((p) => ({ mac: p.mac, bridge: bridgeName(p.networkId), targetDev: tapName(p.portId) }));
}

/** vm states whose domain `initHost` brings back (building and deleting ones have a task queued; error ones are left as they are). */
const RESTORED_STATES: ReadonlySet<VmState> = new Set<VmState>(['active', 'stopped', 'paused', 'suspended', 'resized', 'shelved']);

/**
 * A host's compute agent (nova-compute): registers the host and heartbeats with its resources,
 * takes the tasks queued for it (`queue/<host>/`) in order, and carries them out through the
 * hypervisor driver, Glance and Neutron, writing each server's states as Nova does
 * (building/scheduling -> networking -> spawning -> active). Every step checks what is
 * already so (a port with the server's device_id, a domain already defined or running), so a
 * task cut short by a restart runs again to the same end; the task's record is removed only
 * when it is done.
 */
export class ComputeAgent {
  private readonly options: ComputeAgentOptions;
  private readonly store: ComputeStore;
  private readonly hosts: RecordHostStateStore;
  private readonly hypervisor: Hypervisor;
  private readonly networks: NetworkApi;
  private readonly service: ServiceAuth;
  private readonly cache: ImageCache;
  private readonly images: ImageApi;
  private readonly disks: DiskTransfer;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Attach and detach (absent without a volume service). */
  private readonly volumeSteps: VolumeSteps | undefined;
  private readonly evacuation: EvacuationSteps;
  private readonly unconfirmed: UnconfirmedResizes;
  private readonly localDisks: LocalDiskFiles;
  private readonly configDrives: ConfigDrives;
  private readonly resizes: ResizeSteps;
  private readonly shelves: ShelveSteps;
  private readonly rescues: RescueSteps;
  private readonly interfaces: InterfaceSteps;
  private readonly running = new Map<string, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  /** Timer work still running (a heartbeat's list): `stop` waits for it before the hypervisor closes. */
  private readonly background = new Set<Promise<unknown>>();
  private stopped = false;
  private polling: Promise<void> | undefined;

  constructor(options: ComputeAgentOptions, deps: { store: ComputeStore; hosts: RecordHostStateStore; hypervisor: Hypervisor; images: ImageApi; networks: NetworkApi; service: ServiceAuth; volumes?: VolumeApi; disks: DiskTransfer; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.hosts = deps.hosts;
    this.hypervisor = deps.hypervisor;
    this.networks = deps.networks;
    this.service = deps.service;
    this.cache = new ImageCache(join(options.stateDir, '_base'), deps.images);
    this.images = deps.images;
    this.disks = deps.disks;
    this.localDisks = new LocalDiskFiles({ stateDir: options.stateDir, defaultEphemeralFormat: options.defaultEphemeralFormat ?? '' });
    this.configDrives = new ConfigDrives({ stateDir: options.stateDir, availabilityZone: options.availabilityZone, force: options.forceConfigDrive ?? false, dhcpDomain: options.dhcpDomain ?? 'novalocal', ...(options.mkisofs !== undefined ? { mkisofs: options.mkisofs } : {}) }, deps);
    this.clock = deps.store.clock;
    this.logger = deps.logger;
    this.evacuation = new EvacuationSteps(
      { host: options.host, stateDir: options.stateDir, zone: () => this.currentZone() },
      {
        ...deps,
        cache: this.cache,
        guests: {
          domainXml: (s, f, fmt) => this.domainXmlOf(s, f, fmt),
          removeGuest: (name, uuid) => this.removeGuest(name, uuid),
          makeLocalDisks: async (srv) => {
            await this.localDisks.make(srv, true);
            // An evacuation is a rebuild elsewhere: Nova's spawn makes the drive anew.
            await this.configDrives.discard(srv);
          },
        },
      },
    );
    this.unconfirmed = new UnconfirmedResizes({ host: options.host, windowSeconds: options.resizeConfirmWindowSeconds ?? 0 }, deps);
    this.volumeSteps = deps.volumes ? new VolumeSteps({ host: options.host, hostIp: options.hostIp, ...(options.blockDeviceAllocateRetries !== undefined ? { allocateRetries: options.blockDeviceAllocateRetries } : {}), ...(options.blockDeviceAllocateRetryIntervalMs !== undefined ? { allocateRetryIntervalMs: options.blockDeviceAllocateRetryIntervalMs } : {}) }, { store: deps.store, hypervisor: deps.hypervisor, volumes: deps.volumes, logger: deps.logger }) : undefined;
    this.resizes = new ResizeSteps({ host: options.host, stateDir: options.stateDir, stopTimeoutMs: options.stopTimeoutMs }, {
      ...deps,
      localDisks: this.localDisks,
      volumeSteps: this.volumeSteps,
      guests: {
        setState: (uuid, vm, task, extra) => this.setState(uuid, vm, task, extra),
        domainState: (name) => this.domainState(name),
        domainXml: (srv, f, fmt) => this.domainXmlOf(srv, f, fmt),
        diskFormat: (name) => this.diskFormat(name),
        removeGuest: (name, uuid) => this.removeGuest(name, uuid),
        bindPorts: (srv, host) => this.bindPorts(srv, host),
        connectRoot: (token, srv) => this.connectRoot(token, srv),
      },
    });
    this.shelves = new ShelveSteps({ host: options.host, zone: () => this.currentZone(), stateDir: options.stateDir, stopTimeoutMs: options.stopTimeoutMs, offloadTimeSeconds: options.shelvedOffloadTimeSeconds ?? 0 }, {
      ...deps,
      cache: this.cache,
      volumeSteps: this.volumeSteps,
      guests: {
        domainXml: (srv, f, fmt) => this.domainXmlOf(srv, f, fmt),
        domainState: (name) => this.domainState(name),
        removeGuest: (name, uuid) => this.removeGuest(name, uuid),
        makeLocalDisks: async (srv) => {
          await this.localDisks.make(srv, true);
          await this.configDrives.discard(srv);
        },
        connectRoot: (token, srv) => this.connectRoot(token, srv),
      },
    });
    this.rescues = new RescueSteps({ stateDir: options.stateDir, stopTimeoutMs: options.stopTimeoutMs }, {
      ...deps,
      cache: this.cache,
      volumeSteps: this.volumeSteps,
      guests: {
        domainXml: (srv, f, fmt) => this.domainXmlOf(srv, f, fmt),
        rescueXml: (srv, rescueFormat, diskFormat) => this.rescueXmlOf(srv, rescueFormat, diskFormat),
        domainState: (name) => this.domainState(name),
      },
    });
    this.interfaces = new InterfaceSteps(options.host, deps);
  }

  /** Registers the host, brings its instances back (`initHost`), then heartbeats and polls its queue until `stop`. */
  async start(): Promise<void> {
    await this.register();
    // The queue is polled every second from now on: made empty now, each poll lists it on one
    // replica, where a queue nobody has written to yet cost a 404 from every replica and handoff.
    await this.store.records.ensureType(T.queue);
    await this.initHost();
    this.timers.push(setInterval(() => this.inBackground('heartbeat failed', () => this.heartbeat()), this.options.heartbeatMs));
    this.timers.push(setInterval(() => void this.pollOnce(), this.options.pollMs));
    if (this.unconfirmed.enabled) this.timers.push(setInterval(() => this.inBackground('unconfirmed resizes poll failed', () => this.pollUnconfirmedResizes()), UNCONFIRMED_POLL_MS));
    if ((this.options.shelvedOffloadTimeSeconds ?? 0) > 0) this.timers.push(setInterval(() => this.inBackground('shelved servers poll failed', () => this.pollShelved()), (this.options.shelvedPollIntervalSeconds ?? 3600) * 1000));
    void this.pollOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.polling;
    await Promise.allSettled([...this.running.values(), ...this.background]);
  }

  private inBackground(failure: string, work: () => Promise<unknown>): void {
    const done = work().catch((err) => this.logger.warn(failure, { err }));
    this.background.add(done);
    void done.finally(() => this.background.delete(done));
  }

  /**
   * The host's record: made on first start; later starts refresh its capacity and heartbeat and
   * keep the claims (instances survive an agent restart).
   */
  async register(): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true });
    const r = await this.hypervisor.hostResources();
    const now = this.clock.now();
    const total = { vcpus: r.vcpus, memoryMiB: r.memoryMiB, diskGiB: r.diskGiB };
    const fresh: ComputeHostRecord = {
      host: this.options.host,
      availabilityZone: this.options.availabilityZone,
      configuredZone: this.options.availabilityZone,
      enabled: true,
      lastHeartbeatMs: now,
      total,
      used: { vcpus: 0, memoryMiB: 0, diskGiB: 0 },
      reserved: DEFAULT_RESERVED,
      allocationRatios: DEFAULT_ALLOCATION_RATIOS,
      supportedInstances: [['x86_64', 'qemu', 'hvm'], ['x86_64', 'kvm', 'hvm']],
      traits: [],
      instances: [],
      generation: 0,
      serviceUuid: randomUUID(),
      serviceNumber: 1 + Math.floor(Math.random() * 1_000_000),
      hypervisorType: r.hypervisorType,
      hostIp: this.options.hostIp,
      runningVms: 0,
      startedMs: now,
    };
    try {
      await this.store.records.create(T.hosts, this.options.host, fresh);
    } catch (err) {
      if (!(err instanceof RecordExistsError)) throw err;
      await updateRecord<ComputeHostRecord>(this.store.records, T.hosts, this.options.host, (cur) => ({ ...cur.value, total, hypervisorType: r.hypervisorType, hostIp: this.options.hostIp, configuredZone: this.options.availabilityZone, availabilityZone: cur.value.aggregateZone ?? this.options.availabilityZone, lastHeartbeatMs: now, startedMs: now }));
    }
    this.logger.info('compute host registered', { host: this.options.host, ...total });
  }

  /**
   * Nova's `init_host`/`_init_instance`, for the instances the host's record holds: a domain
   * the hypervisor no longer has (libvirt's `test:///default` and the memory driver lose them
   * with the process; a wiped libvirt too) is defined again from the server's record, and its
   * power state is made what the record says, as Nova's `resume_state_on_host_boot` (a hard
   * reboot from the instance's XML) with `resume_guests_state_on_host_boot`. Without that
   * option a guest that should run and does not is recorded stopped, as Nova's power-state
   * sync does. Servers with a task are left to their queued task; ERROR ones are skipped.
   * First, as Nova's, the guests evacuated from this host while it was down are destroyed.
   */
  async initHost(): Promise<void> {
    await this.evacuation.destroyEvacuated();
    const host = await this.store.get<ComputeHostRecord>(T.hosts, this.options.host);
    for (const uuid of host?.instances ?? []) {
      const server = await this.store.get<ServerRecord>(T.servers, uuid);
      // Claims held by a migration's id have no server record of their own.
      if (!server || server.host !== this.options.host || server.task_state !== null || !RESTORED_STATES.has(server.vm_state)) continue;
      try {
        await this.initInstance(server);
      } catch (err) {
        this.logger.error('instance could not be brought back', { server: uuid, err });
        const message = err instanceof Error ? err.message : String(err);
        await this.setState(uuid, 'error', null, { fault: { code: 500, message, created: this.store.isoSeconds() } });
      }
    }
  }

  private async initInstance(server: ServerRecord): Promise<void> {
    const name = server.instance_name;
    let state = await this.domainState(name);
    if (state === undefined) {
      const disk = join(this.options.stateDir, server.uuid, 'disk');
      // Blanks that are gone are made again, as Nova's `_create_image` makes missing disks at a hard reboot.
      await this.localDisks.make(server);
      await this.hypervisor.define(await this.domainXmlOf(server, server.flavor, await diskFormatOf(disk)));
      state = 'shutdown';
      this.logger.info('instance domain defined again', { server: server.uuid, host: this.options.host });
    }
    const code = POWER_STATE_CODES[state];
    if (code === server.power_state) return;
    const expectRunning = server.power_state === POWER_STATE_CODES.running;
    if (expectRunning && this.options.resumeGuestsStateOnHostBoot === true) {
      if (state === 'running' || state === 'paused' || state === 'suspended') return;
      await this.hypervisor.start(name);
      await this.setState(server.uuid, server.vm_state, null, { power_state: POWER_STATE_CODES[(await this.domainState(name)) ?? 'shutdown'] });
      this.logger.info('instance resumed on host start', { server: server.uuid });
      return;
    }
    // Nova's _sync_instance_power_state: an ACTIVE or PAUSED server whose guest is off is stopped.
    const stopped = state === 'shutdown' && (server.vm_state === 'active' || server.vm_state === 'paused');
    await this.setState(server.uuid, stopped ? 'stopped' : server.vm_state, null, { power_state: code });
  }

  /** Nova's `_poll_unconfirmed_resizes`: confirms the resizes to this host waiting longer than `resize_confirm_window`. */
  pollUnconfirmedResizes(): Promise<number> {
    return this.unconfirmed.poll();
  }

  /** The host's zone as its record says now: an aggregate's (os-aggregates), else the configured one. */
  private async currentZone(): Promise<string> {
    return (await this.store.get<ComputeHostRecord>(T.hosts, this.options.host))?.availabilityZone ?? this.options.availabilityZone;
  }

  /** Nova's `_poll_shelved_instances`: the servers shelved here longer than `shelved_offload_time` queued for offload. */
  pollShelved(): Promise<number> {
    return this.shelves.pollShelved();
  }

  /** Nova's servicegroup report: the heartbeat and how many guests run. */
  async heartbeat(): Promise<void> {
    const domains = await this.hypervisor.list();
    const runningVms = domains.filter((x) => x.powerState === 'running').length;
    await updateRecord<ComputeHostRecord>(this.store.records, T.hosts, this.options.host, (cur) => ({ ...cur.value, lastHeartbeatMs: this.clock.now(), runningVms }));
  }

  /** One look at the queue: starts each task whose server has none running. */
  pollOnce(): Promise<void> {
    if (this.polling || this.stopped) return this.polling ?? Promise.resolve();
    this.polling = this.poll()
      .catch((err) => this.logger.warn('queue poll failed', { err }))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  /** Resolves when every task queued now is done (for tests and `once`). */
  async drain(): Promise<void> {
    for (;;) {
      await this.pollOnce();
      await Promise.allSettled([...this.running.values()]);
      const left = await this.store.records.list(T.queue, { prefix: `${this.options.host}/` });
      if (left.entries.length === 0) return;
      await this.clock.sleep(10);
    }
  }

  private async poll(): Promise<void> {
    // One replica's listing (`newest: false`): `X-Newest` chooses a container's answer by its put
    // timestamp, not its rows, so asking every replica each second listed the same tasks.
    const page = await this.store.records.list(T.queue, { prefix: `${this.options.host}/`, limit: 1000, newest: false });
    for (const { key } of page.entries) {
      if (this.running.size >= this.options.concurrency) return;
      const item = await this.store.get<WorkItem>(T.queue, key);
      if (!item || this.running.has(item.server) || [...this.running.keys()].some((k) => k === key)) continue;
      const run = this.run(key, item).finally(() => this.running.delete(item.server));
      this.running.set(item.server, run);
    }
  }

  private async run(key: string, item: WorkItem): Promise<void> {
    try {
      await withActionEvent(this.store, this.options.host, item, () => this.carryOut(item));
      await this.store.records.delete(T.queue, key);
    } catch (err) {
      this.logger.error('task failed; it stays queued', { server: item.server, task: item.task, err });
    }
  }

  /** The task's own work. */
  private async carryOut(item: WorkItem): Promise<void> {
    if (item.task === 'build') await this.build(item);
    else if (item.task === 'delete') await this.delete(item);
    else if (item.task === 'console') await this.console(item);
    else if (item.task === 'snapshot' || item.task === 'backup') await this.snapshot(item);
    else if (item.task === 'rebuild') await this.rebuild(item);
    else if (item.task === 'resize') await this.resizes.resize(item);
    else if (item.task === 'resize-revert') await this.resizes.revert(item);
    else if (item.task === 'resize-finish') await this.resizes.finish(item);
    else if (item.task === 'resize-confirm') await this.resizes.confirm(item);
    else if (item.task === 'resize-revert-finish') await this.resizes.revertFinish(item);
    else if (item.task === 'evacuate') await this.evacuation.run(item);
    else if (item.task === 'shelve') await this.shelves.shelve(item);
    else if (item.task === 'shelve-offload') await this.shelves.offload(item);
    else if (item.task === 'unshelve') await this.shelves.unshelve(item);
    else if (item.task === 'rescue') await this.rescues.rescue(item);
    else if (item.task === 'unrescue') await this.rescues.unrescue(item);
    else if (item.task === 'attach-interface') await this.interfaces.attach(item);
    else if (item.task === 'detach-interface') await this.interfaces.detach(item);
    else if (item.task === 'attach-volume' || item.task === 'detach-volume') {
      if (!this.volumeSteps) throw new Error('this agent has no volume service (volume_url)');
      await this.volumeSteps.run(item);
    }
    else await this.power(item);
  }

  private async setState(uuid: string, vm: VmState, task: TaskState, extra: Partial<ServerRecord> = {}): Promise<ServerRecord | undefined> {
    const updated = await updateRecord<ServerRecord>(this.store.records, T.servers, uuid, (cur) => ({ ...cur.value, vm_state: vm, task_state: task, updated_at: this.store.isoSeconds(), ...extra }));
    return updated?.value;
  }

  /** Boots a server: ports, image, disk, domain; ERROR with a fault when a step cannot succeed. */
  private async build(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.vm_state !== 'building' || server.task_state === 'deleting') return;
    try {
      await this.setState(server.uuid, 'building', 'networking');
      const ports = await this.plugPorts(item.token, server);
      const addresses = await portAddresses(this.networks, item.token, ports);
      // Nova's _prep_block_device (task block_device_mapping): the server's volumes made, reserved, connected, in-use.
      const volumeDisks = await this.prepareVolumes(item.token, server, ports, addresses);
      await this.setState(server.uuid, 'building', 'spawning', { ports, addresses });
      const dir = join(this.options.stateDir, server.uuid);
      await mkdir(dir, { recursive: true });
      let format: 'qcow2' | 'raw' = 'raw';
      if (!server.volume_backed) {
        const base = await this.cache.fetch(item.token, server.image_ref);
        format = (await this.images.get(item.token, server.image_ref))?.disk_format === 'qcow2' ? 'qcow2' : 'raw';
        // A copy of the cached image (a clone where the file system offers one); never the cache itself.
        await copyFile(base, join(dir, 'disk'), constants.COPYFILE_FICLONE).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
      }
      await this.localDisks.make(server);
      // Nova's `configdrive.update_instance`: a drive the image or the host requires is recorded as asked for.
      const configDrive = (await this.configDrives.requiredBy(item.token, server)) ? 'True' : server.config_drive;
      if (configDrive !== server.config_drive) await this.setState(server.uuid, 'building', 'spawning', { config_drive: configDrive });
      // The root volume is `vda`; the data volumes follow it into the definition.
      const xml = await this.domainXmlOf({ ...server, ports, addresses, config_drive: configDrive }, server.flavor, format, volumeDisks.filter((d) => d.targetDev !== 'vda'));
      const existing = await this.hypervisor.info(server.instance_name).catch((err) => {
        if (err instanceof DomainNotFound) return undefined;
        throw err;
      });
      if (!existing) await this.hypervisor.define(xml);
      if (existing?.powerState !== 'running') await this.hypervisor.start(server.instance_name);
      const after = await this.store.get<ServerRecord>(T.servers, server.uuid);
      if (after?.task_state === 'deleting') return;
      await this.setState(server.uuid, 'active', null, { power_state: POWER_STATE_CODES.running, launched_at: this.store.isoMicros() });
      this.logger.info('server active', { server: server.uuid, host: this.options.host });
    } catch (err) {
      this.logger.error('build failed', { server: server.uuid, err });
      const message = err instanceof Error ? err.message : String(err);
      await this.setState(server.uuid, 'error', null, { fault: { code: 500, message: `Build of instance ${server.uuid} aborted: ${message}`, created: this.store.isoSeconds() } });
    }
  }

  /**
   * The block-device step of a build (task `block_device_mapping`), for a server with volume
   * mappings: the volume steps' `prepareBoot`. None without mappings (no record read without `volume_mappings`).
   */
  private async prepareVolumes(token: string, server: ServerRecord, ports: readonly ServerPort[], addresses: Record<string, ServerAddress[]>): Promise<DiskSpec[]> {
    if ((await volumesOf(this.store, server)).length === 0) return [];
    if (!this.volumeSteps) throw new Error('this agent has no volume service (volume_url)');
    await this.setState(server.uuid, 'building', 'block_device_mapping', { ports, addresses });
    return this.volumeSteps.prepareBoot(token, server);
  }

  /**
   * The server's domain: the flavor's memory and vCPUs, its root disk (the image's copy, or the
   * root volume of a server booted from one), its ephemeral and swap disks, `extra` disks after
   * them, a NIC per port, the console log.
   */
  private async domainXmlOf(server: ServerRecord, flavor: ServerFlavor, format: 'qcow2' | 'raw', extra: readonly DiskSpec[] = []): Promise<string> {
    const dir = join(this.options.stateDir, server.uuid);
    const nics = nicsOf(server);
    let root: DiskSpec = { path: join(dir, 'disk'), format, targetDev: 'vda' };
    if (server.volume_backed) {
      const volume = await this.volumeSteps?.rootDisk(server.uuid);
      if (!volume) throw new Error(`server ${server.uuid}: its root volume is not connected`);
      root = volume;
    }
    // libvirt's driver order: the root disk, the ephemeral disks, swap, the volumes, then the config drive.
    const configDrive = await this.configDrives.spec(server);
    return domainXml({ name: server.instance_name, uuid: server.uuid, virtType: this.options.virtType, memoryMiB: flavor.ram, vcpus: flavor.vcpus, disks: [root, ...this.localDisks.specs(server), ...extra, ...(configDrive ? [configDrive] : [])], nics, consoleLogPath: join(dir, 'console.log') });
  }

  /**
   * The rescue domain (Nova's libvirt `rescue`): the rescue disk as `vda`, the server's own root
   * disk as `vdb`, the same NICs and console; no ephemeral disks, volumes or config drive.
   */
  private async rescueXmlOf(server: ServerRecord, rescueFormat: 'qcow2' | 'raw', diskFormat: 'qcow2' | 'raw'): Promise<string> {
    const dir = join(this.options.stateDir, server.uuid);
    const nics = nicsOf(server);
    const disks: DiskSpec[] = [{ path: join(dir, RESCUE_DISK), format: rescueFormat, targetDev: 'vda' }, { path: join(dir, 'disk'), format: diskFormat, targetDev: 'vdb' }];
    return domainXml({ name: server.instance_name, uuid: server.uuid, virtType: this.options.virtType, memoryMiB: server.flavor.ram, vcpus: server.flavor.vcpus, disks, nics, consoleLogPath: join(dir, 'console.log') });
  }

  /** A volume-backed server's root volume connected on this host, before its domain is defined here. */
  private async connectRoot(token: string, server: ServerRecord): Promise<void> {
    if (!this.volumeSteps) throw new Error('this agent has no volume service (volume_url)');
    await this.volumeSteps.connectRootHere(token, server);
  }

  /** The domain's state, or undefined when it is not defined. */
  private async domainState(name: string): Promise<PowerState | undefined> {
    try {
      return (await this.hypervisor.info(name)).powerState;
    } catch (err) {
      if (err instanceof DomainNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Nova's rebuild on the same host: the guest powered off, its disk made again from the new
   * image, the domain defined again with the same NICs (ports and addresses stay), and started
   * unless the server was stopped; a server in ERROR comes back ACTIVE.
   */
  private async rebuild(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server || (server.task_state !== 'rebuilding' && server.task_state !== 'rebuild_spawning')) return;
    const name = server.instance_name;
    try {
      // Nova's default rebuild (libvirt's): it cannot keep ephemeral disks, and says so after the 202.
      if (item.preserveEphemeral === true) throw new Error('The current driver does not support preserving ephemeral partitions.');
      const before = await this.domainState(name);
      if (before !== undefined && before !== 'shutdown') await this.hypervisor.destroy(name);
      await this.setState(server.uuid, server.vm_state, 'rebuild_spawning');
      let format: 'qcow2' | 'raw' = 'raw';
      // A volume-backed server keeps its root volume (the API let only its own image through: no reimage before 2.93).
      if (!server.volume_backed) {
        const base = await this.cache.fetch(item.token, server.image_ref);
        format = (await this.images.get(item.token, server.image_ref))?.disk_format === 'qcow2' ? 'qcow2' : 'raw';
        const dir = join(this.options.stateDir, server.uuid);
        await mkdir(dir, { recursive: true });
        await rm(join(dir, 'disk'), { force: true });
        await copyFile(base, join(dir, 'disk'), constants.COPYFILE_FICLONE);
      }
      // Nova destroys the instance's disks and spawns again: ephemeral disks and swap come back blank.
      await this.localDisks.make(server, true);
      // The drive is made again with what the rebuild changed (name, key, user data, metadata).
      await this.configDrives.discard(server);
      await this.hypervisor.define(await this.domainXmlOf(server, server.flavor, format));
      await this.volumeSteps?.reattach(server);
      const stopped = server.vm_state === 'stopped';
      if (!stopped) await this.hypervisor.start(name);
      await this.setState(server.uuid, stopped ? 'stopped' : 'active', null, { power_state: POWER_STATE_CODES[(await this.domainState(name)) ?? 'shutdown'], launched_at: this.store.isoMicros() });
      this.logger.info('server rebuilt', { server: server.uuid, image: server.image_ref });
    } catch (err) {
      this.logger.error('rebuild failed', { server: server.uuid, err });
      const message = err instanceof Error ? err.message : String(err);
      await this.setState(server.uuid, 'error', null, { fault: { code: 500, message, created: this.store.isoSeconds() } });
    }
  }

  /** The server's ports bound to `host` (Nova's migrate_instance_finish): Neutron lets only admins set the binding. */
  private async bindPorts(server: ServerRecord, host: string): Promise<void> {
    const token = await this.service.token();
    for (const p of server.ports) await this.networks.updatePort(token, p.portId, { 'binding:host_id': host });
  }

  /** The guest and its files gone from this host (a domain already gone is fine). */
  private async removeGuest(name: string, uuid: string): Promise<void> {
    try {
      await this.hypervisor.destroy(name);
    } catch (err) {
      if (!(err instanceof DomainNotFound)) throw err;
    }
    try {
      await this.hypervisor.undefine(name);
    } catch (err) {
      if (!(err instanceof DomainNotFound)) throw err;
    }
    await rm(join(this.options.stateDir, uuid), { recursive: true, force: true });
  }

  private async diskFormat(name: string): Promise<'qcow2' | 'raw'> {
    return describeDomain(await this.hypervisor.domainXml(name)).disks[0]?.format === 'qcow2' ? 'qcow2' : 'raw';
  }

  /**
   * The server's NICs: ports it already has (a rerun), the ones asked for, or new ones on the
   * networks asked for. As Nova's `allocate_for_instance`: a port compute makes is created with
   * the user's token (the user's port, counted in their project's quota) with the server as its
   * device, then every port is bound (device owner, `binding:host_id`) with compute's own token,
   * as Neutron lets only admins set the binding.
   */
  private async plugPorts(token: string, server: ServerRecord): Promise<ServerPort[]> {
    const have = await this.networks.listPorts(token, server.uuid);
    const out: ServerPort[] = [];
    const binding = bindingFields(server, this.options.host);
    const requested: readonly RequestedNetwork[] = server.networks === 'none' ? [] : server.networks === 'auto' ? (await this.networks.listNetworks(token)).slice(0, 1).map((n) => ({ uuid: n.id })) : server.networks;
    const taken = new Set<string>();
    for (const want of requested) {
      let port: NeutronPort | undefined;
      let created = false;
      if (want.port !== undefined) {
        port = have.find((p) => p.id === want.port);
        if (!port || port['device_owner'] !== binding['device_owner']) port = await this.networks.updatePort(await this.service.token(), want.port, binding);
      } else {
        // A rerun finds the port it made (device_id is set at create), bound or not yet.
        port = have.find((p) => p.network_id === want.uuid && !taken.has(p.id) && (p['device_owner'] === binding['device_owner'] || p['device_owner'] === ''));
        port ??= await this.networks.createPort(token, { network_id: want.uuid, device_id: server.uuid, admin_state_up: true, ...(want.fixed_ip ? { fixed_ips: [{ ip_address: want.fixed_ip }] } : {}) });
        if (port['device_owner'] !== binding['device_owner']) port = await this.networks.updatePort(await this.service.token(), port.id, binding);
        created = true;
      }
      taken.add(port.id);
      out.push({ portId: port.id, networkId: port.network_id, mac: port.mac_address, created });
    }
    return out;
  }

  /** Tears a server down: domain, ports (deleted if compute made them, unbound if not), disk, claim, record. */
  private async delete(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server) return;
    await this.removeGuest(server.instance_name, server.uuid);
    const known = new Map(server.ports.map((p) => [p.portId, p]));
    for (const port of await this.networks.listPorts(item.token, server.uuid)) {
      if (!known.has(port.id)) known.set(port.id, { portId: port.id, networkId: port.network_id, mac: port.mac_address, created: true });
    }
    for (const p of known.values()) {
      if (p.created) await this.networks.deletePort(item.token, p.portId);
      else await this.networks.updatePort(await this.service.token(), p.portId, UNBIND_FIELDS).catch(() => undefined);
    }
    await this.volumeSteps?.release(item.token, server);
    await releaseOn(this.hosts, this.options.host, ...serverClaims(server));
    const m = server.migration;
    // Nova confirms a resize waiting for confirmation when its server is deleted; in place nothing else is left to clean.
    if (m !== undefined && (m.source_compute ?? this.options.host) === this.options.host) await setMigrationStatus(this.store, m.id, 'confirmed', {}, ['finished']);
    if (m?.source_compute !== undefined && m.source_compute !== this.options.host) {
      // Deleted while a move waited for confirm: the source gives the old flavor back and its guest goes.
      await releaseOn(this.hosts, m.source_compute, flavorClaim(m.id, m.old_flavor, server.root_disk_unclaimed));
      await enqueue(this.store, m.source_compute, this.clock.now(), { server: server.uuid, task: 'resize-confirm', migration: m.id, token: item.token, requestId: item.requestId });
    }
    await recordTermination(this.store, server);
    await this.store.records.delete(T.servers, server.uuid);
    await unindexServer(this.store, server);
    await leaveGroup(this.store, server.server_group, server.uuid);
    this.logger.info('server deleted', { server: server.uuid });
  }

  /**
   * A power action the API accepted (its task state set): drive the domain, then write the state
   * the domain is in. A domain already where the action leads is left as it is (a rerun).
   */
  private async power(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server || server.task_state === null || server.task_state === 'deleting') return;
    const name = server.instance_name;
    const h = this.hypervisor;
    const state = async () => (await h.info(name)).powerState;
    const ends: Record<string, [VmState, () => Promise<void>]> = {
      stop: ['stopped', async () => void ((await state()) !== 'shutdown' && (await h.stop(name, { timeoutMs: this.options.stopTimeoutMs })))],
      start: ['active', async () => void ((await state()) !== 'running' && (await h.start(name)))],
      'reboot-soft': ['active', () => h.reboot(name, 'soft', this.options.stopTimeoutMs)],
      'reboot-hard': ['active', async () => ((await state()) === 'suspended' ? h.resume(name) : h.reboot(name, 'hard'))],
      pause: ['paused', async () => void ((await state()) === 'running' && (await h.pause(name)))],
      unpause: ['active', async () => void ((await state()) === 'paused' && (await h.unpause(name)))],
      suspend: ['suspended', async () => void ((await state()) !== 'suspended' && (await h.suspend(name)))],
      resume: ['active', async () => void ((await state()) === 'suspended' && (await h.resume(name)))],
    };
    const [vm, act] = ends[item.task] as [VmState, () => Promise<void>];
    try {
      await act();
      await this.setState(server.uuid, vm, null, { power_state: POWER_STATE_CODES[await state()] });
      // The start that unshelves a server never offloaded (Nova's conductor sends start_instance).
      if (item.task === 'start' && server.shelved !== undefined) await this.shelves.afterStart(item.token, server.uuid);
    } catch (err) {
      // Nova reverts the task state and leaves the server as the hypervisor has it.
      this.logger.error('power action failed', { server: server.uuid, task: item.task, err });
      const now = await state().catch(() => undefined);
      await this.setState(server.uuid, server.vm_state, null, now === undefined ? {} : { power_state: POWER_STATE_CODES[now] });
    }
  }

  /** Nova's `get_console_output`: the log's tail (the last `length` lines when asked), as the API's answer. */
  private async console(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    let reply: ConsoleReply;
    try {
      if (!server) throw new DomainNotFound(item.server);
      const text = (await this.hypervisor.consoleOutput(server.instance_name)).toString('utf8');
      const lines = text.split('\n');
      if (text.endsWith('\n')) lines.pop();
      reply = { output: item.length === undefined ? text : lines.slice(Math.max(0, lines.length - item.length)).map((l) => `${l}\n`).join('') };
    } catch (err) {
      if (!(err instanceof DomainNotFound) && !(err instanceof ConsoleNotAvailable)) throw err;
      reply = { error: 'not-found' };
    }
    await this.store.records.put(T.consoleReplies, item.requestId, reply);
  }

  /**
   * createImage, and createBackup (`backup`): the root disk written out by the driver (a
   * consistent copy, the guest paused meanwhile when it runs), uploaded into the Glance image the
   * API made; the server's task state goes back to none whatever happened, and a failed
   * snapshot's image is deleted. A backup uploaded then rotates the older ones out.
   */
  private async snapshot(item: WorkItem): Promise<void> {
    const state = item.task === 'backup' ? 'image_backup' : 'image_snapshot';
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (server?.task_state !== state || item.imageId === undefined) return;
    const path = join(this.options.stateDir, server.uuid, `snapshot-${item.imageId}`);
    let uploaded = false;
    try {
      await rm(path, { force: true });
      const image = await this.hypervisor.snapshot(server.instance_name, { path });
      await this.images.upload(item.token, item.imageId, { disk_format: image.diskFormat, container_format: 'bare' }, createReadStream(path));
      uploaded = true;
      this.logger.info('snapshot uploaded', { server: server.uuid, image: item.imageId, bytes: image.size });
    } catch (err) {
      this.logger.error('snapshot failed', { server: server.uuid, image: item.imageId, err });
      await this.images.delete(item.token, item.imageId).catch(() => undefined);
    } finally {
      await rm(path, { force: true });
      await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => (cur.value.task_state === state ? { ...cur.value, task_state: null, updated_at: this.store.isoSeconds() } : undefined));
    }
    if (uploaded && item.task === 'backup') await this.rotateBackups(item, server.uuid);
  }

  /**
   * Nova's `_rotate_backups`: the server's backups of this `backup_type`, newest first; those past
   * `rotation` are deleted, oldest first (with rotation 0, the one just made too).
   */
  private async rotateBackups(item: WorkItem, server: string): Promise<void> {
    const backups = await this.images.list(item.token, { image_type: 'backup', backup_type: item.backupType ?? '', instance_uuid: server });
    for (const old of backups.slice(item.rotation ?? 0).reverse()) {
      await this.images.delete(item.token, old.id);
      this.logger.info('backup rotated out', { server, image: old.id });
    }
  }
}
