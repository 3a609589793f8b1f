import { updateRecord } from '../../client/record-update.ts';
import { badRequest, invalidState, NovaError, notFound } from '../errors.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, NO_CONTENT, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr } from '../validation.ts';
import { checkMetadataQuota, metadataParam } from './metadata-param.ts';
import { visibleServer } from './servers.ts';

/** The body's only member `key` (Nova's `create`/`update`/`update_all` schemas). */
function member(body: unknown, key: string): unknown {
  if (!isObject(body)) throw badRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
  if (!(key in body)) throw badRequest(`'${key}' is a required property`);
  const extra = Object.keys(body).filter((k) => k !== key);
  if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  return body[key];
}

const CHANGEABLE: readonly VmState[] = ['active', 'paused', 'suspended', 'stopped'];

/**
 * `/servers/{id}/metadata` (`openstack server set/unset --property`), as Nova's
 * `server_metadata.py`: the list, one key, a merge (POST), a replacement (PUT), one key set or
 * deleted. A change needs the server unlocked (409), in a state Nova's compute API allows
 * (ACTIVE, PAUSED, SUSPENDED, SHUTOFF, no task: else 409 "Cannot 'update metadata' ..."), and
 * no more items than the project's `metadata_items` quota (403). Made by compare-and-swap on the
 * server's record, so concurrent changes of different keys both land.
 */
export function serverMetadataRoutes(d: { readonly store: ComputeStore }): ComputeRoute[] {
  const { store } = d;
  /** Changes the server's metadata with `change` (of the current one), checked as Nova checks it. */
  const change = async (req: ComputeRequest, action: 'update metadata' | 'delete metadata', apply: (cur: Readonly<Record<string, string>>) => Record<string, string>): Promise<Record<string, string>> => {
    const c = contextOf(req);
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    let refusal: NovaError | undefined;
    let result: Record<string, string> = {};
    const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, async (cur) => {
      const v = cur.value;
      refusal = undefined;
      if (v.locked_by !== null && !c.isAdmin) refusal = new NovaError(409, `Instance ${v.uuid} is locked`);
      else if (v.task_state !== null) refusal = invalidState(v.uuid, action, 'task_state', v.task_state);
      else if (!CHANGEABLE.includes(v.vm_state)) refusal = invalidState(v.uuid, action, 'vm_state', v.vm_state);
      if (refusal) return undefined;
      result = apply(v.metadata);
      if (action === 'update metadata') await checkMetadataQuota(store, v.project_id, result);
      return { ...v, metadata: result, updated_at: store.isoSeconds() };
    });
    if (refusal) throw refusal;
    if (!updated) throw notFound(`Instance ${s.uuid} could not be found.`);
    return result;
  };
  const key = (req: ComputeRequest): string => req.params['key'] as string;
  return [
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => ok({ metadata: (await visibleServer(store, req, req.params['server_id'] as string)).metadata }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => {
        const metadata = metadataParam('metadata', member(req.body, 'metadata'));
        // 200, not 201: Nova keeps it for compatibility.
        return ok({ metadata: await change(req, 'update metadata', (cur) => ({ ...cur, ...metadata })) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => {
        const metadata = metadataParam('metadata', member(req.body, 'metadata'));
        return ok({ metadata: await change(req, 'update metadata', () => ({ ...metadata })) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/metadata/{key}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const value = Object.hasOwn(s.metadata, key(req)) ? s.metadata[key(req)] : undefined;
        if (value === undefined) throw notFound('Metadata item was not found');
        return ok({ meta: { [key(req)]: value } });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}/metadata/{key}',
      auth: 'token',
      handler: async (req) => {
        const raw = member(req.body, 'meta');
        const meta = metadataParam('meta', raw);
        const n = Object.keys(meta).length;
        if (n !== 1) throw fieldError('meta', raw, n === 0 ? `${pyRepr(raw)} does not have enough properties` : `${pyRepr(raw)} has too many properties`);
        if (!Object.hasOwn(meta, key(req))) throw badRequest('Request body and URI mismatch');
        await change(req, 'update metadata', (cur) => ({ ...cur, ...meta }));
        return ok({ meta });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/metadata/{key}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        if (!Object.hasOwn(s.metadata, key(req))) throw notFound('Metadata item was not found');
        await change(req, 'delete metadata', (cur) => {
          const { [key(req)]: _gone, ...rest } = cur;
          return rest;
        });
        return NO_CONTENT;
      },
    },
  ];
}
