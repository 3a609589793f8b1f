import { CinderError } from './cinder-error.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/**
 * The filters each listing applies (Cinder's resource_filters.json, narrowed to what this
 * service's listings act on): what `GET /resource_filters` (3.33; `openstack block storage
 * resource filter list`, `cinder list-filters`) reports, so a client offers only filters that work.
 */
const FILTERS: ReadonlyArray<{ resource: string; filters: readonly string[] }> = [
  { resource: 'volume', filters: ['name', 'status', 'metadata', 'bootable', 'availability_zone'] },
  { resource: 'snapshot', filters: ['name', 'status', 'volume_id'] },
  { resource: 'backup', filters: ['name', 'status', 'volume_id'] },
  { resource: 'transfer', filters: ['name', 'volume_id'] },
  { resource: 'volume_type', filters: ['is_public'] },
];

export function resourceFilterRoutes(): Route[] {
  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    if (!atLeast(req.version, '3.33')) throw new CinderError(404, 'The resource could not be found.');
    const resource = req.query.get('resource');
    return { status: 200, body: { resource_filters: FILTERS.filter((f) => resource === null || f.resource === resource).map((f) => ({ resource: f.resource, filters: [...f.filters] })) } };
  };
  return [{ method: 'GET', path: '/resource_filters', auth: 'token', handler: index }];
}
