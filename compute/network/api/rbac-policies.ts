import { createHash } from 'node:crypto';
import { type AttributeMap, parseBody, pyText, stringOf } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import type { NetworkDeps } from '../deps.ts';
import { InvalidAttribute, InvalidInput, NetworkNotFound, NeutronError, PolicyNotAuthorized } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import type { NetworkRbacEntry, NetworkRecord, PortRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import { canSeeNetwork } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';

/** Every object type Neutron's RBAC knows; this service shares networks only. */
const OBJECT_TYPES = ['address_group', 'address_scope', 'network', 'qos_policy', 'security_group', 'subnetpool'];
const ACTIONS = ['access_as_external', 'access_as_shared'] as const;
type Action = (typeof ACTIONS)[number];

const ATTRIBUTES: AttributeMap = {
  object_type: { post: true, put: false, required: true, validate: (v) => (typeof v === 'string' && OBJECT_TYPES.includes(v) ? undefined : `'${String(v)}' is not in ${pyText(OBJECT_TYPES)}`) },
  object_id: { post: true, put: false, required: true, validate: stringOf(36) },
  action: { post: true, put: false, required: true, validate: (v) => (typeof v === 'string' && (ACTIONS as readonly string[]).includes(v) ? undefined : `'${String(v)}' is not in ${pyText(ACTIONS)}`) },
  target_tenant: { post: true, put: true, required: true, validate: stringOf(255) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
};

/** An RBAC policy as the service finds it: on a network, targeted (stored) or the wildcard its `shared`/`router:external` flag is. */
interface Found {
  readonly net: NetworkRecord;
  readonly entry: NetworkRbacEntry;
  readonly wildcard: boolean;
}

/** The id of a network's wildcard entry: the same every time it is listed (Neutron keeps a row; here the flag is the row). */
function wildcardId(networkId: string, action: Action): string {
  const h = createHash('sha1').update(`rbac/${networkId}/${action}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function entriesOf(net: NetworkRecord): Found[] {
  const wild = (action: Action): Found => ({ net, wildcard: true, entry: { id: wildcardId(net.id, action), project_id: net.project_id, action, target_tenant: '*' } });
  return [...(net.shared ? [wild('access_as_shared')] : []), ...(net['router:external'] ? [wild('access_as_external')] : []), ...(net.rbac ?? []).map((entry) => ({ net, entry, wildcard: false }))];
}

function view(f: Found): ApiResource {
  return { id: f.entry.id, project_id: f.entry.project_id, tenant_id: f.entry.project_id, object_type: 'network', object_id: f.net.id, action: f.entry.action, target_tenant: f.entry.target_tenant };
}

class RbacPolicyNotFound extends NeutronError {
  constructor(id: string) {
    super('RbacPolicyNotFound', 'NotFound', `RBAC policy of type network with ID ${id} not found`);
  }
}

/**
 * rbac-policies for networks (`openstack network rbac create/list/show/set/delete`), as
 * Neutron's: a network shared with one project (`access_as_shared`: the project sees it and
 * makes ports on it, and it shows `shared` to that project) or external to one
 * (`access_as_external`: its routers and floating IPs may use it). The wildcard target `*` is
 * the network's own `shared` or `router:external` flag, so `network create --share` and
 * `network rbac create --target-all-projects` are the same thing, listed once; only admins set a
 * wildcard (`create_rbac_policy:target_tenant`). Entries are the network owner's (or an admin's) to
 * see and change; a duplicate is 409; an entry that ports of the target project still depend on
 * is 409 to delete. Other object types (QoS policies, security groups...) are not shared here.
 */
export function rbacPolicyRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const visibleTo = (ctx: NetworkContext, f: Found) => isOwner(ctx, f.entry.project_id);
  const all = async (): Promise<Found[]> => (await store.scan<NetworkRecord>('networks')).flatMap(entriesOf);
  const find = async (ctx: NetworkContext, id: string): Promise<Found> => {
    const f = (await all()).find((x) => x.entry.id === id);
    if (!f || !visibleTo(ctx, f)) throw new RbacPolicyNotFound(id);
    return f;
  };
  /** Ports of projects that only this entry lets onto the network (Neutron's RbacPolicyInUse check). */
  const dependents = async (f: Found): Promise<PortRecord[]> => {
    if (f.entry.action !== 'access_as_shared') return [];
    const others = entriesOf(f.net).filter((x) => x.entry.id !== f.entry.id && x.entry.action === 'access_as_shared');
    const stillIn = (project: string) => project === f.net.project_id || others.some((x) => x.entry.target_tenant === '*' || x.entry.target_tenant === project);
    return (await store.scan<PortRecord>('ports')).filter((p) => p.network_id === f.net.id && (f.entry.target_tenant === '*' || p.project_id === f.entry.target_tenant) && !stillIn(p.project_id));
  };
  const inUse = (f: Found) => new NeutronError('RbacPolicyInUse', 'Conflict', `RBAC policy on object ${f.net.id} cannot be removed because other objects depend on it.`);
  const duplicate = () => new NeutronError('DuplicateRbacPolicy', 'Conflict', 'An RBAC policy already exists with those values.');
  /** Writes `change` of the network's entries (and flags) by compare-and-swap. */
  const change = async (id: string, edit: (net: NetworkRecord) => NetworkRecord | undefined): Promise<NetworkRecord> => {
    const updated = await store.update<NetworkRecord>('networks', id, (net) => {
      const next = edit(net);
      return next === undefined ? undefined : { ...next, revision_number: net.revision_number + 1 };
    });
    if (!updated) throw new NetworkNotFound(id);
    return updated;
  };

  return [
    {
      method: 'GET',
      path: '/v2.0/rbac-policies',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        return listResponse(req, 'rbac_policies', (await all()).filter((f) => visibleTo(ctx, f)).map(view), ['object_type', 'object_id', 'action', 'target_tenant']);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/rbac-policies/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'rbac_policy', view(await find(ctxOf(req), req.params.id as string))),
    },
    {
      method: 'POST',
      path: '/v2.0/rbac-policies',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'rbac_policy', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, f);
        if (f.object_type !== 'network') throw new InvalidAttribute('object_type', `'${String(f.object_type)}' is not in ['network']`);
        const action = f.action as Action;
        const target = f.target_tenant as string;
        if (target === '*' && !ctx.isAdmin) throw new PolicyNotAuthorized('(rule:create_rbac_policy and rule:create_rbac_policy:target_tenant)');
        const id = f.object_id as string;
        const net = await store.get<NetworkRecord>('networks', id);
        if (!net || !canSeeNetwork(ctx, net)) throw new NetworkNotFound(id);
        if (!isOwner(ctx, net.project_id)) throw new InvalidInput('Only admins can manipulate policies on networks they do not own');
        const entry: NetworkRbacEntry = { id: target === '*' ? wildcardId(id, action) : newId(), project_id: projectId, action, target_tenant: target };
        let exists = false;
        const updated = await change(id, (cur) => {
          exists = entriesOf(cur).some((x) => x.entry.action === action && x.entry.target_tenant === target);
          if (exists) return undefined;
          if (target !== '*') return { ...cur, rbac: [...(cur.rbac ?? []), entry] };
          return action === 'access_as_shared' ? { ...cur, shared: true } : { ...cur, 'router:external': true };
        });
        if (exists) throw duplicate();
        const made = entriesOf(updated).find((x) => x.entry.id === entry.id) as Found;
        return showResponse(req, 'rbac_policy', view(made), 201);
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/rbac-policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'rbac_policy', ATTRIBUTES, 'update');
        const found = await find(ctx, req.params.id as string);
        const target = f.target_tenant as string | undefined;
        if (target === undefined || target === found.entry.target_tenant) return showResponse(req, 'rbac_policy', view(found));
        if (found.wildcard || target === '*') throw new InvalidInput('Updating the target of a policy to or from the wildcard is not supported; create and delete policies instead');
        if ((await dependents(found)).length > 0) throw inUse(found);
        let exists = false;
        const updated = await change(found.net.id, (cur) => {
          exists = (cur.rbac ?? []).some((e) => e.action === found.entry.action && e.target_tenant === target);
          return exists ? undefined : { ...cur, rbac: (cur.rbac ?? []).map((e) => (e.id === found.entry.id ? { ...e, target_tenant: target } : e)) };
        });
        if (exists) throw duplicate();
        return showResponse(req, 'rbac_policy', view(entriesOf(updated).find((x) => x.entry.id === found.entry.id) as Found));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/rbac-policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const found = await find(ctx, req.params.id as string);
        if ((await dependents(found)).length > 0) throw inUse(found);
        await change(found.net.id, (cur) => {
          if (!found.wildcard) return { ...cur, rbac: (cur.rbac ?? []).filter((e) => e.id !== found.entry.id) };
          return found.entry.action === 'access_as_shared' ? { ...cur, shared: false } : { ...cur, 'router:external': false };
        });
        return NO_CONTENT;
      },
    },
  ];
}
