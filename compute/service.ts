import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { FernetKeys } from '../common/token/key-repository.ts';
import type { RevocationList } from '../common/token/revocation.ts';
import { TokenValidator } from '../common/token/token-validator.ts';
import type { RecordStore } from '../client/record-store.ts';
import { availabilityZoneRoutes } from './api/availability-zones.ts';
import { flavorAccessRoutes } from './api/flavor-access.ts';
import { flavorExtraSpecRoutes } from './api/flavor-extra-specs.ts';
import { flavorRoutes } from './api/flavors.ts';
import { hostRoutes } from './api/hosts.ts';
import { hypervisorRoutes } from './api/hypervisors.ts';
import { keypairRoutes } from './api/keypairs.ts';
import { limitRoutes } from './api/limits.ts';
import { migrationRoutes } from './api/migrations.ts';
import { simpleTenantUsageRoutes } from './api/simple-tenant-usage.ts';
import { aggregateRoutes } from './api/aggregates.ts';
import { serverInterfaceRoutes } from './api/server-interfaces.ts';
import { quotaClassSetRoutes } from './api/quota-class-sets.ts';
import { quotaSetRoutes } from './api/quota-sets.ts';
import { extensionRoutes } from './api/extensions.ts';
import { serviceRoutes } from './api/services.ts';
import { serverActionRoutes } from './api/server-actions.ts';
import { serverMetadataRoutes } from './api/server-metadata.ts';
import { serverTagRoutes } from './api/server-tags.ts';
import { serverIpRoutes } from './api/server-ips.ts';
import { securityGroupProxyRoutes } from './api/security-groups-proxy.ts';
import { serverGroupRoutes } from './api/server-groups.ts';
import { serverRoutes } from './api/servers.ts';
import { volumeAttachmentRoutes } from './api/volume-attachments.ts';
import { versionRoutes } from './api/versions.ts';
import type { BuildRequest } from './build-request.ts';
import type { ImageApi } from './image-api.ts';
import type { NetworkApi } from './network-api.ts';
import type { VolumeApi } from './volume-api.ts';
import type { ServiceAuth } from './service-auth.ts';
import { placeBuilds } from './placement.ts';
import { T } from './records.ts';
import { RecordHostStateStore } from './host-store.ts';
import { backfillServerIndex } from './server-index.ts';
import { reportControlServices } from './control-service.ts';
import { ComputeServer } from './server.ts';
import { ServerRecordUsage } from './server-usage.ts';
import { ComputeStore } from './store.ts';

export interface ComputeServiceOptions {
  /** This service's URL as clients reach it; empty: taken from each request's Host. */
  readonly publicUrl: string;
  /** The image service's public URL, for createImage's `Location` before 2.45. */
  readonly imageUrl: string;
  /** Nova's `[cinder] cross_az_attach` (default true). */
  readonly crossAzAttach?: boolean;
  /** Nova's `allow_resize_to_same_host` (default false). */
  readonly allowResizeToSameHost?: boolean;
}

/**
 * The compute API put together: its state in `records` (the `.compute` system account), tokens
 * validated against the identity service's keys and revocations, Nova's v2.1 routes behind one
 * `ComputeServer`.
 */
export class ComputeService {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly server: ComputeServer;
  private readonly logger: Logger;

  constructor(options: ComputeServiceOptions, io: { records: RecordStore; keys: FernetKeys; revocations: RevocationList; images: ImageApi; networks: NetworkApi; volumes?: VolumeApi; service?: ServiceAuth; clock: Clock; logger: Logger }) {
    this.logger = io.logger;
    this.store = new ComputeStore(io.records, io.clock);
    this.hosts = new RecordHostStateStore(this.store);
    const usage = new ServerRecordUsage(this.store);
    const validator = new TokenValidator(io.keys, io.revocations, io.clock);
    const routes = [
      ...versionRoutes(),
      ...flavorRoutes(this.store),
      ...flavorExtraSpecRoutes(this.store),
      ...flavorAccessRoutes(this.store),
      ...keypairRoutes(this.store),
      ...limitRoutes(this.store, usage),
      ...quotaSetRoutes(this.store, usage),
      ...quotaClassSetRoutes(this.store),
      ...extensionRoutes(),
      ...availabilityZoneRoutes(this.store, this.hosts),
      ...serviceRoutes(this.store, this.hosts),
      ...hypervisorRoutes(this.store, this.hosts),
      ...hostRoutes(this.store, this.hosts),
      ...serverGroupRoutes(this.store),
      ...migrationRoutes(this.store),
      ...simpleTenantUsageRoutes(this.store),
      ...aggregateRoutes(this.store, this.hosts),
      ...serverMetadataRoutes({ store: this.store }),
      ...serverTagRoutes({ store: this.store }),
      ...serverIpRoutes({ store: this.store }),
      ...serverInterfaceRoutes({ store: this.store, networks: io.networks }),
      ...securityGroupProxyRoutes({ networks: io.networks }),
      ...serverActionRoutes({ store: this.store, hosts: this.hosts, usage, logger: io.logger, images: io.images, imageUrl: options.imageUrl, networks: io.networks, allowResizeToSameHost: options.allowResizeToSameHost ?? false, ...(io.volumes ? { volumes: io.volumes } : {}), ...(io.service ? { service: io.service } : {}) }),
      ...(io.volumes ? volumeAttachmentRoutes({ store: this.store, volumes: io.volumes, crossAzAttach: options.crossAzAttach ?? true, logger: io.logger }) : []),
      ...serverRoutes({ store: this.store, hosts: this.hosts, usage, images: io.images, networks: io.networks, ...(io.service ? { service: io.service } : {}), ...(io.volumes ? { volumes: io.volumes } : {}), crossAzAttach: options.crossAzAttach ?? true, logger: io.logger }),
    ];
    this.server = new ComputeServer({ publicUrl: options.publicUrl, routes }, { validator, logger: io.logger, clock: io.clock });
  }

  /** Heartbeats the scheduler and conductor this process is, on `host` (compute/control-service.ts). */
  reportServices(host: string): Promise<void> {
    return reportControlServices(this.store, host);
  }

  /** Index entries for servers without them (made before the list index); how many were added. */
  indexServers(): Promise<number> {
    return backfillServerIndex(this.store);
  }

  /**
   * Places boots an API process left half done (it stopped between writing a server and queuing
   * its build): build requests older than `olderThanMs`. Claims and queue keys make a second
   * placement of one still in progress harmless.
   */
  async resumeBuilds(olderThanMs = 60_000): Promise<number> {
    const now = this.store.clock.now();
    const stale = (await this.store.scan<BuildRequest>(T.buildRequests)).filter((b) => now - b.createdMs >= olderThanMs);
    for (const b of stale) await placeBuilds(this.store, this.hosts, [b], this.logger);
    return stale.length;
  }
}
