import { RecordExistsError } from '../../client/record-store.ts';
import type { IdentityDeps } from '../deps.ts';
import { deleteAssociationsOf } from '../endpoint-filter.ts';
import { conflict, validationError } from '../errors.ts';
import { mustGet, newId } from '../lookup.ts';
import { caller, requireAdmin } from '../policy.ts';
import { type EndpointInterface, type EndpointRecord, type RegionRecord, renderEndpoint, renderList, renderRegion, renderService, type ServiceRecord } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, optionalBoolean, optionalEnum, optionalString, requiredString, section } from '../validation.ts';

const INTERFACES: readonly EndpointInterface[] = ['admin', 'internal', 'public'];
const SERVICE_KNOWN = ['id', 'type', 'name', 'description', 'enabled', 'links'];
const ENDPOINT_KNOWN = ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled', 'links'];
const REGION_KNOWN = ['id', 'description', 'parent_region_id', 'links'];

/** The catalog's parts: services, endpoints and regions (`/v3/services`, `/v3/endpoints`, `/v3/regions`). */
export function catalogAdminRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const checkRegion = async (id: string | undefined): Promise<void> => {
    if (id !== undefined && !(await store.get<RegionRecord>(T.regions, id))) throw validationError(`Could not find region: ${id}.`);
  };
  return [
    {
      method: 'POST',
      path: '/v3/services',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_service');
        const body = section(req.body, 'service');
        const type = requiredString(body, 'type', { min: 1, max: 255 });
        const name = optionalString(body, 'name', { max: 255, nullable: true });
        const description = optionalString(body, 'description', { nullable: true });
        const service: ServiceRecord = { id: newId(), type, enabled: optionalBoolean(body, 'enabled') ?? true, ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), extra: extraFields(body, SERVICE_KNOWN) };
        await store.create(T.services, service);
        return ok({ service: renderService(service, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/services',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_services');
        const type = req.query.get('type');
        const name = req.query.get('name');
        const services = (await store.scan<ServiceRecord>(T.services)).filter((s) => (type === null || s.type === type) && (name === null || s.name === name));
        return ok(renderList('services', services.map((s) => renderService(s, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/services/{service_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:get_service');
        return ok({ service: renderService(await mustGet<ServiceRecord>(store, T.services, req.params['service_id'] as string, 'service'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/services/{service_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_service');
        const id = req.params['service_id'] as string;
        const body = section(req.body, 'service');
        const type = optionalString(body, 'type', { min: 1, max: 255 });
        const name = optionalString(body, 'name', { max: 255, nullable: true });
        const description = optionalString(body, 'description', { nullable: true });
        const enabled = optionalBoolean(body, 'enabled');
        await mustGet<ServiceRecord>(store, T.services, id, 'service');
        const updated = await store.update<ServiceRecord>(T.services, id, (s) => ({
          ...s,
          ...(type !== undefined ? { type } : {}),
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(enabled !== undefined ? { enabled } : {}),
          extra: { ...s.extra, ...extraFields(body, SERVICE_KNOWN) },
        }));
        return ok({ service: renderService(updated as ServiceRecord, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/services/{service_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_service');
        const service = await mustGet<ServiceRecord>(store, T.services, req.params['service_id'] as string, 'service');
        for (const e of await store.scan<EndpointRecord>(T.endpoints)) {
          if (e.service_id !== service.id) continue;
          await deleteAssociationsOf(store, { endpoint: e.id });
          await store.records.delete(T.endpoints, e.id);
        }
        await store.records.delete(T.services, service.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      path: '/v3/endpoints',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_endpoint');
        const body = section(req.body, 'endpoint');
        const serviceId = requiredString(body, 'service_id');
        const iface = optionalEnum(body, 'interface', INTERFACES);
        if (iface === undefined) throw validationError("'interface' is a required property");
        const url = requiredString(body, 'url', { min: 0, max: 225, pattern: /^[a-zA-Z0-9+.-]+:\/\/.+/ });
        const regionId = optionalString(body, 'region_id', { nullable: true }) ?? optionalString(body, 'region', { nullable: true });
        if (!(await store.get<ServiceRecord>(T.services, serviceId))) throw validationError(`Could not find service: ${serviceId}.`);
        await checkRegion(regionId);
        const endpoint: EndpointRecord = { id: newId(), service_id: serviceId, interface: iface, url, region_id: regionId ?? null, enabled: optionalBoolean(body, 'enabled') ?? true, extra: extraFields(body, ENDPOINT_KNOWN) };
        await store.create(T.endpoints, endpoint);
        return ok({ endpoint: renderEndpoint(endpoint, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/endpoints',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_endpoints');
        const q = req.query;
        const endpoints = (await store.scan<EndpointRecord>(T.endpoints)).filter(
          (e) => (q.get('service_id') === null || e.service_id === q.get('service_id')) && (q.get('interface') === null || e.interface === q.get('interface')) && (q.get('region_id') === null || e.region_id === q.get('region_id')),
        );
        return ok(renderList('endpoints', endpoints.map((e) => renderEndpoint(e, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/endpoints/{endpoint_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:get_endpoint');
        return ok({ endpoint: renderEndpoint(await mustGet<EndpointRecord>(store, T.endpoints, req.params['endpoint_id'] as string, 'endpoint'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/endpoints/{endpoint_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_endpoint');
        const id = req.params['endpoint_id'] as string;
        const body = section(req.body, 'endpoint');
        const iface = optionalEnum(body, 'interface', INTERFACES);
        const url = optionalString(body, 'url', { min: 0, max: 225, pattern: /^[a-zA-Z0-9+.-]+:\/\/.+/ });
        const serviceId = optionalString(body, 'service_id');
        const regionId = optionalString(body, 'region_id', { nullable: true });
        const enabled = optionalBoolean(body, 'enabled');
        await mustGet<EndpointRecord>(store, T.endpoints, id, 'endpoint');
        if (serviceId !== undefined && !(await store.get<ServiceRecord>(T.services, serviceId))) throw validationError(`Could not find service: ${serviceId}.`);
        await checkRegion(regionId);
        const updated = await store.update<EndpointRecord>(T.endpoints, id, (e) => ({
          ...e,
          ...(iface !== undefined ? { interface: iface } : {}),
          ...(url !== undefined ? { url } : {}),
          ...(serviceId !== undefined ? { service_id: serviceId } : {}),
          ...(regionId !== undefined ? { region_id: regionId } : {}),
          ...(enabled !== undefined ? { enabled } : {}),
          extra: { ...e.extra, ...extraFields(body, ENDPOINT_KNOWN) },
        }));
        return ok({ endpoint: renderEndpoint(updated as EndpointRecord, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/endpoints/{endpoint_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_endpoint');
        const id = req.params['endpoint_id'] as string;
        await deleteAssociationsOf(store, { endpoint: id });
        if (!(await store.records.delete(T.endpoints, id))) await mustGet(store, T.endpoints, id, 'endpoint');
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      path: '/v3/regions',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_region');
        const body = section(req.body, 'region');
        const id = optionalString(body, 'id', { min: 1, max: 255 }) ?? newId();
        const parent = optionalString(body, 'parent_region_id', { nullable: true });
        if (parent !== undefined && !(await store.get<RegionRecord>(T.regions, parent))) throw validationError(`Could not find region: ${parent}.`);
        const region: RegionRecord = { id, description: optionalString(body, 'description', { max: 255, nullable: true }) ?? '', parent_region_id: parent ?? null, extra: extraFields(body, REGION_KNOWN) };
        try {
          await store.create(T.regions, region);
        } catch (err) {
          if (err instanceof RecordExistsError) throw conflict('region', `Duplicate ID, ${id}..`);
          throw err;
        }
        return ok({ region: renderRegion(region, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/regions',
      auth: 'token',
      handler: async (req) => {
        caller(req);
        const parent = req.query.get('parent_region_id');
        const regions = (await store.scan<RegionRecord>(T.regions)).filter((r) => parent === null || r.parent_region_id === parent);
        return ok(renderList('regions', regions.map((r) => renderRegion(r, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/regions/{region_id}',
      auth: 'token',
      handler: async (req) => ok({ region: renderRegion(await mustGet<RegionRecord>(store, T.regions, req.params['region_id'] as string, 'region'), req.base) }),
    },
    {
      method: 'PATCH',
      path: '/v3/regions/{region_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_region');
        const id = req.params['region_id'] as string;
        const body = section(req.body, 'region');
        const description = optionalString(body, 'description', { max: 255, nullable: true });
        const parent = optionalString(body, 'parent_region_id', { nullable: true });
        await mustGet<RegionRecord>(store, T.regions, id, 'region');
        if (parent !== undefined && !(await store.get<RegionRecord>(T.regions, parent))) throw validationError(`Could not find region: ${parent}.`);
        const updated = await store.update<RegionRecord>(T.regions, id, (r) => ({
          ...r,
          ...(description !== undefined ? { description } : {}),
          ...(parent !== undefined ? { parent_region_id: parent } : {}),
          extra: { ...r.extra, ...extraFields(body, REGION_KNOWN) },
        }));
        return ok({ region: renderRegion(updated as RegionRecord, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/regions/{region_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_region');
        const id = req.params['region_id'] as string;
        await mustGet<RegionRecord>(store, T.regions, id, 'region');
        await store.records.delete(T.regions, id);
        return NO_CONTENT;
      },
    },
  ];
}
