import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork, type TestNetwork } from '../../../helpers/network.ts';

/** A project `name` with a member user of the same name; its token. */
async function projectMember(n: TestNetwork, admin: string, name: string): Promise<{ token: string; projectId: string }> {
  const project = (await n.identity.request('POST', '/v3/projects', { token: admin, body: { project: { name, domain_id: 'default' } } })).json.project.id as string;
  const user = (await n.identity.request('POST', '/v3/users', { token: admin, body: { user: { name, password: `pw-of-${name}`, domain_id: 'default', default_project_id: project } } })).json.user.id as string;
  const role = (await n.identity.request('GET', '/v3/roles?name=member', { token: admin })).json.roles[0].id as string;
  assert.is((await n.identity.request('PUT', `/v3/projects/${project}/users/${user}/roles/${role}`, { token: admin })).status, 204);
  return { token: await n.identity.token({ user: name, password: `pw-of-${name}` }), projectId: project };
}

test('network rbac: a network shared with one project is seen, shown shared and used by it only; wildcards are the shared and external flags; refusals as Neutron', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const carol = await projectMember(n, admin, 'carol');
    const dave = await projectMember(n, admin, 'dave');
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', demo, { network: { name: 'team' } })).json.network.id as string;
    await req('POST', 'subnets', demo, { subnet: { network_id: net, ip_version: 4, cidr: '10.9.9.0/24' } });
    const sees = async (token: string) => (await req('GET', 'networks', token)).json.networks.some((x: { id: string }) => x.id === net);
    assert.is(await sees(carol.token), false);

    const made = await req('POST', 'rbac-policies', demo, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: carol.projectId } });
    assert.is(made.status, 201, JSON.stringify(made.json));
    const policy = made.json.rbac_policy;
    assert.equal([policy.object_type, policy.object_id, policy.action, policy.target_tenant], ['network', net, 'access_as_shared', carol.projectId]);
    assert.equal([await sees(carol.token), await sees(dave.token)], [true, false]);
    assert.is((await req('GET', `networks/${net}`, carol.token)).json.network.shared, true, 'shared, to the project it is shared with');
    assert.is((await req('GET', `networks/${net}`, demo)).json.network.shared, false, 'not shared with everyone');
    assert.is((await req('GET', 'subnets', carol.token)).json.subnets.length, 1, "carol sees the network's subnet");
    const port = await req('POST', 'ports', carol.token, { port: { network_id: net } });
    assert.is(port.status, 201, 'carol makes a port on it');
    assert.is((await req('POST', 'ports', dave.token, { port: { network_id: net } })).status, 404);

    // Refusals.
    const again = await req('POST', 'rbac-policies', demo, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: carol.projectId } });
    assert.equal([again.status, again.json.NeutronError.type], [409, 'DuplicateRbacPolicy']);
    const wild = await req('POST', 'rbac-policies', demo, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: '*' } });
    assert.is(wild.status, 403);
    const notMine = await req('POST', 'rbac-policies', carol.token, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: dave.projectId } });
    assert.equal([notMine.status, notMine.json.NeutronError.message], [400, 'Invalid input for operation: Only admins can manipulate policies on networks they do not own.']);
    const badType = await req('POST', 'rbac-policies', demo, { rbac_policy: { object_type: 'router', object_id: net, action: 'access_as_shared', target_tenant: dave.projectId } });
    assert.is(badType.status, 400);
    assert.is((await req('GET', `rbac-policies/${policy.id}`, carol.token)).status, 404, "the target does not see the owner's policy");
    const inUse = await req('DELETE', `rbac-policies/${policy.id}`, demo);
    assert.equal([inUse.status, inUse.json.NeutronError.type], [409, 'RbacPolicyInUse']);

    // The wildcard is the network's shared flag, both ways.
    const everyone = await req('POST', 'rbac-policies', admin, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: '*' } });
    assert.is(everyone.status, 201);
    assert.is((await req('GET', `networks/${net}`, dave.token)).json.network.shared, true);
    const listed = (await req('GET', `rbac-policies?object_id=${net}`, demo)).json.rbac_policies.map((p: { target_tenant: string }) => p.target_tenant).sort();
    assert.equal(listed, ['*', carol.projectId].sort());
    // With the wildcard there, carol's own policy can go: her port keeps its access.
    assert.is((await req('DELETE', `rbac-policies/${policy.id}`, demo)).status, 204);
    assert.is((await req('DELETE', `rbac-policies/${everyone.json.rbac_policy.id}`, admin)).status, 409, "now carol's port depends on the wildcard");
    assert.is((await req('DELETE', `ports/${port.json.port.id}`, carol.token)).status, 204);
    assert.is((await req('DELETE', `rbac-policies/${everyone.json.rbac_policy.id}`, admin)).status, 204);
    const after = (await req('GET', `networks/${net}`, demo)).json.network;
    assert.is(after.shared, false);
    assert.equal([await sees(carol.token), await sees(dave.token)], [false, false]);
    // network set --share makes the wildcard entry appear.
    assert.is((await req('PUT', `networks/${net}`, admin, { network: { shared: true } })).status, 200);
    assert.equal((await req('GET', `rbac-policies?object_id=${net}`, admin)).json.rbac_policies.map((p: { target_tenant: string; action: string }) => [p.action, p.target_tenant]), [['access_as_shared', '*']]);
  } finally {
    await n.close();
  }
});

