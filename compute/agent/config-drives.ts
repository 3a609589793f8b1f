import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../common/path-exists.ts';
import { volumesOf } from '../block-device-record.ts';
import type { ImageApi } from '../image-api.ts';
import type { NetworkApi, NeutronSubnet } from '../network-api.ts';
import { tapName } from '../network/driver/device-names.ts';
import { type KeypairRecord, T } from '../records.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { ComputeStore } from '../store.ts';
import { CONFIG_DRIVE_FILE, makeConfigDrive } from './config-drive.ts';
import { configDriveFiles, type InstanceMetadata } from './config-drive-files.ts';
import type { DiskSpec } from './hypervisor/domain-xml.ts';
import { type MetadataVif, networkData } from './network-data.ts';

export interface ConfigDrivesOptions {
  readonly stateDir: string;
  /** The host's availability zone: a server that asked for none is in it. */
  readonly availabilityZone: string;
  /** Nova's `force_config_drive`: every server built here gets one. */
  readonly force: boolean;
  /** Nova's `[api] dhcp_domain` (`novalocal`): appended to the hostname the guest is told; empty: none. */
  readonly dhcpDomain: string;
  /** Nova's `mkisofs_cmd`. */
  readonly mkisofs?: string;
}

/**
 * Servers' config drives (Nova's libvirt `_create_configdrive`): a read-only `cdrom` labelled
 * `config-2` in the instance directory, holding what Nova's metadata service would answer the
 * guest (its name, hostname, key, user data, network configuration), for cloud-init and
 * similar agents. A server has one when it asked (`config_drive`), when its image says
 * `img_config_drive=mandatory`, or when the host forces them for new servers; Nova then records
 * `config_drive` as `True`. Made when the server is built, made again at a rebuild, made on a
 * host the server moves to when it is not there yet, never overwritten otherwise (Nova's "Don't
 * overwrite an existing config drive").
 */
export class ConfigDrives {
  private readonly options: ConfigDrivesOptions;
  private readonly store: ComputeStore;
  private readonly networks: NetworkApi;
  private readonly images: ImageApi;
  private readonly service: ServiceAuth;

  constructor(options: ConfigDrivesOptions, deps: { store: ComputeStore; networks: NetworkApi; images: ImageApi; service: ServiceAuth }) {
    this.options = options;
    this.store = deps.store;
    this.networks = deps.networks;
    this.images = deps.images;
    this.service = deps.service;
  }

  /** Nova's `configdrive.required_by`, for a server being built (the image read with `token`). */
  async requiredBy(token: string, server: ServerRecord): Promise<boolean> {
    if (server.config_drive === 'True') return true;
    if (this.options.force && server.launched_at === null) return true;
    if (server.volume_backed) return false;
    const image = await this.images.get(token, server.image_ref);
    return image?.['img_config_drive'] === 'mandatory';
  }

  /** The drive as the domain lists it, after every other disk; made first when it is not on this host. None for a server without one. */
  async spec(server: ServerRecord): Promise<DiskSpec | undefined> {
    if (server.config_drive !== 'True') return undefined;
    const path = this.path(server);
    if (!(await pathExists(path))) await makeConfigDrive(path, configDriveFiles(await this.metadataOf(server)), this.options.mkisofs);
    return { path, format: 'raw', targetDev: 'sda', device: 'cdrom' };
  }

  /** Removes the server's drive, so that the next `spec` makes it anew (a rebuild: new key, user data, name). */
  async discard(server: Pick<ServerRecord, 'uuid'>): Promise<void> {
    await rm(this.path(server), { force: true });
  }

  private path(server: Pick<ServerRecord, 'uuid'>): string {
    return join(this.options.stateDir, server.uuid, CONFIG_DRIVE_FILE);
  }

  /** What Nova's `InstanceMetadata` gathers: the key pair, the NICs as Neutron has them (read with compute's own token), the disks. */
  private async metadataOf(server: ServerRecord): Promise<InstanceMetadata> {
    const token = await this.service.token();
    let keypair: InstanceMetadata['keypair'] = null;
    if (server.key_name !== null) {
      const record = await this.store.get<KeypairRecord>(T.keypairs, `${server.user_id}/${server.key_name}`);
      // Nova keeps a copy of the key with the server; ours is `key_data` (the type from the key pair while it exists).
      const publicKey = server.key_data ?? record?.public_key;
      if (publicKey !== undefined) keypair = { name: server.key_name, type: record?.type ?? 'ssh', publicKey };
    }
    const vifs: MetadataVif[] = [];
    for (const p of server.ports) {
      const port = await this.networks.getPort(token, p.portId);
      if (!port) continue;
      const network = await this.networks.getNetwork(token, p.networkId);
      const subnets: NeutronSubnet[] = [];
      for (const id of new Set(port.fixed_ips.map((f) => f.subnet_id))) {
        const subnet = await this.networks.getSubnet(token, id);
        if (subnet) subnets.push(subnet);
      }
      vifs.push({ portId: p.portId, mac: p.mac, networkId: p.networkId, mtu: network?.mtu ?? null, vifType: typeof port['binding:vif_type'] === 'string' ? port['binding:vif_type'] : 'unbound', devname: tapName(p.portId), fixedIps: port.fixed_ips, subnets });
    }
    const addresses = Object.values(server.addresses).flat();
    const v4 = (kind: 'fixed' | 'floating') => addresses.find((a) => a.version === 4 && a['OS-EXT-IPS:type'] === kind)?.addr ?? '';
    return {
      uuid: server.uuid,
      name: server.name,
      hostname: this.options.dhcpDomain === '' ? server.hostname : `${server.hostname}.${this.options.dhcpDomain}`,
      launchIndex: server.launch_index,
      reservationId: server.reservation_id,
      availabilityZone: server.availability_zone ?? this.options.availabilityZone,
      projectId: server.project_id,
      meta: server.metadata,
      keypair,
      userData: server.user_data === null ? null : Buffer.from(server.user_data, 'base64'),
      imageRef: server.image_ref,
      flavorName: server.flavor.name,
      securityGroups: server.security_groups,
      fixedIpv4: v4('fixed'),
      floatingIpv4: v4('floating'),
      blockDeviceMapping: await this.blockDeviceMapping(server),
      networkData: networkData(vifs),
      randomSeed: randomBytes(512),
    };
  }

  /** EC2's `block-device-mapping` (Nova's `instance_block_mapping`): the root, the ephemeral disks and swap, the volumes. */
  private async blockDeviceMapping(server: ServerRecord): Promise<Record<string, string>> {
    const out: Record<string, string> = { ami: 'vda', root: '/dev/vda' };
    let eph = 0;
    for (const d of server.local_disks ?? []) {
      if (d.kind === 'swap') out['swap'] = `/dev/${d.device}`;
      else out[`ephemeral${eph++}`] = `/dev/${d.device}`;
    }
    const volumes = (await volumesOf(this.store, server)).map((m) => m.device_name);
    volumes.sort();
    volumes.forEach((dev, i) => {
      out[`ebs${i}`] = dev;
    });
    return out;
  }
}
