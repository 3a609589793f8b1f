import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

test('extra routes: PUT routes replaces them, add_extraroutes/remove_extraroutes edit them atomically; a route keeps its interface', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', { network: { name: 'inside' } })).json.network;
    const subnet = (await req('POST', 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.2.0.0/24' } })).json.subnet;
    const router = (await req('POST', 'routers', { router: { name: 'r' } })).json.router;
    assert.equal(router.routes, []);
    assert.is((await req('PUT', `routers/${router.id}/add_router_interface`, { subnet_id: subnet.id })).status, 200);

    const set = await req('PUT', `routers/${router.id}`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.2.0.5' }] } });
    assert.equal([set.status, set.json.router.routes], [200, [{ destination: '192.168.0.0/24', nexthop: '10.2.0.5' }]]);
    const added = await req('PUT', `routers/${router.id}/add_extraroutes`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.2.0.5' }, { destination: '172.16.0.0/16', nexthop: '10.2.0.6' }] } });
    assert.equal([added.status, added.json.router.routes], [200, [{ destination: '192.168.0.0/24', nexthop: '10.2.0.5' }, { destination: '172.16.0.0/16', nexthop: '10.2.0.6' }]], 'the duplicate merged');
    assert.equal(added.json.router.revision_number, router.revision_number + 2);

    const inUse = await req('PUT', `routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id });
    assert.equal([inUse.status, inUse.json.NeutronError.type, inUse.json.NeutronError.message], [409, 'RouterInterfaceInUseByRoute', `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`]);

    const removed = await req('PUT', `routers/${router.id}/remove_extraroutes`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.2.0.5' }, { destination: '10.9.0.0/16', nexthop: '10.2.0.9' }] } });
    assert.equal([removed.status, removed.json.router.routes], [200, [{ destination: '172.16.0.0/16', nexthop: '10.2.0.6' }]], 'removing an absent route is no error');
    const cleared = await req('PUT', `routers/${router.id}`, { router: { routes: null } });
    assert.equal(cleared.json.router.routes, [], 'null is no routes');
    assert.is((await req('PUT', `routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id })).status, 200);
  } finally {
    await n.close();
  }
});

test("extra routes: Neutron's InvalidRoutes and hostroutes validation, routes not allowed in POST, the router_route quota; nothing changes", async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', { network: { name: 'inside' } })).json.network;
    const subnet = (await req('POST', 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.3.0.0/24' } })).json.subnet;
    const router = (await req('POST', 'routers', { router: { name: 'r' } })).json.router;
    await req('PUT', `routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const refused = async (method: string, path: string, body: unknown, status: number, type: string, message: string) => {
      const r = await req(method, path, body);
      assert.equal([r.status, r.json?.NeutronError?.type, r.json?.NeutronError?.message], [status, type, message], JSON.stringify(body));
    };
    await refused('PUT', `routers/${router.id}`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.4.0.1' }] } }, 400, 'InvalidRoutes', "Invalid format for routes: [{'destination': '192.168.0.0/24', 'nexthop': '10.4.0.1'}], the nexthop is not connected with router");
    await refused('PUT', `routers/${router.id}/add_extraroutes`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: '10.3.0.1' }] } }, 400, 'InvalidRoutes', "Invalid format for routes: [{'destination': '192.168.0.0/24', 'nexthop': '10.3.0.1'}], the nexthop is used by router");
    await refused('PUT', `routers/${router.id}`, { router: { routes: [{ destination: '192.168.0.1/24', nexthop: '10.3.0.5' }] } }, 400, 'HTTPBadRequest', "Invalid input for routes. Reason: '192.168.0.1/24' is not a valid CIDR.");
    await refused('PUT', `routers/${router.id}`, { router: { routes: [{ destination: '192.168.0.0/24', nexthop: 'x' }] } }, 400, 'HTTPBadRequest', "Invalid input for routes. Reason: 'x' is not a valid IP address.");
    await refused('PUT', `routers/${router.id}`, { router: { routes: [{ destination: '192.168.0.0/24' }] } }, 400, 'HTTPBadRequest', "Invalid input for routes. Reason: Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: {'destination'}.");
    await refused('PUT', `routers/${router.id}`, { router: { routes: 'x' } }, 400, 'HTTPBadRequest', "Invalid input for routes. Reason: Invalid data format for hostroute: 'x'.");
    const twice = { destination: '192.168.0.0/24', nexthop: '10.3.0.5' };
    await refused('PUT', `routers/${router.id}`, { router: { routes: [twice, twice] } }, 400, 'HTTPBadRequest', "Invalid input for routes. Reason: Duplicate hostroute '{'destination': '192.168.0.0/24', 'nexthop': '10.3.0.5'}'.");
    await refused('POST', 'routers', { router: { name: 'x', routes: [] } }, 400, 'HTTPBadRequest', "Attribute 'routes' not allowed in POST");
    const many = Array.from({ length: 31 }, (_, i) => ({ destination: `192.168.${i}.0/24`, nexthop: '10.3.0.5' }));
    await refused('PUT', `routers/${router.id}`, { router: { routes: many } }, 409, 'OverQuota', "Quota exceeded for resources: ['router_route'].");
    const after = (await req('GET', `routers/${router.id}`)).json.router;
    assert.equal([after.routes, after.revision_number], [[], router.revision_number], 'unchanged');
  } finally {
    await n.close();
  }
});

test('extensions: extraroute and extraroute-atomic are listed', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const aliases = ((await n.request('GET', '/v2.0/extensions', { token: demo })).json.extensions as { alias: string }[]).map((e) => e.alias);
    for (const alias of ['extraroute', 'extraroute-atomic']) assert.ok(aliases.includes(alias), alias);
  } finally {
    await n.close();
  }
});

test.run();
