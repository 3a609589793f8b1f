import { createHash } from 'node:crypto';
import { type AttributeMap, parseBody, pyText, stringOf } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import type { NetworkDeps } from '../deps.ts';
import { InvalidAttribute, InvalidInput, NetworkNotFound, NeutronError, PolicyNotAuthorized, QosPolicyNotFound, RbacPolicyInUse } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import { canSeeQosPolicy } from '../qos-policy-access.ts';
import type { NetworkRecord, PortRecord, QosPolicyRecord, RbacEntry } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import type { NetworkStore } from '../store.ts';
import { canSeeNetwork } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';

/** Every object type Neutron's RBAC knows; this service shares networks and QoS policies. */
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

/** A record RBAC entries are kept on: targeted entries in `rbac`, wildcard ones as its flags. */
interface Shareable {
  readonly id: string;
  readonly project_id: string;
  readonly revision_number: number;
  readonly rbac?: readonly RbacEntry[];
}

/** What differs between the object types this service shares. */
interface RbacKind {
  readonly objectType: 'network' | 'qos_policy';
  readonly storeType: string;
  readonly actions: readonly Action[];
  /** The object's word in "Only admins can manipulate policies on <objects> they do not own". */
  readonly objects: string;
  /** The actions its flags grant everyone (the wildcard entries). */
  wildcards(obj: Shareable): Action[];
  withWildcard(obj: Shareable, action: Action, on: boolean): Shareable;
  canSee(ctx: NetworkContext, obj: Shareable): boolean;
  notFound(id: string): NeutronError;
  /** Projects whose resources use the object (Neutron's `get_bound_project_ids`). */
  boundProjects(store: NetworkStore, obj: Shareable): Promise<Set<string>>;
}

const NETWORK: RbacKind = {
  objectType: 'network',
  storeType: 'networks',
  actions: ACTIONS,
  objects: 'networks',
  wildcards: (obj) => {
    const net = obj as NetworkRecord;
    return [...(net.shared ? ['access_as_shared' as const] : []), ...(net['router:external'] ? ['access_as_external' as const] : [])];
  },
  withWildcard: (obj, action, on) => (action === 'access_as_shared' ? { ...obj, shared: on } : { ...obj, 'router:external': on }),
  canSee: (ctx, obj) => canSeeNetwork(ctx, obj as NetworkRecord),
  notFound: (id) => new NetworkNotFound(id),
  boundProjects: async (store, obj) => new Set((await store.scan<PortRecord>('ports')).filter((p) => p.network_id === obj.id).map((p) => p.project_id)),
};

const QOS_POLICY: RbacKind = {
  objectType: 'qos_policy',
  storeType: 'qos-policies',
  actions: ['access_as_shared'],
  objects: 'objects',
  wildcards: (obj) => ((obj as QosPolicyRecord).shared ? ['access_as_shared'] : []),
  withWildcard: (obj, _action, on) => ({ ...obj, shared: on }),
  canSee: (ctx, obj) => canSeeQosPolicy(ctx, obj as QosPolicyRecord),
  notFound: (id) => new QosPolicyNotFound(id),
  boundProjects: async (store, obj) => {
    const [ports, nets] = await Promise.all([store.scan<PortRecord>('ports'), store.scan<NetworkRecord>('networks')]);
    return new Set([...ports, ...nets].filter((r) => r.qos_policy_id === obj.id).map((r) => r.project_id));
  },
};

const KINDS: readonly RbacKind[] = [NETWORK, QOS_POLICY];

/** An RBAC policy as the service finds it: on an object, targeted (stored) or the wildcard its flag is. */
interface Found {
  readonly kind: RbacKind;
  readonly obj: Shareable;
  readonly entry: RbacEntry;
  readonly wildcard: boolean;
}

