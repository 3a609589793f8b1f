import { createHash } from 'node:crypto';

/** What a guest is told of itself (Nova's `InstanceMetadata`), gathered by the agent. */
export interface InstanceMetadata {
  readonly uuid: string;
  readonly name: string;
  /** The server's hostname, the `dhcp_domain` already appended (`vm.novalocal`). */
  readonly hostname: string;
  readonly launchIndex: number;
  readonly reservationId: string;
  readonly availabilityZone: string | null;
  readonly projectId: string;
  /** The server's `metadata` (Nova's `meta`; left out when empty). */
  readonly meta: Readonly<Record<string, string>>;
  /** The key pair the server was booted with. */
  readonly keypair: { readonly name: string; readonly type: string; readonly publicKey: string } | null;
  /** `user_data` decoded from its base64; null when the server has none. */
  readonly userData: Buffer | null;
  readonly imageRef: string;
  readonly flavorName: string;
  readonly securityGroups: readonly string[];
  /** The first fixed IPv4 address and the first floating one (EC2's `local-ipv4`, `public-ipv4`). */
  readonly fixedIpv4: string;
  readonly floatingIpv4: string;
  /** EC2's `block-device-mapping`: `ami`, `root`, `ephemeral<N>`, `swap`, `ebs<N>`. */
  readonly blockDeviceMapping: Readonly<Record<string, string>>;
  /** `network_data.json` (`networkData`); undefined: `{}`. */
  readonly networkData: Record<string, unknown> | undefined;
  /** 512 random bytes for the guest's entropy pool (`random_seed`), new for each drive. */
  readonly randomSeed: Buffer;
}

/** Nova's EC2 metadata versions; the config drive holds the last one and `latest`. */
const EC2_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04'];
/** `[api] config_drive_skip_versions`'s default: every EC2 version but the newest. */
const SKIPPED = new Set(EC2_VERSIONS.slice(0, -1));
/** Nova's OpenStack metadata versions (nova/api/metadata/base.py), oldest first. */
export const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', '2020-10-14', '2025-04-04'];
const GRIZZLY = '2013-04-04';
const HAVANA = '2013-10-17';
const LIBERTY = '2015-10-15';
const NEWTON_ONE = '2016-06-30';
const NEWTON_TWO = '2016-10-06';
const VICTORIA = '2020-10-14';

/** Whether OpenStack metadata `version` (or `latest`) has what `since` brought. */
function atLeast(version: string, since: string): boolean {
  return version === 'latest' || version >= since;
}

/** Nova's EC2 ids are `%08x` of database ids; ours are a stable hash of the uuid. */
function ec2Id(prefix: string, uuid: string): string {
  return `${prefix}-${createHash('md5').update(uuid).digest('hex').slice(0, 8)}`;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/**
 * The files of a config drive, as Nova's `metadata_for_config_drive` lists them: EC2's
 * `ec2/<version>/meta-data.json` (and `user-data`) for 2009-04-04 and `latest`, then for each
 * OpenStack version and `latest` its `meta_data.json`, `user_data` when the server has some,
 * `vendor_data.json` (2013-10-17 on), `network_data.json` (2015-10-15 on) and
 * `vendor_data2.json` (2016-10-06 on). Vendor data is Nova's default (the `StaticJSON` provider
 * with no file): `{}` and `{"static": {}}`.
 */
export function configDriveFiles(md: InstanceMetadata): Array<[path: string, data: Buffer]> {
  const files: Array<[string, Buffer]> = [];
  for (const version of [...EC2_VERSIONS, 'latest']) {
    if (SKIPPED.has(version)) continue;
    if (md.userData !== null) files.push([`ec2/${version}/user-data`, md.userData]);
    files.push([`ec2/${version}/meta-data.json`, json(ec2MetaData(md))]);
  }
  for (const version of [...OPENSTACK_VERSIONS, 'latest']) {
    files.push([`openstack/${version}/meta_data.json`, json(openstackMetaData(md, version))]);
    if (md.userData !== null) files.push([`openstack/${version}/user_data`, md.userData]);
    if (atLeast(version, HAVANA)) files.push([`openstack/${version}/vendor_data.json`, json({})]);
    if (atLeast(version, LIBERTY)) files.push([`openstack/${version}/network_data.json`, json(md.networkData ?? {})]);
    if (atLeast(version, NEWTON_TWO)) files.push([`openstack/${version}/vendor_data2.json`, json({ static: {} })]);
  }
  return files;
}

/** `meta_data.json` of one OpenStack version (Nova's `_metadata_as_json`). */
function openstackMetaData(md: InstanceMetadata, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { uuid: md.uuid };
  if (Object.keys(md.meta).length > 0) out['meta'] = md.meta;
  if (md.keypair) {
    out['public_keys'] = { [md.keypair.name]: md.keypair.publicKey };
    out['keys'] = [{ name: md.keypair.name, type: md.keypair.type, data: md.keypair.publicKey }];
  }
  out['hostname'] = md.hostname;
  out['name'] = md.name;
  out['launch_index'] = md.launchIndex;
  out['availability_zone'] = md.availabilityZone;
  if (atLeast(version, GRIZZLY)) out['random_seed'] = md.randomSeed.toString('base64');
  if (atLeast(version, LIBERTY)) out['project_id'] = md.projectId;
  // Only tagged devices are listed, and none can be tagged here.
  if (atLeast(version, NEWTON_ONE)) out['devices'] = [];
  if (atLeast(version, VICTORIA)) out['dedicated_cpus'] = [];
  return out;
}

/** EC2's `meta-data` of 2009-04-04 (`latest` is the same), without the key's `_name` as the config drive writes it. */
function ec2MetaData(md: InstanceMetadata): Record<string, unknown> {
  return {
    'ami-id': ec2Id('ami', md.imageRef),
    'ami-launch-index': md.launchIndex,
    'ami-manifest-path': 'FIXME',
    'instance-id': ec2Id('i', md.uuid),
    hostname: md.hostname,
    'local-ipv4': md.fixedIpv4,
    'reservation-id': md.reservationId,
    'security-groups': md.securityGroups,
    ...(md.keypair ? { 'public-keys': { '0': { 'openssh-key': md.keypair.publicKey } } } : {}),
    'local-hostname': md.hostname,
    'public-hostname': md.hostname,
    'public-ipv4': md.floatingIpv4,
    'instance-type': md.flavorName,
    'block-device-mapping': md.blockDeviceMapping,
    placement: { 'availability-zone': md.availabilityZone },
    'instance-action': 'none',
  };
}