test('access_as_external for one project: its routers may use the network as their gateway, other projects may not', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const carol = await projectMember(n, admin, 'carol');
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const ext = (await req('POST', 'networks', admin, { network: { name: 'uplink' } })).json.network.id as string;
    await req('POST', 'subnets', admin, { subnet: { network_id: ext, ip_version: 4, cidr: '172.30.0.0/24', enable_dhcp: false } });
    assert.is((await req('POST', 'rbac-policies', admin, { rbac_policy: { object_type: 'network', object_id: ext, action: 'access_as_external', target_tenant: carol.projectId } })).status, 201);
    const mine = await req('POST', 'routers', carol.token, { router: { name: 'r', external_gateway_info: { network_id: ext } } });
    assert.is(mine.status, 201, JSON.stringify(mine.json));
    const theirs = await req('POST', 'routers', demo, { router: { name: 'r', external_gateway_info: { network_id: ext } } });
    assert.is(theirs.status, 404, JSON.stringify(theirs.json));
  } finally {
    await n.close();
  }
});

test('qos_policy rbac: a policy shared with one project is seen and bound by it only; access_as_shared only; in use by that project: 409', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const carol = await projectMember(n, admin, 'carol');
    const dave = await projectMember(n, admin, 'dave');
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const policy = (await req('POST', 'qos/policies', admin, { policy: { name: 'gold' } })).json.policy.id as string;
    const sees = async (token: string) => (await req('GET', 'qos/policies', token)).json.policies.some((p: { id: string }) => p.id === policy);
    assert.equal([await sees(carol.token), await sees(dave.token)], [false, false]);

    const external = await req('POST', 'rbac-policies', admin, { rbac_policy: { object_type: 'qos_policy', object_id: policy, action: 'access_as_external', target_tenant: carol.projectId } });
    assert.equal([external.status, external.json.NeutronError.type, external.json.NeutronError.message], [400, 'InvalidInput', "Invalid input for operation: Invalid action 'access_as_external' for object type 'qos_policy'. Valid actions: ('access_as_shared',)."]);
    const notMine = await req('POST', 'rbac-policies', carol.token, { rbac_policy: { object_type: 'qos_policy', object_id: policy, action: 'access_as_shared', target_tenant: carol.projectId } });
    assert.equal([notMine.status, notMine.json.NeutronError.type], [404, 'QosPolicyNotFound'], 'carol cannot see it yet');
    const made = await req('POST', 'rbac-policies', admin, { rbac_policy: { object_type: 'qos_policy', object_id: policy, action: 'access_as_shared', target_tenant: carol.projectId } });
    assert.is(made.status, 201, JSON.stringify(made.json));
    assert.equal([made.json.rbac_policy.object_type, made.json.rbac_policy.object_id], ['qos_policy', policy]);
    assert.equal([await sees(carol.token), await sees(dave.token)], [true, false]);
    assert.is((await req('GET', `qos/policies/${policy}`, carol.token)).json.policy.shared, true, 'shared, to the project it is shared with');
    assert.is((await req('GET', `qos/policies/${policy}`, admin)).json.policy.shared, false);

    // Carol binds her network to it; dave cannot.
    const net = await req('POST', 'networks', carol.token, { network: { name: 'n', qos_policy_id: policy } });
    assert.equal([net.status, net.json.network.qos_policy_id], [201, policy]);
    assert.is((await req('POST', 'networks', dave.token, { network: { name: 'n', qos_policy_id: policy } })).status, 404);
    const inUse = await req('DELETE', `rbac-policies/${made.json.rbac_policy.id}`, admin);
    assert.equal([inUse.status, inUse.json.NeutronError.type, inUse.json.NeutronError.message], [409, 'RbacPolicyInUse', `RBAC policy on object ${policy} cannot be removed because other objects depend on it.\nDetails: project_id=${carol.projectId}`]);
    // Shared with all and then unshared: refused while carol's network uses it.
    assert.is((await req('PUT', `qos/policies/${policy}`, admin, { policy: { shared: true } })).status, 200);
    assert.is((await req('DELETE', `rbac-policies/${made.json.rbac_policy.id}`, admin)).status, 204, 'the wildcard keeps carol in');
    const unshare = await req('PUT', `qos/policies/${policy}`, admin, { policy: { shared: false } });
    assert.equal([unshare.status, unshare.json.NeutronError.type], [409, 'RbacPolicyInUse']);
    assert.is((await req('GET', `qos/policies/${policy}`, admin)).json.policy.shared, true, 'still shared');
    assert.is((await req('PUT', `networks/${net.json.network.id}`, carol.token, { network: { qos_policy_id: null } })).status, 200);
    assert.is((await req('PUT', `qos/policies/${policy}`, admin, { policy: { shared: false } })).json.policy.shared, false);
    assert.equal([await sees(carol.token), await sees(dave.token)], [false, false]);
  } finally {
    await n.close();
  }
});

test.run();
