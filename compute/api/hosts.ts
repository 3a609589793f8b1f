import { atLeast } from '../api-version.ts';
import { type ControlServiceRecord, controlServices, INTERNAL_ZONE } from '../control-service.ts';
import { NovaError, notFound } from '../errors.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr } from '../validation.ts';

const SWITCHES = ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'];

/** Nova's `raise_feature_not_supported`: what the libvirt driver answers to host power and maintenance calls. */
function notSupported(): NovaError {
  return new NovaError(501, 'The requested functionality is not supported.');
}

interface Usage {
  cpu: number;
  memory_mb: number;
  disk_gb: number;
}

/**
 * os-hosts (admins, 2.1 to 2.42; os-services and os-hypervisors replace it): the enabled
 * services' hosts, a compute host's resources (its totals, what is in use, what its servers'
 * flavors add up to, and that per project), and the host actions as Nova answers them with the
 * libvirt driver: `status` is acknowledged without a change (the driver has no set_host_enabled;
 * os-services disables a host), maintenance mode and power actions are 501.
 */
export function hostRoutes(store: ComputeStore, hosts: RecordHostStateStore): ComputeRoute[] {
  const supported = (req: ComputeRequest): void => {
    if (atLeast(req.version, '2.43')) throw notFound('The resource could not be found.');
  };
  /** A compute host by name, as Nova's host mapping finds one. */
  const computeHost = async (name: string): Promise<ComputeHostRecord> => {
    const found = (await hosts.all()).find((h) => h.host === name);
    if (!found) throw notFound(`Host '${name}' is not mapped to any cell`);
    return found;
  };
  const power = (action: string): ComputeRoute => ({
    method: 'GET',
    path: `/v2.1/os-hosts/{host_name}/${action}`,
    auth: 'token',
    handler: async (req) => {
      supported(req);
      requireAdmin(req, `os_compute_api:os-hosts:${action === 'startup' ? 'start' : action}`);
      await computeHost(req.params['host_name'] as string);
      throw notSupported();
    },
  });
  return [
    {
      method: 'GET',
      path: '/v2.1/os-hosts',
      auth: 'token',
      handler: async (req) => {
        supported(req);
        requireAdmin(req, 'os_compute_api:os-hosts:list');
        const zone = req.query.get('zone');
        // Computes first: Nova lists by service id, and a client taking the first host (to add to
        // an aggregate, say) means a compute, which on a one-machine Nova shares its host name.
        const control = (await controlServices(store)).filter((c) => c.enabled).map((c: ControlServiceRecord) => ({ host_name: c.host, service: c.binary.replace(/^nova-/, ''), zone: INTERNAL_ZONE }));
        const computes = (await hosts.all()).filter((h) => h.enabled).map((h) => ({ host_name: h.host, service: 'compute', zone: h.availabilityZone }));
        return ok({ hosts: [...computes, ...control].filter((h) => !zone || h.zone === zone) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-hosts/{host_name}',
      auth: 'token',
      handler: async (req) => {
        supported(req);
        requireAdmin(req, 'os_compute_api:os-hosts:show');
        const name = req.params['host_name'] as string;
        const h = await computeHost(name);
        const servers = (await store.readMany<ServerRecord>(T.servers, h.instances)).filter((s): s is ServerRecord => s !== undefined && s.host === name);
        const row = (project: string, u: Usage) => ({ resource: { host: name, project, ...u } });
        const add = (u: Usage, s: ServerRecord): void => {
          u.cpu += s.flavor.vcpus;
          u.memory_mb += s.flavor.ram;
          u.disk_gb += s.flavor.disk + s.flavor.ephemeral;
        };
        const max: Usage = { cpu: 0, memory_mb: 0, disk_gb: 0 };
        const byProject = new Map<string, Usage>();
        for (const s of servers) {
          add(max, s);
          const p = byProject.get(s.project_id) ?? { cpu: 0, memory_mb: 0, disk_gb: 0 };
          add(p, s);
          byProject.set(s.project_id, p);
        }
        return ok({
          host: [
            row('(total)', { cpu: h.total.vcpus, memory_mb: h.total.memoryMiB, disk_gb: h.total.diskGiB }),
            // What os-hypervisors shows in use: the instances' claims and the host's reserve.
            row('(used_now)', { cpu: h.used.vcpus, memory_mb: h.used.memoryMiB + h.reserved.memoryMiB, disk_gb: h.used.diskGiB }),
            row('(used_max)', max),
            ...[...byProject.entries()].map(([project, u]) => row(project, u)),
          ],
        });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/os-hosts/{host_name}',
      auth: 'token',
      handler: async (req) => {
        supported(req);
        const body = req.body;
        if (!isObject(body)) throw new NovaError(400, `${pyRepr(body ?? null)} is not of type 'object'`);
        for (const key of ['status', 'maintenance_mode']) {
          const v = body[key];
          if (v === undefined) continue;
          if (typeof v !== 'string') throw fieldError(key, v, `${pyRepr(v)} is not of type 'string'`);
          if (!SWITCHES.includes(v)) throw fieldError(key, v, `${pyRepr(v)} is not one of ${pyRepr(SWITCHES)}`);
        }
        if (body['status'] === undefined && body['maintenance_mode'] === undefined) throw new NovaError(400, `${pyRepr(body)} is not valid under any of the given schemas`);
        checkTopLevel(body);
        requireAdmin(req, 'os_compute_api:os-hosts:update');
        const name = req.params['host_name'] as string;
        await computeHost(name);
        const result: Record<string, unknown> = { host: name };
        if (typeof body['status'] === 'string') result['status'] = body['status'].toLowerCase() === 'enable' ? 'enabled' : 'disabled';
        if (body['maintenance_mode'] !== undefined) throw notSupported();
        return ok(result);
      },
    },
    power('startup'),
    power('shutdown'),
    power('reboot'),
  ];
}

/** The update body has no members but `status` and `maintenance_mode` (its schema's additionalProperties). */
function checkTopLevel(body: Record<string, unknown>): void {
  const extra = Object.keys(body).filter((k) => k !== 'status' && k !== 'maintenance_mode');
  if (extra.length > 0) throw new NovaError(400, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
}
