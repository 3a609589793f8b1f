import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, notFound } from '../errors.ts';
import { type ControlServiceRecord, controlServices, INTERNAL_ZONE } from '../control-service.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import type { ComputeStore } from '../store.ts';
import { booleanParam, isObject, pyRepr, fieldError } from '../validation.ts';

/**
 * os-services (admins): the scheduler and conductor each compute API process reports (zone
 * `internal`; read only here), and one `nova-compute` service per host its agent reports, `up` while it
 * heartbeats within `service_down_time`; enable and disable (with a reason) through
 * `PUT /os-services/{uuid}` from 2.53, `PUT /os-services/enable|disable|disable-log-reason`
 * before. A disabled host gets no new servers (the scheduler's ComputeFilter).
 */
export function serviceRoutes(store: ComputeStore, hosts: RecordHostStateStore): ComputeRoute[] {
  const view = (req: ComputeRequest, h: ComputeHostRecord): Record<string, unknown> => ({
    id: atLeast(req.version, '2.53') ? h.serviceUuid : h.serviceNumber,
    binary: 'nova-compute',
    host: h.host,
    zone: h.availabilityZone,
    status: h.enabled ? 'enabled' : 'disabled',
    state: isServiceUp(h, store.clock.now()) ? 'up' : 'down',
    updated_at: store.isoMicros(h.lastHeartbeatMs),
    disabled_reason: h.enabled ? null : (h.disabledReason ?? null),
    ...(atLeast(req.version, '2.11') ? { forced_down: h.forcedDown === true } : {}),
  });
  const controlView = (req: ComputeRequest, c: ControlServiceRecord): Record<string, unknown> => ({
    id: atLeast(req.version, '2.53') ? c.serviceUuid : c.serviceNumber,
    binary: c.binary,
    host: c.host,
    zone: INTERNAL_ZONE,
    status: c.enabled ? 'enabled' : 'disabled',
    state: isServiceUp(c, store.clock.now()) ? 'up' : 'down',
    updated_at: store.isoMicros(c.lastHeartbeatMs),
    disabled_reason: c.enabled ? null : (c.disabledReason ?? null),
    ...(atLeast(req.version, '2.11') ? { forced_down: c.forcedDown === true } : {}),
  });
  const setEnabled = async (host: string, enabled: boolean, reason?: string): Promise<ComputeHostRecord> => {
    const updated = await updateRecord<ComputeHostRecord>(store.records, T.hosts, host, (cur) => {
      const { disabledReason: _, ...rest } = cur.value;
      return enabled ? { ...rest, enabled } : { ...rest, enabled, ...(reason !== undefined ? { disabledReason: reason } : {}) };
    });
    if (!updated) throw notFound(`Compute host ${host} could not be found.`);
    return updated.value;
  };
  const setForcedDown = async (host: string, forcedDown: boolean): Promise<ComputeHostRecord> => {
    const updated = await updateRecord<ComputeHostRecord>(store.records, T.hosts, host, (cur) => {
      const { forcedDown: _, ...rest } = cur.value;
      return forcedDown ? { ...rest, forcedDown } : rest;
    });
    if (!updated) throw notFound(`Compute host ${host} could not be found.`);
    return updated.value;
  };
  return [
    {
      method: 'GET',
      path: '/v2.1/os-services',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-services:list');
        const host = req.query.get('host');
        const binary = req.query.get('binary');
        const control = (await controlServices(store)).map((c) => controlView(req, c));
        const computes = (await hosts.all()).map((h) => view(req, h));
        return ok({ services: [...computes, ...control].filter((v) => (host === null || v['host'] === host) && (binary === null || v['binary'] === binary)) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/os-services/{service_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-services:update');
        const id = req.params['service_id'] as string;
        const body = isObject(req.body) ? req.body : {};
        if (!atLeast(req.version, '2.53')) {
          // enable, disable, disable-log-reason: `{"host", "binary"[, "disabled_reason"]}`.
          const action = id;
          if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw notFound('Unknown action');
          const host = body['host'];
          if (typeof host !== 'string') throw fieldError('host', host, `${pyRepr(host)} is not of type 'string'`);
          const reason = body['disabled_reason'];
          if (action === 'disable-log-reason' && typeof reason !== 'string') throw badRequest('Missing disabled reason field');
          const found = (await hosts.all()).find((h) => h.host === host);
          if (!found) throw notFound(`Host '${host}' is not mapped to any cell`);
          await setEnabled(host, action === 'enable', action === 'disable-log-reason' ? (reason as string) : undefined);
          return ok({ service: { host, binary: 'nova-compute', status: action === 'enable' ? 'enabled' : 'disabled', ...(action === 'disable-log-reason' ? { disabled_reason: reason } : {}) } });
        }
        const found = (await hosts.all()).find((h) => h.serviceUuid === id);
        if (!found) throw notFound(`Service ${id} could not be found.`);
        const status = body['status'];
        if (status !== undefined && status !== 'enabled' && status !== 'disabled') throw fieldError('status', status, `${pyRepr(status)} is not one of ['enabled', 'disabled']`);
        const reason = body['disabled_reason'];
        if (reason !== undefined && status !== 'disabled') throw badRequest("Specifying 'disabled_reason' with status other than 'disabled' is invalid.");
        const forcedDown = body['forced_down'] === undefined ? undefined : booleanParam('forced_down', body['forced_down']);
        if (status === undefined && forcedDown === undefined) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
        let updated = status === undefined ? found : await setEnabled(found.host, status === 'enabled', typeof reason === 'string' ? reason : undefined);
        if (forcedDown !== undefined) updated = await setForcedDown(found.host, forcedDown);
        return ok({ service: view(req, updated) });
      },
    },
  ];
}
