import { atLeast } from '../api-version.ts';
import { badRequest, notFound } from '../errors.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { requireAdmin } from '../policy.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import type { ComputeStore } from '../store.ts';

/**
 * os-hypervisors (admins): one hypervisor per compute host (Nova's compute node), its capacity
 * and use from the host's record; ids are UUIDs from 2.53; 2.88 drops the statistics fields
 * (they belong to placement) and `/statistics`.
 */
export function hypervisorRoutes(store: ComputeStore, hosts: RecordHostStateStore): ComputeRoute[] {
  const basic = (req: ComputeRequest, h: ComputeHostRecord): Record<string, unknown> => ({
    id: atLeast(req.version, '2.53') ? h.serviceUuid : h.serviceNumber,
    hypervisor_hostname: h.host,
    state: isServiceUp(h, store.clock.now()) ? 'up' : 'down',
    status: h.enabled ? 'enabled' : 'disabled',
  });
  const detail = (req: ComputeRequest, h: ComputeHostRecord): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      ...basic(req, h),
      hypervisor_type: h.hypervisorType,
      hypervisor_version: h.hypervisorVersion ?? 1000,
      host_ip: h.hostIp,
      service: { host: h.host, id: atLeast(req.version, '2.53') ? h.serviceUuid : h.serviceNumber, disabled_reason: h.enabled ? null : (h.disabledReason ?? null) },
    };
    if (!atLeast(req.version, '2.88')) {
      Object.assign(out, {
        vcpus: h.total.vcpus,
        memory_mb: h.total.memoryMiB,
        local_gb: h.total.diskGiB,
        vcpus_used: h.used.vcpus,
        memory_mb_used: h.used.memoryMiB + h.reserved.memoryMiB,
        local_gb_used: h.used.diskGiB,
        free_ram_mb: h.total.memoryMiB - h.used.memoryMiB - h.reserved.memoryMiB,
        free_disk_gb: h.total.diskGiB - h.used.diskGiB,
        current_workload: 0,
        running_vms: h.runningVms,
        disk_available_least: h.total.diskGiB - h.used.diskGiB,
        cpu_info: atLeast(req.version, '2.28') ? {} : '{}',
      });
    }
    return out;
  };
  const find = async (req: ComputeRequest): Promise<ComputeHostRecord> => {
    const id = req.params['hypervisor_id'] as string;
    if (atLeast(req.version, '2.53') ? !/^[0-9a-f-]{36}$/.test(id) : !/^\d+$/.test(id)) throw badRequest(`Invalid uuid ${id}`);
    const h = (await hosts.all()).find((x) => String(atLeast(req.version, '2.53') ? x.serviceUuid : x.serviceNumber) === id);
    if (!h) throw notFound(`Hypervisor with ID ${id} could not be found.`);
    return h;
  };
  const list = async (req: ComputeRequest, full: boolean) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:list');
    const pattern = req.query.get('hypervisor_hostname_pattern');
    const all = (await hosts.all()).filter((h) => pattern === null || h.host.includes(pattern));
    return ok({ hypervisors: all.map((h) => (full ? detail(req, h) : basic(req, h))) });
  };
  return [
    { method: 'GET', path: '/v2.1/os-hypervisors', auth: 'token', handler: (req) => list(req, false) },
    { method: 'GET', path: '/v2.1/os-hypervisors/detail', auth: 'token', handler: (req) => list(req, true) },
    {
      method: 'GET',
      path: '/v2.1/os-hypervisors/statistics',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-hypervisors:statistics');
        if (atLeast(req.version, '2.88')) throw notFound('The resource could not be found.');
        const all = await hosts.all();
        const sum = (f: (h: ComputeHostRecord) => number): number => all.reduce((n, h) => n + f(h), 0);
        return ok({
          hypervisor_statistics: {
            count: all.length,
            vcpus: sum((h) => h.total.vcpus),
            memory_mb: sum((h) => h.total.memoryMiB),
            local_gb: sum((h) => h.total.diskGiB),
            vcpus_used: sum((h) => h.used.vcpus),
            memory_mb_used: sum((h) => h.used.memoryMiB + h.reserved.memoryMiB),
            local_gb_used: sum((h) => h.used.diskGiB),
            free_ram_mb: sum((h) => h.total.memoryMiB - h.used.memoryMiB - h.reserved.memoryMiB),
            free_disk_gb: sum((h) => h.total.diskGiB - h.used.diskGiB),
            current_workload: 0,
            running_vms: sum((h) => h.runningVms),
            disk_available_least: sum((h) => h.total.diskGiB - h.used.diskGiB),
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-hypervisors/{hypervisor_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-hypervisors:show');
        return ok({ hypervisor: detail(req, await find(req)) });
      },
    },
  ];
}
