import { atLeast } from '../api-version.ts';
import { badRequest, invalidState, notFound } from '../errors.ts';
import type { MigrationRecord } from '../migration-record.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, type JsonObject, pyRepr } from '../validation.ts';
import { checkLock, visibleServer } from './servers.ts';
import { nextLink } from './next-link.ts';
import { pagingQuery, singleQueryValue } from './paging-query.ts';

/** Nova's `[api] max_limit`: the most migrations one page holds. */
const MAX_LIMIT = 1000;

/** The filters the database query knows (Nova's `migration_get_all_by_filters`); other query keys are ignored before 2.59. */
const FILTERS_V20 = ['hidden', 'host', 'instance_uuid', 'source_compute', 'status', 'migration_type'] as const;

/** Query parameters each microversion's schema allows (additionalProperties false from 2.59). */
function allowedQuery(req: ComputeRequest): readonly string[] | undefined {
  if (!atLeast(req.version, '2.59')) return undefined;
  return [...FILTERS_V20, 'limit', 'marker', 'changes-since', ...(atLeast(req.version, '2.66') ? ['changes-before'] : []), ...(atLeast(req.version, '2.80') ? ['user_id', 'project_id'] : [])];
}

/** The `updated_at` a migration's changes-since/before compare (Nova's column; null never matches). */
function updatedMs(m: MigrationRecord): number | undefined {
  return m.updated_ms ?? undefined;
}

/**
 * The query string checked as Nova's query schemas check it (from 2.59: only the known keys,
 * one value each for `limit`, `marker` and the times, `limit` a non-negative integer, the times
 * ISO 8601), then each filter's value (the last one given, as Nova's `search_opts.update`).
 */
function readQuery(req: ComputeRequest): { filters: Map<string, string>; limit: number | undefined; marker: string | undefined; since: number | undefined; before: number | undefined } {
  const q = req.query;
  const allowed = allowedQuery(req);
  const paging = allowed === undefined ? undefined : pagingQuery(req, allowed, MAX_LIMIT);
  const filters = new Map<string, string>();
  for (const key of [...FILTERS_V20, 'uuid', 'node', 'user_id', 'project_id']) {
    const v = q.getAll(key).at(-1);
    if (v !== undefined) filters.set(key, v);
  }
  if (paging) {
    singleQueryValue(req, 'user_id');
    singleQueryValue(req, 'project_id');
  }
  return { filters, limit: paging?.limit, marker: paging?.marker, since: paging?.since, before: paging?.before };
}

/** Whether `m` passes Nova's database filters. */
function matches(m: MigrationRecord, filters: ReadonlyMap<string, string>, since: number | undefined, before: number | undefined): boolean {
  const updated = updatedMs(m);
  if (since !== undefined && (updated === undefined || updated < since)) return false;
  if (before !== undefined && (updated === undefined || updated > before)) return false;
  const f = (k: string) => filters.get(k);
  if (f('uuid') !== undefined && m.uuid !== f('uuid')) return false;
  if (f('status') !== undefined && m.status !== f('status')) return false;
  const host = f('host');
  if (host !== undefined) {
    if (m.source_compute !== host && m.dest_compute !== host) return false;
  } else if (f('source_compute') !== undefined && m.source_compute !== f('source_compute')) return false;
  const node = f('node');
  if (node !== undefined && m.source_node !== node && m.dest_node !== node) return false;
  if (f('migration_type') !== undefined && m.migration_type !== f('migration_type')) return false;
  // No migration here is hidden (Nova hides only a cross-cell move's duplicate).
  const hidden = f('hidden');
  if (hidden !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(hidden.toLowerCase())) return false;
  if (f('instance_uuid') !== undefined && m.instance_uuid !== f('instance_uuid')) return false;
  if (f('user_id') !== undefined && m.user_id !== f('user_id')) return false;
  if (f('project_id') !== undefined && m.project_id !== f('project_id')) return false;
  return true;
}

/** One migration as os-migrations shows it at the request's microversion (Nova's `_output`). */
function listView(req: ComputeRequest, m: MigrationRecord): JsonObject {
  const out: JsonObject = {
    created_at: m.created_at,
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    id: m.id,
    instance_uuid: m.instance_uuid,
    // Nova's internal flavor ids; flavors here have only their public `flavorid`.
    new_instance_type_id: null,
    old_instance_type_id: null,
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: m.updated_at,
  };
  // No live migrations here, so never the 2.23 `links` of one in progress.
  if (atLeast(req.version, '2.23')) out['migration_type'] = m.migration_type;
  if (atLeast(req.version, '2.59')) out['uuid'] = m.uuid;
  if (atLeast(req.version, '2.80')) {
    out['user_id'] = m.user_id;
    out['project_id'] = m.project_id;
  }
  return out;
}

