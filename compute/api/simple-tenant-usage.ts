import { atLeast } from '../api-version.ts';
import { badRequest } from '../errors.ts';
import { requireAdmin, requireProjectOrAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { TerminatedServerRecord } from '../terminated-servers.ts';
import { pyRepr, queryError } from '../validation.ts';
import { MAX_LIMIT } from './flavors.ts';
import { parseIsoTime } from './iso-time.ts';
import { nextLink } from './next-link.ts';

/** One server's share of a period, as Nova's `_tenant_usages_for_period` reports it. */
interface ServerUsage {
  instance_id: string;
  name: string;
  tenant_id: string;
  flavor: string;
  hours: number;
  memory_mb: number;
  local_gb: number;
  vcpus: number;
  started_at: string;
  ended_at: string | null;
  state: string;
  uptime: number;
}

/** A server as usage sees it, live or deleted. */
interface Counted {
  readonly usage: Omit<ServerUsage, 'hours' | 'uptime'>;
  readonly createdAt: string;
  readonly launchedMs: number;
  readonly terminatedMs: number | undefined;
}

/** Nova's `_parse_datetime`: `%Y-%m-%dT%H:%M:%S`, with `.%f`, or `%Y-%m-%d %H:%M:%S.%f`, as UTC; absent or empty: now. */
function parseTime(text: string | null, now: number): number {
  if (text === null || text === '') return now;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?| (\d{2}):(\d{2}):(\d{2})(\.\d{1,6}))$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? m[8]}:${m[5] ?? m[9]}:${m[6] ?? m[10]}${(m[7] ?? m[11] ?? '').slice(0, 4)}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  return ms;
}

/** Our record times (`isoMicros`, UTC) in ms. */
function recordMs(text: string): number {
  return parseIsoTime(text) ?? Number.NaN;
}

/**
 * os-simple-tenant-usage (`openstack usage list`, `usage show`), as Nova's: each server that ran
 * in the period (launched before its end, not terminated before its start), live or deleted
 * (a deleted one through its terminated-servers record), with its hours in the period and its
 * flavor's vCPUs, RAM and disk (root plus ephemeral); totals per project. The period is
 * `start`..`end` (now when absent; `end` no later than now). The list is admin-only and
 * summarizes unless `detailed=1`; show is for the project's readers and admins and always
 * details. From 2.40 `limit` and `marker` (a server's UUID) page over the servers, with a next
 * link when a page is full; from 2.75 any other query key is 400. Servers never launched used
 * nothing and are left out.
 */
