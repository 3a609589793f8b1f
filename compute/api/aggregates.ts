import { randomUUID } from 'node:crypto';
import { RecordExistsError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import { type AggregateRecord, aggregateZone, applyAggregateZones, zoneFromAggregates } from '../aggregate-record.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, conflict, type NovaError, notFound } from '../errors.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import { nextInSequence } from '../sequence.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember, checkMembers, fieldError, isObject, nameParam, onlyMember, pyRepr } from '../validation.ts';

const SEQUENCE = 'aggregates';

/** Nova's `validate_integer` on the path's id. */
function aggregateId(req: ComputeRequest): number {
  const text = req.params['id'] as string;
  if (!/^-?[0-9]+$/.test(text.trim())) throw badRequest('Invalid input received: id must be an integer');
  return Number(text);
}

/** Nova's `az_name`: 1 to 255 printable characters, no colon, no whitespace at either end. */
function zoneParam(value: unknown): string {
  if (typeof value !== 'string') throw fieldError('availability_zone', value, `${pyRepr(value)} is not valid under any of the given schemas`);
  if (value.length === 0 || value.length > 255 || value.includes(':') || /^\s|\s$/.test(value) || /[\p{Cc}]/u.test(value)) {
    throw badRequest("An invalid 'availability_zone' value was provided. The name must be: printable characters except :.Can not start or end with whitespace.");
  }
  return value;
}

/** `metadata_with_null`: keys of 1 to 255 of `[a-zA-Z0-9-_:. ]`, values strings of at most 255 or null. */
function metadataWithNull(value: unknown): Record<string, string | null> {
  if (!isObject(value)) throw fieldError('metadata', value, `${pyRepr(value)} is not of type 'object'`);
  for (const [k, v] of Object.entries(value)) {
    if (!/^[a-zA-Z0-9-_:. ]{1,255}$/.test(k)) throw fieldError('metadata', value, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
    if (v !== null && (typeof v !== 'string' || v.length > 255)) throw fieldError(k, v, typeof v === 'string' ? `${pyRepr(v)} is too long` : `${pyRepr(v)} is not of type 'string', 'null'`);
  }
  return value as Record<string, string | null>;
}

/**
 * os-aggregates (`openstack aggregate create/list/show/set/unset/delete/add host/remove
 * host`), admins only, as Nova's AggregateAPI: unique names (409), the `availability_zone`
 * metadata that makes the zone of the aggregate's hosts (os-availability-zone, os-services, the
 * scheduler's AvailabilityZoneFilter and new servers' zone read it), with Nova's refusals: an
 * empty zone, a host that another aggregate puts in another zone, a zone change for hosts with
 * instances, a non-empty aggregate's delete. `uuid` from 2.41.
 */
export function aggregateRoutes(store: ComputeStore, hosts: RecordHostStateStore): ComputeRoute[] {
  const view = (req: ComputeRequest, a: AggregateRecord, full = true) => ({
    id: a.id,
    ...(atLeast(req.version, '2.41') ? { uuid: a.uuid } : {}),
    name: a.name,
    availability_zone: aggregateZone(a) ?? null,
    ...(full ? { hosts: a.hosts, metadata: a.metadata } : {}),
    created_at: a.created_at,
    updated_at: a.updated_at,
    deleted_at: null,
    deleted: false,
  });
  const get = async (id: number): Promise<AggregateRecord> => {
    const a = await store.get<AggregateRecord>(T.aggregates, String(id));
    if (!a) throw notFound(`Aggregate ${id} could not be found.`);
    return a;
  };
  const claimName = async (name: string, id: number): Promise<void> => {
    try {
      await store.records.create(T.aggregateNames, name, { id });
    } catch (err) {
      if (err instanceof RecordExistsError) throw conflict(`Aggregate ${name} already exists.`);
      throw err;
    }
  };
  /** Nova's `is_safe_to_update_az`; `reason` wraps the refusal as the action's exception does. */
  const checkZoneChange = async (a: AggregateRecord, zone: string | null, members: readonly string[], reason: (why: string) => NovaError, checkInstances: boolean): Promise<void> => {
    if (!zone) throw reason(`Aggregate ${a.name} does not support empty named availability zone`);
    const others = (await store.scan<AggregateRecord>(T.aggregates)).filter((o) => o.id !== a.id && o.hosts.some((h) => members.includes(h)));
    const conflicting = others.map(aggregateZone).filter((z): z is string => z !== undefined && z !== zone);
    if (conflicting.length > 0) throw reason(`One or more hosts already in availability zone(s) ${pyRepr(conflicting)}`);
    if (checkInstances && aggregateZone(a) !== zone) {
      const states = await hosts.all();
      if (states.some((h) => members.includes(h.host) && h.instances.length > 0)) throw reason('One or more hosts contain instances in this zone');
    }
  };
  /** The aggregate changed by compare-and-swap, stamped `updated_at`. */
  const save = async (id: number, change: (a: AggregateRecord) => AggregateRecord): Promise<AggregateRecord> => {
    const updated = await updateRecord<AggregateRecord>(store.records, T.aggregates, String(id), (cur) => ({ ...change(cur.value), updated_at: store.isoMicros() }));
    if (!updated) throw notFound(`Aggregate ${id} could not be found.`);
    return updated.value;
  };
  const withMetadata = (a: AggregateRecord, changes: Readonly<Record<string, string | null>>): AggregateRecord => {
    const metadata: Record<string, string> = { ...a.metadata };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete metadata[k];
      else metadata[k] = v;
    }
    return { ...a, metadata };
  };

  return [
    {
      method: 'GET',
      path: '/v2.1/os-aggregates',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-aggregates:index');
        const all = (await store.scan<AggregateRecord>(T.aggregates)).sort((a, b) => a.id - b.id);
        return ok({ aggregates: all.map((a) => view(req, a)) });
      },
    },
    {
      method: 'POST',
      path: '/v2.1/os-aggregates',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-aggregates:create');
        const body = bodyMember(req.body, 'aggregate', ['name', 'availability_zone'], ['name']);
        const name = nameParam('name', body['name']);
        const zone = body['availability_zone'] === undefined || body['availability_zone'] === null ? undefined : zoneParam(body['availability_zone']);
        const id = await nextInSequence(store, SEQUENCE);
        await claimName(name, id);
        const now = store.isoMicros();
        const a: AggregateRecord = { id, uuid: randomUUID(), name, hosts: [], metadata: zone ? { availability_zone: zone } : {}, created_at: now, updated_at: null };
        await store.records.put(T.aggregates, String(id), a);
        return ok({ aggregate: view(req, a, false) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-aggregates/{id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-aggregates:show');
        return ok({ aggregate: view(req, await get(aggregateId(req))) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/os-aggregates/{id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-aggregates:update');
        const body = onlyMember(req.body, 'aggregate');
        if (!isObject(body)) throw fieldError('aggregate', body, `${pyRepr(body)} is not of type 'object'`);
        checkMembers('aggregate', body, ['name', 'availability_zone'], []);
        if (!('name' in body) && !('availability_zone' in body)) throw fieldError('aggregate', body, `${pyRepr(body)} is not valid under any of the given schemas`);
        const id = aggregateId(req);
        let a = await get(id);
        const reason = (why: string) => badRequest(`Cannot update aggregate ${id}. Reason: ${why}.`);
        const name = body['name'] === undefined ? undefined : nameParam('name', typeof body['name'] === 'string' ? body['name'].trim() : body['name']);
        const zone = 'availability_zone' in body ? (body['availability_zone'] === null ? null : zoneParam(body['availability_zone'])) : undefined;
        if (zone !== undefined) await checkZoneChange(a, zone, a.hosts, reason, true);
        if (name !== undefined && name !== a.name) {
          const old = a.name;
          await claimName(name, id);
          a = await save(id, (cur) => ({ ...cur, name }));
          await store.records.delete(T.aggregateNames, old).catch(() => undefined);
        }
        if (zone !== undefined && zone !== null) {
          a = await save(id, (cur) => withMetadata(cur, { availability_zone: zone }));
          await applyAggregateZones(store, a.hosts);
        }
        return ok({ aggregate: view(req, a) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/os-aggregates/{id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-aggregates:delete');
        const id = aggregateId(req);
        const a = await get(id);
        if (a.hosts.length > 0) throw badRequest(`Cannot remove host from aggregate ${id}. Reason: Host aggregate is not empty.`);
        await store.records.delete(T.aggregates, String(id));
        await store.records.delete(T.aggregateNames, a.name).catch(() => undefined);
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      path: '/v2.1/os-aggregates/{id}/action',
      auth: 'token',
      handler: async (req) => {
        const body = req.body;
        if (!isObject(body) || Object.keys(body).length !== 1) throw badRequest('There is no such action: None');
        const action = Object.keys(body)[0] as string;
        if (action !== 'add_host' && action !== 'remove_host' && action !== 'set_metadata') throw badRequest(`There is no such action: ${action}`);
        requireAdmin(req, `os_compute_api:os-aggregates:${action}`);
        if (action === 'set_metadata') {
          const metadata = metadataWithNull(bodyMember(body, 'set_metadata', ['metadata'], ['metadata'])['metadata']);
          const id = aggregateId(req);
          const a = await get(id);
          if ('availability_zone' in metadata) await checkZoneChange(a, metadata['availability_zone'] ?? null, a.hosts, (why) => badRequest(`Cannot update metadata of aggregate ${id}. Reason: ${why}.`), true);
          const saved = await save(id, (cur) => withMetadata(cur, metadata));
          if ('availability_zone' in metadata) await applyAggregateZones(store, saved.hosts);
          return ok({ aggregate: view(req, saved) });
        }
        const member = bodyMember(body, action, ['host'], ['host'])['host'];
        if (typeof member !== 'string' || !/^[a-zA-Z0-9-._]{1,255}$/.test(member)) throw fieldError('host', member, `${pyRepr(member)} does not match '^[a-zA-Z0-9-._]*$'`);
        const id = aggregateId(req);
        const states = await hosts.all();
        const host = states.find((h) => h.host === member);
        const a = await get(id);
        const zoneOf = (aggregates: readonly AggregateRecord[]) => zoneFromAggregates(aggregates, member) ?? null;
        const all = await store.scan<AggregateRecord>(T.aggregates);
        if (action === 'add_host') {
          if (!host) throw notFound(`Compute host ${member} could not be found.`);
          const refuse = (why: string) => conflict(`Cannot add host to aggregate ${id}. Reason: ${why}.`);
          const zone = aggregateZone(a);
          if (zone !== undefined) {
            await checkZoneChange(a, zone, [member], refuse, false);
            const before = zoneOf(all);
            if (host.instances.length > 0 && before !== zone) throw refuse(`The host cannot be added to the aggregate as the availability zone of the host would change from '${before ?? 'None'}' to '${zone}' but the host already has ${host.instances.length} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.`);
          }
          if (a.hosts.includes(member)) throw conflict(`Aggregate ${id} already has host ${member}.`);
          const saved = await save(id, (cur) => (cur.hosts.includes(member) ? cur : { ...cur, hosts: [...cur.hosts, member] }));
          await applyAggregateZones(store, [member]);
          return ok({ aggregate: view(req, saved) });
        }
        if (!host || !a.hosts.includes(member)) throw notFound(`Cannot remove host ${member} in aggregate ${id}`);
        const zone = aggregateZone(a);
        if (zone !== undefined && host.instances.length > 0) {
          const after = zoneOf(all.filter((x) => x.id !== a.id));
          if (after !== zone) throw conflict(`Cannot remove host from aggregate ${id}. Reason: The host cannot be removed from the aggregate as the availability zone of the host would change from '${zone}' to '${after ?? 'None'}' but the host already has ${host.instances.length} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this..`);
        }
        const saved = await save(id, (cur) => ({ ...cur, hosts: cur.hosts.filter((h) => h !== member) }));
        await applyAggregateZones(store, [member]);
        return ok({ aggregate: view(req, saved) });
      },
    },
  ];
}
