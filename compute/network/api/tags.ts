import { pyText } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { BadRequest, InvalidInput, NeutronError, PolicyNotAuthorized } from '../errors.ts';
import { isOwner } from '../policy.ts';
import { canSeeQosPolicy } from '../qos-policy-access.ts';
import type { NetworkRecord, PortRecord, QosPolicyRecord, StandardAttributes, SubnetPoolRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, ok, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { canSeeNetwork, canSeePort, canSeeSubnet } from '../visibility.ts';
import { canSeeSubnetPool } from './subnet-pools.ts';

/** neutron/extensions/tagging.py's `MAX_TAG_LEN` and `MAX_TAGS_COUNT`. */
export const MAX_TAG_LEN = 255;
export const MAX_TAGS_COUNT = 50;

/**
 * A resource with standard attributes that takes tags (Neutron's `tag_support` models): its
 * URL collection, its member name (the policy's `<action>_<member>:tags`), the record type it
 * is stored as, and who may read its tags (`get_<member>:tags`; writing them is the owner's or
 * an admin's, `update_<member>:tags`).
 */
interface Taggable {
  readonly collection: string;
  readonly member: string;
  readonly type: string;
  readonly canRead: (deps: NetworkDeps, ctx: NetworkContext, record: StandardAttributes) => Promise<boolean>;
}

const ownerReads = async (_deps: NetworkDeps, ctx: NetworkContext, r: StandardAttributes): Promise<boolean> => isOwner(ctx, r.project_id);

const TAGGABLE: readonly Taggable[] = [
  { collection: 'networks', member: 'network', type: 'networks', canRead: async (_d, ctx, r) => canSeeNetwork(ctx, r as NetworkRecord) },
  {
    collection: 'subnets',
    member: 'subnet',
    type: 'subnets',
    canRead: async (d, ctx, r) => canSeeSubnet(ctx, r as SubnetRecord, await d.store.get<NetworkRecord>('networks', (r as SubnetRecord).network_id)),
  },
  { collection: 'ports', member: 'port', type: 'ports', canRead: async (d, ctx, r) => canSeePort(ctx, r as PortRecord, await d.store.get<NetworkRecord>('networks', (r as PortRecord).network_id)) },
  { collection: 'routers', member: 'router', type: 'routers', canRead: ownerReads },
  { collection: 'floatingips', member: 'floatingip', type: 'floatingips', canRead: ownerReads },
  { collection: 'security-groups', member: 'security_group', type: 'security-groups', canRead: ownerReads },
  { collection: 'subnetpools', member: 'subnetpool', type: 'subnetpools', canRead: async (_d, ctx, r) => canSeeSubnetPool(ctx, r as SubnetPoolRecord) },
  { collection: 'qos/policies', member: 'policy', type: 'qos-policies', canRead: async (_d, ctx, r) => canSeeQosPolicy(ctx, r as QosPolicyRecord) },
];

/** The member names in the `standard-attr-tag` extension's name. */
export const TAGGABLE_MEMBERS: readonly string[] = TAGGABLE.map((t) => t.member);

/** `TagResourceNotFound`: Neutron looks the resource up elevated, so an unknown id is this, not the resource's own NotFound. */
class TagResourceNotFound extends NeutronError {
  constructor(resource: string, id: string) {
    super('TagResourceNotFound', 'NotFound', `Resource ${resource} ${id} could not be found.`);
  }
}

class TagNotFound extends NeutronError {
  constructor(tag: string) {
    super('TagNotFound', 'NotFound', `Tag ${tag} could not be found.`);
  }
}

/** neutron-lib's `validate_list_of_unique_strings(data, 255)`: the reason a tag list is refused, or undefined. */
export function tagListProblem(data: unknown): string | undefined {
  if (!Array.isArray(data)) return `'${pyText(data)}' is not a list`;
  const seen = new Set<unknown>();
  const dups: unknown[] = [];
  for (const item of data) {
    if (seen.has(item) && !dups.includes(item)) dups.push(item);
    seen.add(item);
  }
  if (dups.length > 0) return `Duplicate items in the list: '${dups.map((d) => pyText(d)).join(', ')}'`;
  for (const item of data) {
    const problem = tagProblem(item);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** `validate_string(tag, MAX_TAG_LEN)`. */
function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return `'${pyText(tag)}' is not a valid string`;
  if (tag.length > MAX_TAG_LEN) return `'${tag}' exceeds maximum length of ${MAX_TAG_LEN}`;
  return undefined;
}

/** tagging.py's `validate_tags`: `{"tags": [...]}` or InvalidInput. */
function bodyTags(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('tags' in body)) throw new InvalidInput('Invalid tags body');
  const tags = (body as { tags: unknown }).tags;
  const problem = tagListProblem(tags);
  if (problem !== undefined) throw new InvalidInput(problem);
  return tags as string[];
}

function checkTag(tag: string): void {
  const problem = tagProblem(tag);
  if (problem !== undefined) throw new InvalidInput(problem);
}

function checkLimit(kind: Taggable, tags: readonly string[]): void {
  if (new Set(tags).size > MAX_TAGS_COUNT) throw new BadRequest(kind.collection.replaceAll('-', '_'), `The number of tags exceed the per-resource limit of ${MAX_TAGS_COUNT}`);
}

/**
 * The `standard-attr-tag` sub-resource (neutron/extensions/tagging.py `TaggingController` and
 * services/tag/tag_plugin.py) on every taggable collection:
 * - `GET /tags` 200 `{"tags": [...]}`; `GET /tags/{tag}` 204, or 404 TagNotFound;
 * - `PUT /tags` `{"tags": [...]}` replaces them all (200, the body back); `POST /tags` (the
 *   `tag-creation` extension) adds those missing (201);
 * - `PUT /tags/{tag}` adds one (201); `DELETE /tags/{tag}` (204, or 404) and `DELETE /tags` (204).
 * Neutron checks the policy against the resource found elevated: an unknown id is 404
 * TagResourceNotFound, a resource the caller may not read or change is 403. Each change bumps the
 * resource's revision, as Neutron's revision plugin does for tags.
 */
export function tagRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const routes: NetworkRoute[] = [];
  for (const kind of TAGGABLE) {
    const base = `/v2.0/${kind.collection}/{id}/tags`;
    /** The resource, once the caller may do `action` (`get`, `create`, `update`, `delete`) to its tags. */
    const load = async (req: NetworkRequest, action: string): Promise<StandardAttributes> => {
      const ctx = ctxOf(req);
      const id = req.params.id as string;
      const record = await store.get<StandardAttributes>(kind.type, id);
      if (!record) throw new TagResourceNotFound(kind.collection.replaceAll('-', '_'), id);
      const allowed = action === 'get' ? await kind.canRead(deps, ctx, record) : isOwner(ctx, record.project_id);
      if (!allowed) throw new PolicyNotAuthorized(`${action}_${kind.member}:tags`);
      return record;
    };
    const write = async (record: StandardAttributes, change: (tags: readonly string[]) => readonly string[]): Promise<void> => {
      const updated = await store.update<StandardAttributes>(kind.type, record.id, (r) => {
        const tags = change(r.tags);
        if (tags.length === r.tags.length && tags.every((t, i) => t === r.tags[i])) return undefined;
        return { ...r, tags, updated_at: timestamp(deps.clock), revision_number: r.revision_number + 1 };
      });
      if (updated === undefined) throw new TagResourceNotFound(kind.collection.replaceAll('-', '_'), record.id);
    };
    routes.push(
      {
        method: 'GET',
        path: base,
        auth: 'token',
        handler: async (req) => ok({ tags: (await load(req, 'get')).tags }),
      },
      {
        method: 'GET',
        path: `${base}/{tag}`,
        auth: 'token',
        handler: async (req) => {
          const tag = req.params.tag as string;
          checkTag(tag);
          if (!(await load(req, 'get')).tags.includes(tag)) throw new TagNotFound(tag);
          return NO_CONTENT;
        },
      },
      {
        method: 'POST',
        path: base,
        auth: 'token',
        handler: async (req) => {
          const tags = bodyTags(req.body);
          const record = await load(req, 'create');
          checkLimit(kind, tags);
          await write(record, (current) => [...current, ...tags.filter((t) => !current.includes(t))]);
          return ok({ tags }, 201);
        },
      },
      {
        method: 'PUT',
        path: base,
        auth: 'token',
        handler: async (req) => {
          const tags = bodyTags(req.body);
          const record = await load(req, 'update');
          checkLimit(kind, tags);
          await write(record, () => tags);
          return ok({ tags });
        },
      },
      {
        method: 'PUT',
        path: `${base}/{tag}`,
        auth: 'token',
        handler: async (req) => {
          const tag = req.params.tag as string;
          checkTag(tag);
          const record = await load(req, 'update');
          checkLimit(kind, [...record.tags, tag]);
          await write(record, (current) => (current.includes(tag) ? current : [...current, tag]));
          return { status: 201 };
        },
      },
      {
        method: 'DELETE',
        path: base,
        auth: 'token',
        handler: async (req) => {
          await write(await load(req, 'delete'), () => []);
          return NO_CONTENT;
        },
      },
      {
        method: 'DELETE',
        path: `${base}/{tag}`,
        auth: 'token',
        handler: async (req) => {
          const tag = req.params.tag as string;
          checkTag(tag);
          const record = await load(req, 'delete');
          let found = false;
          await write(record, (current) => {
            found = current.includes(tag);
            return current.filter((t) => t !== tag);
          });
          if (!found) throw new TagNotFound(tag);
          return NO_CONTENT;
        },
      },
    );
  }
  return routes;
}