export function simpleTenantUsageRoutes(store: ComputeStore): ComputeRoute[] {
  const period = (req: ComputeRequest, allowed: readonly string[]) => {
    const paged = atLeast(req.version, '2.40');
    const keys = [...allowed, ...(paged ? ['limit', 'marker'] : [])];
    if (atLeast(req.version, '2.75')) {
      const extra = [...new Set(req.query.keys())].filter((k) => !keys.includes(k));
      if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    }
    const now = store.clock.now();
    const start = parseTime(req.query.get('start'), now);
    // Nova reads "now" once per bound, so the second is a moment after the first.
    let stop = parseTime(req.query.get('end'), now + 1);
    if (!(start < stop)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    stop = Math.min(stop, now);
    let limit = MAX_LIMIT;
    let marker: string | undefined;
    if (paged) {
      const l = req.query.get('limit');
      if (l !== null) {
        if (!/^[0-9]+$/.test(l)) throw queryError('limit', l, `${pyRepr(l)} does not match '^[0-9]*$'`);
        limit = Math.min(MAX_LIMIT, Number(l));
      }
      marker = req.query.get('marker') ?? undefined;
    }
    return { start, stop, now, limit, marker, detailed: req.query.get('detailed') === '1' };
  };

  /** The servers that ran in the window, oldest first (Nova's `get_active_by_window_joined` order), paged. */
  const servers = async (tenant: string | undefined, start: number, stop: number, limit: number, marker: string | undefined): Promise<Counted[]> => {
    const live = (await store.scan<ServerRecord>(T.servers)).filter((s) => s.launched_at !== null && (tenant === undefined || s.project_id === tenant)).map((s): Counted => ({
      usage: { instance_id: s.uuid, name: s.name, tenant_id: s.project_id, flavor: s.flavor.name, memory_mb: s.flavor.ram, local_gb: s.flavor.disk + s.flavor.ephemeral, vcpus: s.flavor.vcpus, started_at: store.isoMicros(recordMs(s.launched_at as string)), ended_at: null, state: s.vm_state },
      createdAt: s.created_at,
      launchedMs: recordMs(s.launched_at as string),
      terminatedMs: undefined,
    }));
    const gone = (await store.scan<TerminatedServerRecord>(T.terminatedServers, tenant === undefined ? undefined : `${tenant}/`)).map((t): Counted => ({
      usage: { instance_id: t.instance_id, name: t.name, tenant_id: t.tenant_id, flavor: t.flavor, memory_mb: t.memory_mb, local_gb: t.local_gb, vcpus: t.vcpus, started_at: store.isoMicros(recordMs(t.launched_at)), ended_at: store.isoMicros(recordMs(t.terminated_at)), state: 'terminated' },
      createdAt: t.created_at,
      launchedMs: recordMs(t.launched_at),
      terminatedMs: recordMs(t.terminated_at),
    }));
    const all = [...live, ...gone]
      .filter((x) => (x.terminatedMs === undefined || x.terminatedMs > start) && x.launchedMs < stop)
      .sort((a, b) => recordMs(a.createdAt) - recordMs(b.createdAt) || (a.usage.instance_id < b.usage.instance_id ? -1 : 1));
    let from = 0;
    if (marker !== undefined) {
      const at = all.findIndex((x) => x.usage.instance_id === marker);
      if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
      from = at + 1;
    }
    return all.slice(from, from + limit);
  };

  /** Nova's `_hours_for` and the per-project sums. */
  const summarize = (counted: readonly Counted[], start: number, stop: number, now: number, detailed: boolean) => {
    const byTenant = new Map<string, Record<string, unknown> & { total_local_gb_usage: number; total_vcpus_usage: number; total_memory_mb_usage: number; total_hours: number; server_usages?: ServerUsage[] }>();
    const all: ServerUsage[] = [];
    for (const c of counted) {
      const from = Math.max(c.launchedMs, start);
      const to = c.terminatedMs === undefined ? stop : Math.min(stop, c.terminatedMs);
      const hours = Math.max(0, to - from) / 3_600_000;
      const uptime = Math.trunc(((c.terminatedMs ?? now) - c.launchedMs) / 1000);
      const info: ServerUsage = { ...c.usage, hours, uptime };
      let summary = byTenant.get(info.tenant_id);
      if (!summary) {
        summary = { tenant_id: info.tenant_id, ...(detailed ? { server_usages: [] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_hours: 0, start: store.isoMicros(start), stop: store.isoMicros(stop) };
        byTenant.set(info.tenant_id, summary);
      }
      summary.total_local_gb_usage += info.local_gb * hours;
      summary.total_vcpus_usage += info.vcpus * hours;
      summary.total_memory_mb_usage += info.memory_mb * hours;
      summary.total_hours += hours;
      summary.server_usages?.push(info);
      all.push(info);
    }
    return { usages: [...byTenant.values()], all };
  };

  return [
    {
      method: 'GET',
      path: '/v2.1/os-simple-tenant-usage',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-simple-tenant-usage:list');
        const p = period(req, ['start', 'end', 'detailed']);
        const counted = await servers(undefined, p.start, p.stop, p.limit, p.marker);
        const { usages, all } = summarize(counted, p.start, p.stop, p.now, p.detailed);
        const last = all.at(-1);
        const links = atLeast(req.version, '2.40') && last !== undefined && all.length === p.limit ? { tenant_usages_links: [nextLink(req, 'os-simple-tenant-usage', last.instance_id)] } : {};
        return ok({ tenant_usages: usages, ...links });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-simple-tenant-usage/{tenant_id}',
      auth: 'token',
      handler: async (req) => {
        const tenant = req.params['tenant_id'] as string;
        requireProjectOrAdmin(req, 'os_compute_api:os-simple-tenant-usage:show', tenant);
        const p = period(req, ['start', 'end']);
        const counted = await servers(tenant, p.start, p.stop, p.limit, p.marker);
        const { usages, all } = summarize(counted, p.start, p.stop, p.now, true);
        const last = all.at(-1);
        const links = atLeast(req.version, '2.40') && last !== undefined && all.length === p.limit ? { tenant_usage_links: [nextLink(req, `os-simple-tenant-usage/${encodeURIComponent(tenant)}`, last.instance_id)] } : {};
        return ok({ tenant_usage: usages[0] ?? {}, ...links });
      },
    },
  ];
}
