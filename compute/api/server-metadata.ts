import { updateRecord } from '../../client/record-update.ts';
import { badRequest, invalidState, notFound } from '../errors.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, NO_CONTENT, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, onlyMember, pyRepr } from '../validation.ts';
import { checkMetadataQuota, metadataParam } from './metadata-param.ts';
import { checkLock, visibleServer } from './servers.ts';

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
  /** Changes server `s`'s metadata with `apply` (of the current one), refused as Nova refuses it. */
  const change = async (req: ComputeRequest, s: ServerRecord, action: 'update metadata' | 'delete metadata', apply: (cur: Readonly<Record<string, string>>) => Record<string, string>): Promise<Record<string, string>> => {
    const c = contextOf(req);
    let result: Record<string, string> = {};
    const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, async (cur) => {
      const v = cur.value;
      checkLock(c, v);
      if (v.task_state !== null) throw invalidState(v.uuid, action, 'task_state', v.task_state);
      if (!CHANGEABLE.includes(v.vm_state)) throw invalidState(v.uuid, action, 'vm_state', v.vm_state);
      result = apply(v.metadata);
      if (action === 'update metadata') await checkMetadataQuota(store, v.project_id, result);
      return { ...v, metadata: result, updated_at: store.isoSeconds() };
    });
    if (!updated) throw notFound(`Instance ${s.uuid} could not be found.`);
    return result;
  };
  const server = (req: ComputeRequest): Promise<ServerRecord> => visibleServer(store, req, req.params['server_id'] as string);
  const key = (req: ComputeRequest): string => req.params['key'] as string;
  return [
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => ok({ metadata: (await server(req)).metadata }),
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => {
        const metadata = metadataParam('metadata', onlyMember(req.body, 'metadata'));
        // 200, not 201: Nova keeps it for compatibility.
        return ok({ metadata: await change(req, await server(req), 'update metadata', (cur) => ({ ...cur, ...metadata })) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}/metadata',
      auth: 'token',
      handler: async (req) => {
        const metadata = metadataParam('metadata', onlyMember(req.body, 'metadata'));
        return ok({ metadata: await change(req, await server(req), 'update metadata', () => ({ ...metadata })) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/metadata/{key}',
      auth: 'token',
      handler: async (req) => {
        const s = await server(req);
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
        const raw = onlyMember(req.body, 'meta');
        const meta = metadataParam('meta', raw);
        const n = Object.keys(meta).length;
        if (n !== 1) throw fieldError('meta', raw, n === 0 ? `${pyRepr(raw)} does not have enough properties` : `${pyRepr(raw)} has too many properties`);
        if (!Object.hasOwn(meta, key(req))) throw badRequest('Request body and URI mismatch');
        await change(req, await server(req), 'update metadata', (cur) => ({ ...cur, ...meta }));
        return ok({ meta });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/metadata/{key}',
      auth: 'token',
      handler: async (req) => {
        const s = await server(req);
        if (!Object.hasOwn(s.metadata, key(req))) throw notFound('Metadata item was not found');
        await change(req, s, 'delete metadata', (cur) => {
          const { [key(req)]: _gone, ...rest } = cur;
          return rest;
        });
        return NO_CONTENT;
      },
    },
  ];
}
