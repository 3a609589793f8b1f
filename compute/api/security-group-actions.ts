import { updateRecord } from '../../client/record-update.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { NetworkApi, NeutronSecurityGroup } from '../network-api.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr, UUID_LIKE } from '../validation.ts';

/** The group's name from `{"<action>": {"name": ...}}`, checked as Nova's schema and `_parse` check it. */
function groupName(action: string, arg: unknown): string {
  if (!isObject(arg)) throw fieldError(action, arg, `${pyRepr(arg)} is not of type 'object'`);
  const extra = Object.keys(arg).filter((k) => k !== 'name');
  if (extra.length > 0) throw fieldError(action, arg, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  if (!('name' in arg)) throw fieldError(action, arg, "'name' is a required property");
  const name = arg['name'];
  if (typeof name !== 'string') throw fieldError('name', name, `${pyRepr(name)} is not of type 'string'`);
  if (name.length === 0) throw fieldError('name', name, `${pyRepr(name)} should be non-empty`);
  if (name.trim() === '') throw badRequest('Security group name cannot be empty');
  return name;
}

/**
 * neutronclient's `find_resourceid_by_name_or_id`, as Nova calls it: the group with that id,
 * else the project's one with that name; two of that name is 409, none 404 (Nova's messages).
 */
async function findGroup(networks: NetworkApi, token: string, nameOrId: string, projectId: string): Promise<NeutronSecurityGroup> {
  if (UUID_LIKE.test(nameOrId)) {
    const [byId] = await networks.listSecurityGroups(token, { id: nameOrId });
    if (byId) return byId;
  }
  const byName = await networks.listSecurityGroups(token, { name: nameOrId, project_id: projectId });
  if (byName.length > 1) throw conflict(`Multiple security_group matches found for name '${nameOrId}', use an ID to be more specific.`);
  const [found] = byName;
  if (!found) throw notFound(`Security group ${nameOrId} is not found for project ${projectId}`);
  return found;
}

/**
 * `addSecurityGroup` / `removeSecurityGroup` (`openstack server add/remove security group`), as
 * Nova's `security_group_api.add_to_instance` and `remove_from_instance`: the group (by id or
 * the project's name) added to or removed from every port of the server in Neutron, with the
 * user's token; 202. The server record's group names follow, for `server show`.
 */
export async function changeSecurityGroup(d: { readonly store: ComputeStore; readonly networks: NetworkApi }, req: ComputeRequest, s: ServerRecord, action: 'addSecurityGroup' | 'removeSecurityGroup', arg: unknown): Promise<ComputeResponse> {
  const c = contextOf(req);
  const name = groupName(action, arg);
  const token = req.headers['x-auth-token'] ?? '';
  const group = await findGroup(d.networks, token, name, c.projectId);
  const ports = await d.networks.listPorts(token, s.uuid);
  if (ports.length === 0) throw notFound(`instance_id ${s.uuid} could not be found as device id on any ports`);
  if (action === 'addSecurityGroup') {
    for (const port of ports) {
      // Nova's `_has_security_group_requirements`: port security on, and an address.
      if (port['port_security_enabled'] === false || port.fixed_ips.length === 0) throw badRequest('Network requires port_security_enabled and subnet associated in order to apply security groups.');
    }
    for (const port of ports) {
      const groups = Array.isArray(port['security_groups']) ? (port['security_groups'] as string[]) : [];
      // Already there: left as it is (Neutron refuses a list with the group twice).
      if (!groups.includes(group.id)) await d.networks.updatePort(token, port.id, { security_groups: [...groups, group.id] });
    }
  } else {
    let found = false;
    for (const port of ports) {
      const groups = Array.isArray(port['security_groups']) ? (port['security_groups'] as string[]) : [];
      if (!groups.includes(group.id)) continue;
      await d.networks.updatePort(token, port.id, { security_groups: groups.filter((g) => g !== group.id) });
      found = true;
    }
    if (!found) throw notFound(`Security group ${name} not associated with the instance ${s.uuid}`);
  }
  await updateRecord<ServerRecord>(d.store.records, T.servers, s.uuid, (cur) => {
    const names = cur.value.security_groups;
    const next = action === 'addSecurityGroup' ? (names.includes(group.name) ? names : [...names, group.name]) : names.filter((n) => n !== group.name);
    return next === names ? undefined : { ...cur.value, security_groups: next, updated_at: d.store.isoSeconds() };
  });
  return ACCEPTED;
}
