import { controlServices, INTERNAL_ZONE } from '../control-service.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { requireAdmin } from '../policy.ts';
import { type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';

/**
 * os-availability-zone: the zones with an enabled, up compute host (`available`), and for admins
 * (`detail`) each zone's hosts and their `nova-compute` service (Nova's `zoneState`, `hosts`),
 * with the `internal` zone of the scheduler and conductor services.
 */
export function availabilityZoneRoutes(store: ComputeStore, hosts: RecordHostStateStore): ComputeRoute[] {
  const zones = async (detail: boolean) => {
    const now = store.clock.now();
    const byZone = new Map<string, { available: boolean; hosts: Record<string, unknown> }>();
    for (const h of await hosts.all()) {
      const zone = byZone.get(h.availabilityZone) ?? { available: false, hosts: {} };
      const up = isServiceUp(h, now);
      zone.available ||= up && h.enabled;
      zone.hosts[h.host] = { 'nova-compute': { available: up, active: h.enabled, updated_at: store.isoMicros(h.lastHeartbeatMs) } };
      byZone.set(h.availabilityZone, zone);
    }
    if (detail) {
      // Nova's `internal` zone: the enabled services that are not computes, each on its host.
      const internal: Record<string, Record<string, unknown>> = {};
      for (const c of (await controlServices(store)).filter((s) => s.enabled)) {
        internal[c.host] = { ...internal[c.host], [c.binary]: { available: isServiceUp(c, now), active: true, updated_at: store.isoMicros(c.lastHeartbeatMs) } };
      }
      if (Object.keys(internal).length > 0) byZone.set(INTERNAL_ZONE, { available: true, hosts: internal });
    }
    const info = [...byZone.entries()]
      .filter(([, z]) => detail || z.available)
      .map(([name, z]) => ({ zoneName: name, zoneState: { available: z.available }, hosts: detail ? z.hosts : null }));
    return ok({ availabilityZoneInfo: info });
  };
  return [
    { method: 'GET', path: '/v2.1/os-availability-zone', auth: 'token', handler: async () => zones(false) },
    {
      method: 'GET',
      path: '/v2.1/os-availability-zone/detail',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-availability-zone:detail');
        return zones(true);
      },
    },
  ];
}