/** The id of an object's wildcard entry: the same every time it is listed (Neutron keeps a row; here the flag is the row). */
function wildcardId(objectId: string, action: Action): string {
  const h = createHash('sha1').update(`rbac/${objectId}/${action}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function entriesOf(kind: RbacKind, obj: Shareable): Found[] {
  const wild = (action: Action): Found => ({ kind, obj, wildcard: true, entry: { id: wildcardId(obj.id, action), project_id: obj.project_id, action, target_tenant: '*' } });
  return [...kind.wildcards(obj).map(wild), ...(obj.rbac ?? []).map((entry) => ({ kind, obj, entry, wildcard: false }))];
}

function view(f: Found): ApiResource {
  return { id: f.entry.id, project_id: f.entry.project_id, tenant_id: f.entry.project_id, object_type: f.kind.objectType, object_id: f.obj.id, action: f.entry.action, target_tenant: f.entry.target_tenant };
}

class RbacPolicyNotFound extends NeutronError {
  constructor(id: string) {
    super('RbacPolicyNotFound', 'NotFound', `RBAC policy of type network with ID ${id} not found`);
  }
}

/**
 * Neutron's `_validate_rbac_policy_delete`: whether taking `removed` (an `access_as_shared`
 * entry) off `obj` strands a project other than the owner's that uses it: the entry's target
 * (unless a wildcard stays), or for the wildcard any user the targeted entries do not name.
 */
export async function sharedAccessInUse(store: NetworkStore, kind: 'network' | 'qos_policy', obj: Shareable, removed: RbacEntry): Promise<boolean> {
  const k = KINDS.find((x) => x.objectType === kind) as RbacKind;
  if (removed.action !== 'access_as_shared') return false;
  const bound = await k.boundProjects(store, obj);
  bound.delete(obj.project_id);
  const others = entriesOf(k, obj).filter((x) => x.entry.id !== removed.id && x.entry.action === 'access_as_shared').map((x) => x.entry.target_tenant);
  if (removed.target_tenant !== '*') return !others.includes('*') && bound.has(removed.target_tenant);
  return [...bound].some((p) => !others.includes(p));
}

/** The wildcard `access_as_shared` entry a `shared` flag is (for a flag turned off by an update). */
export function sharedWildcard(obj: Shareable): RbacEntry {
  return { id: wildcardId(obj.id, 'access_as_shared'), project_id: obj.project_id, action: 'access_as_shared', target_tenant: '*' };
}

/**
 * rbac-policies for networks and QoS policies (`openstack network rbac create/list/show/set/delete`),
 * as Neutron's: a network shared with one project (`access_as_shared`: the project sees it and
 * makes ports on it, and it shows `shared` to that project) or external to one
 * (`access_as_external`: its routers and floating IPs may use it); a QoS policy shared with one
 * project (it sees the policy and binds its ports and networks to it; `access_as_shared` only).
 * The wildcard target `*` is the object's own `shared` or `router:external` flag, so `network
 * create --share` and `network rbac create --target-all-projects` are the same thing, listed
 * once; only admins set a wildcard (`create_rbac_policy:target_tenant`). Entries are the object
 * owner's (or an admin's) to see and change; a duplicate is 409; an entry that another project's
 * ports (or, for a QoS policy, networks) still depend on is 409 to delete. Other object types
 * (security groups, address scopes...) are not shared here.
 */
export function rbacPolicyRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const visibleTo = (ctx: NetworkContext, f: Found) => isOwner(ctx, f.entry.project_id);
  const all = async (): Promise<Found[]> => (await Promise.all(KINDS.map(async (kind) => (await store.scan<Shareable>(kind.storeType)).flatMap((obj) => entriesOf(kind, obj))))).flat();
  const find = async (ctx: NetworkContext, id: string): Promise<Found> => {
    const f = (await all()).find((x) => x.entry.id === id);
    if (!f || !visibleTo(ctx, f)) throw new RbacPolicyNotFound(id);
    return f;
  };
  // Neutron's details: the network's word for networks, the stranded project for other objects.
  const inUse = (f: Found) => new RbacPolicyInUse(f.obj.id, f.kind === NETWORK ? 'network' : `project_id=${f.entry.target_tenant}`);
  const checkNotInUse = async (f: Found) => {
    if (await sharedAccessInUse(store, f.kind.objectType, f.obj, f.entry)) throw inUse(f);
  };
  const duplicate = () => new NeutronError('DuplicateRbacPolicy', 'Conflict', 'An RBAC policy already exists with those values.');
  /** Writes `edit` of the object's entries (and flags) by compare-and-swap. */
  const change = async (kind: RbacKind, id: string, edit: (obj: Shareable) => Shareable | undefined): Promise<Shareable> => {
    const updated = await store.update<Shareable>(kind.storeType, id, (obj) => {
      const next = edit(obj);
      return next === undefined ? undefined : { ...next, revision_number: obj.revision_number + 1 };
    });
    if (!updated) throw kind.notFound(id);
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
        const kind = KINDS.find((k) => k.objectType === f.object_type);
        if (!kind) throw new InvalidAttribute('object_type', `'${String(f.object_type)}' is not in ${pyText(KINDS.map((k) => k.objectType))}`);
        const action = f.action as Action;
        if (!kind.actions.includes(action)) throw new InvalidInput(`Invalid action '${action}' for object type '${kind.objectType}'. Valid actions: (${kind.actions.map((a) => `'${a}'`).join(', ')}${kind.actions.length === 1 ? ',' : ''})`);
        const target = f.target_tenant as string;
        if (target === '*' && !ctx.isAdmin) throw new PolicyNotAuthorized('(rule:create_rbac_policy and rule:create_rbac_policy:target_tenant)');
        const id = f.object_id as string;
        const obj = await store.get<Shareable>(kind.storeType, id);
        if (!obj || !kind.canSee(ctx, obj)) throw kind.notFound(id);
        if (!isOwner(ctx, obj.project_id)) throw new InvalidInput(`Only admins can manipulate policies on ${kind.objects} they do not own`);
        const entry: RbacEntry = { id: target === '*' ? wildcardId(id, action) : newId(), project_id: projectId, action, target_tenant: target };
        let exists = false;
        const updated = await change(kind, id, (cur) => {
          exists = entriesOf(kind, cur).some((x) => x.entry.action === action && x.entry.target_tenant === target);
          if (exists) return undefined;
          if (target !== '*') return { ...cur, rbac: [...(cur.rbac ?? []), entry] };
          return kind.withWildcard(cur, action, true);
        });
        if (exists) throw duplicate();
        const made = entriesOf(kind, updated).find((x) => x.entry.id === entry.id) as Found;
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
        await checkNotInUse(found);
        let exists = false;
        const updated = await change(found.kind, found.obj.id, (cur) => {
          exists = (cur.rbac ?? []).some((e) => e.action === found.entry.action && e.target_tenant === target);
          return exists ? undefined : { ...cur, rbac: (cur.rbac ?? []).map((e) => (e.id === found.entry.id ? { ...e, target_tenant: target } : e)) };
        });
        if (exists) throw duplicate();
        return showResponse(req, 'rbac_policy', view(entriesOf(found.kind, updated).find((x) => x.entry.id === found.entry.id) as Found));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/rbac-policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const found = await find(ctx, req.params.id as string);
        await checkNotInUse(found);
        await change(found.kind, found.obj.id, (cur) => {
          if (!found.wildcard) return { ...cur, rbac: (cur.rbac ?? []).filter((e) => e.id !== found.entry.id) };
          return found.kind.withWildcard(cur, found.entry.action, false);
        });
        return NO_CONTENT;
      },
    },
  ];
}
