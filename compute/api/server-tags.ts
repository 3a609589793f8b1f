import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, invalidState, notFound } from '../errors.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, NO_CONTENT, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { onlyMember, pyRepr } from '../validation.ts';
import { visibleServer } from './servers.ts';
import { MAX_TAG_COUNT, tagProblem, tagsParam } from './tags-param.ts';

const TAGGABLE: readonly VmState[] = ['active', 'paused', 'suspended', 'stopped'];

/**
 * `/servers/{id}/tags` (2.26; `openstack server set/unset --tag`), as Nova's `server_tags.py`:
 * the list, a replacement, a removal of all, one tag checked, added or removed. Changes need the
 * server ACTIVE, PAUSED, SUSPENDED or SHUTOFF (409 otherwise), at most 50 tags. Made by
 * compare-and-swap on the server's record.
 */
export function serverTagRoutes(d: { readonly store: ComputeStore }): ComputeRoute[] {
  const { store } = d;
  const server = async (req: ComputeRequest): Promise<ServerRecord> => {
    if (!atLeast(req.version, '2.26')) throw notFound('The resource could not be found.');
    return visibleServer(store, req, req.params['server_id'] as string);
  };
  const tag = (req: ComputeRequest): string => req.params['tag'] as string;
  /** Changes server `s`'s tags with `apply` (undefined: leave them), refused as Nova refuses a change. */
  const change = async (s: ServerRecord, action: string, apply: (tags: readonly string[]) => string[] | undefined): Promise<readonly string[]> => {
    let result: readonly string[] = s.tags;
    const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
      if (!TAGGABLE.includes(cur.value.vm_state)) throw invalidState(s.uuid, action, 'vm_state', cur.value.vm_state);
      const next = apply(cur.value.tags);
      result = next ?? cur.value.tags;
      return next === undefined ? undefined : { ...cur.value, tags: next, updated_at: store.isoSeconds() };
    });
    if (!updated) throw notFound(`Instance ${s.uuid} could not be found.`);
    return result;
  };
  return [
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/tags',
      auth: 'token',
      handler: async (req) => ok({ tags: (await server(req)).tags }),
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}/tags',
      auth: 'token',
      handler: async (req) => {
        const s = await server(req);
        const tags = tagsParam(onlyMember(req.body, 'tags'));
        return ok({ tags: await change(s, 'update tags', () => tags) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/tags',
      auth: 'token',
      handler: async (req) => {
        await change(await server(req), 'delete tags', () => []);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/tags/{tag}',
      auth: 'token',
      handler: async (req) => {
        const s = await server(req);
        if (!s.tags.includes(tag(req))) throw notFound(`Server ${s.uuid} has no tag '${tag(req)}'`);
        return NO_CONTENT;
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}/tags/{tag}',
      auth: 'token',
      handler: async (req) => {
        const s = await server(req);
        if (req.body !== undefined && req.body !== null) throw badRequest(`${pyRepr(req.body)} is not of type 'null'`);
        const problem = tagProblem(tag(req));
        let added = false;
        let full = false;
        await change(s, 'update tag', (tags) => {
          // Nova checks the state first, then the tag, then the count.
          if (problem) throw badRequest(`Tag '${tag(req)}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${problem}`);
          full = tags.length >= MAX_TAG_COUNT;
          if (full) return undefined;
          added = !tags.includes(tag(req));
          return added ? [...tags, tag(req)] : undefined;
        });
        if (full) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAG_COUNT}`);
        if (!added) return NO_CONTENT;
        return { status: 201, headers: { Location: `${req.base}/v2.1/servers/${s.uuid}/tags/${encodeURIComponent(tag(req))}` } };
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/tags/{tag}',
      auth: 'token',
      handler: async (req) => {
        let found = true;
        const s = await server(req);
        await change(s, 'delete tag', (tags) => {
          found = tags.includes(tag(req));
          return found ? tags.filter((t) => t !== tag(req)) : undefined;
        });
        if (!found) throw notFound(`Instance ${s.uuid} has no tag '${tag(req)}'`);
        return NO_CONTENT;
      },
    },
  ];
}
