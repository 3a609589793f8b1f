import type { VolumeApiDeps } from './deps.ts';
import type { Route, VolumeResponse } from './request.ts';

/**
 * Cinder's `GET /os-availability-zone` (cinder/api/contrib/availability_zones.py; `openstack
 * availability zone list --volume`, any user): the one zone volumes are made in.
 */
export function availabilityZoneRoutes(deps: VolumeApiDeps): Route[] {
  const index = async (): Promise<VolumeResponse> => ({ status: 200, body: { availabilityZoneInfo: [{ zoneName: deps.availabilityZone, zoneState: { available: true } }] } });
  return [{ method: 'GET', path: '/os-availability-zone', auth: 'token', handler: index }];
}
