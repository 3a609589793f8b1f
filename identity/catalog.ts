import { endpointsForProject } from './endpoint-filter.ts';
import type { EndpointRecord, RegionRecord, ServiceRecord } from './records.ts';
import { type IdentityStore, T } from './store.ts';
import type { Json } from './validation.ts';

/**
 * The service catalog as a token shows it (Keystone's `get_v3_catalog`): every enabled service
 * with its enabled endpoints, URLs with `$(project_id)s` / `$(tenant_id)s` filled in for a
 * project-scoped token; an endpoint whose URL needs a project is left out of other tokens. A
 * project with OS-EP-FILTER associations sees only those endpoints, and no service left
 * without one (Keystone's sql catalog, `return_all_endpoints_if_no_filter` at its default).
 */
export async function buildCatalog(store: IdentityStore, projectId: string | undefined): Promise<Json[]> {
  const [services, all, associated] = await Promise.all([store.scan<ServiceRecord>(T.services), store.scan<EndpointRecord>(T.endpoints), projectId === undefined ? [] : endpointsForProject(store, projectId)]);
  const only = new Set(associated.map((e) => e.id));
  const endpoints = only.size > 0 ? all.filter((e) => only.has(e.id)) : all;
  const catalog = services
    .filter((s) => s.enabled)
    .map((s) => ({
      endpoints: endpoints
        .filter((e) => e.service_id === s.id && e.enabled)
        .flatMap((e) => {
          const url = substitute(e.url, projectId);
          return url === undefined ? [] : [{ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url }];
        }),
      id: s.id,
      type: s.type,
      name: s.name ?? '',
    }));
  return only.size > 0 ? catalog.filter((s) => s.endpoints.length > 0) : catalog;
}

function substitute(url: string, projectId: string | undefined): string | undefined {
  const pattern = /[$%]\((project_id|tenant_id)\)s/g;
  if (!pattern.test(url)) return url;
  return projectId === undefined ? undefined : url.replace(pattern, projectId);
}

/** Region ids that exist, for endpoint checks. */
export async function regionExists(store: IdentityStore, id: string): Promise<boolean> {
  return (await store.get<RegionRecord>(T.regions, id)) !== undefined;
}
