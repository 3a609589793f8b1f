import { forbidden } from './forbidden.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { cinderTime } from './views.ts';

/**
 * Cinder's `GET /os-services` (cinder/api/contrib/services.py; `openstack volume service
 * list`, admin only): this node's volume and backup services, which are this process, so `up`
 * with the time of asking as their heartbeat. There is no scheduler service: the volume host
 * is the only one. Filters `host` and `binary`, as Cinder's.
 */
export function serviceRoutes(deps: VolumeApiDeps): Route[] {
  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    if (!contextOf(req).isAdmin) throw forbidden('volume_extension:services:index');
    // `host@backend#pool`: the volume service is `host@backend`, the backup service `host`.
    const volumeHost = deps.host.split('#')[0] as string;
    const rows = [
      { binary: 'cinder-volume', host: volumeHost },
      { binary: 'cinder-backup', host: volumeHost.split('@')[0] as string },
    ];
    const host = req.query.get('host');
    const binary = req.query.get('binary');
    const updatedAt = cinderTime(deps.clock.now());
    const services = rows
      .filter((s) => (host === null || s.host === host) && (binary === null || s.binary === binary))
      .map((s) => ({
        ...s,
        zone: deps.availabilityZone,
        status: 'enabled',
        state: 'up',
        updated_at: updatedAt,
        disabled_reason: null,
        ...(atLeast(req.version, '3.7') ? { cluster: null } : {}),
        ...(atLeast(req.version, '3.49') && s.binary === 'cinder-volume' ? { backend_state: 'up' } : {}),
      }));
    return { status: 200, body: { services } };
  };
  return [{ method: 'GET', path: '/os-services', auth: 'token', handler: index }];
}