/** Nova's default order from 2.59: newest first (`created_at`, then `id`, both descending). */
function newestFirst(a: MigrationRecord, b: MigrationRecord): number {
  return b.created_ms - a.created_ms || b.id - a.id;
}

/**
 * `GET /os-migrations` (admin: `os_compute_api:os-migrations:index`), every resize, cold
 * migration and evacuation with Nova's filters; from 2.59 paged (`limit`, `marker` by UUID,
 * `migrations_links`) newest first, with `changes-since` (and `changes-before` from 2.66,
 * `user_id`/`project_id` from 2.80). And a server's in-progress live migrations (2.23: there
 * are none here, as this cloud has no live migration): the list is empty, show is Nova's 404,
 * abort and force-complete are Nova's 409 for a server not migrating.
 */
export function migrationRoutes(store: ComputeStore): ComputeRoute[] {
  const since = (req: ComputeRequest, minimum: string) => {
    if (!atLeast(req.version, minimum)) throw notFound('The resource could not be found.');
  };
  const serverOf = async (req: ComputeRequest, action: string) => {
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    requireAdmin(req, `os_compute_api:servers:migrations:${action}`);
    return s;
  };

  return [
    {
      method: 'GET',
      path: '/v2.1/os-migrations',
      auth: 'token',
      handler: async (req) => {
        const q = readQuery(req);
        requireAdmin(req, 'os_compute_api:os-migrations:index');
        const all = await store.scan<MigrationRecord>(T.migrations);
        let found = all.filter((m) => matches(m, q.filters, q.since, q.before));
        if (q.limit === undefined) {
          found.sort((a, b) => a.id - b.id);
          return ok({ migrations: found.map((m) => listView(req, m)) });
        }
        found.sort(newestFirst);
        // Nova's query answers `limit=0` with nothing before it looks the marker up.
        if (q.limit === 0) found = [];
        else if (q.marker !== undefined) {
          const at = all.find((m) => m.uuid === q.marker);
          if (!at) throw badRequest(`Marker ${q.marker} could not be found.`);
          found = found.filter((m) => newestFirst(at, m) < 0);
        }
        const page = found.slice(0, q.limit);
        const body: JsonObject = { migrations: page.map((m) => listView(req, m)) };
        if (q.limit > 0 && page.length === q.limit) {
          body['migrations_links'] = [nextLink(req, 'os-migrations', (page.at(-1) as MigrationRecord).uuid)];
        }
        return ok(body);
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/migrations',
      auth: 'token',
      handler: async (req) => {
        since(req, '2.23');
        await serverOf(req, 'index');
        return ok({ migrations: [] });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/migrations/{migration_id}',
      auth: 'token',
      handler: async (req) => {
        since(req, '2.23');
        const s = await serverOf(req, 'show');
        const id = req.params['migration_id'] as string;
        const m = /^[0-9]+$/.test(id) ? (await store.scan<MigrationRecord>(T.migrations)).find((x) => x.id === Number(id) && x.instance_uuid === s.uuid) : undefined;
        if (!m) throw notFound(`In-progress live migration ${id} is not found for server ${s.uuid}.`);
        throw notFound(`Migration ${id} for server ${s.uuid} is not live-migration.`);
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/migrations/{migration_id}',
      auth: 'token',
      handler: async (req) => {
        since(req, '2.24');
        const s = await serverOf(req, 'delete');
        checkLock(contextOf(req), s);
        // Nova's live_migrate_abort takes a server in task_state migrating only; none is here.
        throw invalidState(s.uuid, 'abort live migration', 'task_state', s.task_state ?? 'None');
      },
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{server_id}/migrations/{migration_id}/action',
      auth: 'token',
      handler: async (req) => {
        since(req, '2.22');
        const body = req.body;
        const action = isObject(body) ? Object.keys(body)[0] : undefined;
        if (action !== 'force_complete') throw badRequest(`There is no such action: ${action ?? 'None'}`);
        const extra = Object.keys(body as JsonObject).filter((k) => k !== 'force_complete');
        if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
        const value = (body as JsonObject)['force_complete'];
        if (value !== null) throw fieldError('force_complete', value, `${pyRepr(value)} is not of type 'null'`);
        const s = await serverOf(req, 'force_complete');
        checkLock(contextOf(req), s);
        if (s.vm_state !== 'active') throw invalidState(s.uuid, 'force_complete', 'vm_state', s.vm_state);
        throw invalidState(s.uuid, 'force_complete', 'task_state', s.task_state ?? 'None');
      },
    },
  ];
}
