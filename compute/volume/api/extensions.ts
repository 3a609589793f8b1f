import { CinderError } from './cinder-error.ts';
import type { Route, VolumeResponse } from './request.ts';

interface Extension {
  readonly name: string;
  readonly alias: string;
  /** The descriptor's docstring, which Cinder shows as the description. */
  readonly description: string;
  readonly updated: string;
}

/**
 * The extensions of cinder/api/contrib/ whose APIs this service serves, in the order of their
 * files there. Left out because their APIs are not served: Capabilities, Cgsnapshots,
 * Consistencygroups, ExtendedServices (services enable/disable), Hosts, SchedulerHints, Scheduler_stats, SnapshotActions, SnapshotManage, SnapshotUnmanage,
 * VolumeEncryptionMetadata, VolumeManage, VolumeUnmanage.
 */
const EXTENSIONS: readonly Extension[] = [
  { name: 'AdminActions', alias: 'os-admin-actions', description: 'Enable admin actions.', updated: '2012-08-25T00:00:00+00:00' },
  { name: 'AvailabilityZones', alias: 'os-availability-zone', description: 'Describe Availability Zones.', updated: '2013-06-27T00:00:00+00:00' },
  { name: 'Backups', alias: 'backups', description: 'Backups support.', updated: '2012-12-12T00:00:00+00:00' },
  { name: 'ExtendedSnapshotAttributes', alias: 'os-extended-snapshot-attributes', description: 'Extended SnapshotAttributes support.', updated: '2012-06-19T00:00:00+00:00' },
  { name: 'Qos_specs_manage', alias: 'qos-specs', description: 'QoS specs support.', updated: '2013-08-02T00:00:00+00:00' },
  { name: 'QuotaClasses', alias: 'os-quota-class-sets', description: 'Quota classes management support.', updated: '2012-03-12T00:00:00+00:00' },
  { name: 'Quotas', alias: 'os-quota-sets', description: 'Quota management support.', updated: '2011-08-08T00:00:00+00:00' },
  { name: 'Services', alias: 'os-services', description: 'Services support.', updated: '2012-10-28T00:00:00-00:00' },
  { name: 'TypesExtraSpecs', alias: 'os-types-extra-specs', description: 'Type extra specs support.', updated: '2011-08-24T00:00:00+00:00' },
  { name: 'TypesManage', alias: 'os-types-manage', description: 'Types manage support.', updated: '2011-08-24T00:00:00+00:00' },
  { name: 'UsedLimits', alias: 'os-used-limits', description: 'Provide data on limited resources that are being used.', updated: '2013-10-03T00:00:00+00:00' },
  { name: 'VolumeActions', alias: 'os-volume-actions', description: 'Enable volume actions.', updated: '2012-05-31T00:00:00+00:00' },
  { name: 'VolumeHostAttribute', alias: 'os-vol-host-attr', description: 'Expose host as an attribute of a volume.', updated: '2011-11-03T00:00:00+00:00' },
  { name: 'VolumeImageMetadata', alias: 'os-vol-image-meta', description: 'Show image metadata associated with the volume.', updated: '2012-12-07T00:00:00+00:00' },
  { name: 'VolumeMigStatusAttribute', alias: 'os-vol-mig-status-attr', description: 'Expose migration_status as an attribute of a volume.', updated: '2013-08-08T00:00:00+00:00' },
  { name: 'VolumeTenantAttribute', alias: 'os-vol-tenant-attr', description: 'Expose the internal project_id as an attribute of a volume.', updated: '2011-11-03T00:00:00+00:00' },
  { name: 'VolumeTransfer', alias: 'os-volume-transfer', description: 'Volume transfer management support.', updated: '2013-05-29T00:00:00+00:00' },
  { name: 'VolumeTypeAccess', alias: 'os-volume-type-access', description: 'Volume type access support.', updated: '2014-06-26T00:00:00Z' },
  { name: 'VolumeTypeEncryption', alias: 'encryption', description: 'Encryption support for volume types.', updated: '2013-07-01T00:00:00+00:00' },
];

/** ExtensionsResource._translate: no namespace (Cinder dropped it), links always empty. */
function view(e: Extension): Record<string, unknown> {
  return { name: e.name, alias: e.alias, description: e.description, updated: e.updated, links: [] };
}

/** `GET /extensions` (`openstack extension list --volume`) and one by its alias; any token. */
export function extensionRoutes(): Route[] {
  return [
    { method: 'GET', path: '/extensions', auth: 'token', handler: async (): Promise<VolumeResponse> => ({ status: 200, body: { extensions: EXTENSIONS.map(view) } }) },
    {
      method: 'GET',
      path: '/extensions/{alias}',
      auth: 'token',
      handler: async (req): Promise<VolumeResponse> => {
        const found = EXTENSIONS.find((e) => e.alias === req.params['alias']);
        if (!found) throw new CinderError(404, 'The resource could not be found.');
        return { status: 200, body: { extension: view(found) } };
      },
    },
  ];
}
