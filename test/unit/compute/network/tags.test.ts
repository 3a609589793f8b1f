import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

test('tags: PUT replaces them all, PUT/GET/DELETE one, DELETE all; each change bumps the revision; shown on the resource', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', { network: { name: 'tagged' } })).json.network;
    assert.equal(net.tags, []);
    const put = await req('PUT', `networks/${net.id}/tags`, { tags: ['red', 'blue'] });
    assert.equal([put.status, put.json], [200, { tags: ['red', 'blue'] }]);
    const shown = (await req('GET', `networks/${net.id}`)).json.network;
    assert.equal([shown.tags, shown.revision_number], [['red', 'blue'], net.revision_number + 1]);
    assert.equal((await req('GET', `networks/${net.id}/tags`)).json, { tags: ['red', 'blue'] });
    assert.is((await req('GET', `networks/${net.id}/tags/red`)).status, 204);
    const missing = await req('GET', `networks/${net.id}/tags/green`);
    assert.equal([missing.status, missing.json.NeutronError.type, missing.json.NeutronError.message], [404, 'TagNotFound', 'Tag green could not be found.']);
    assert.is((await req('PUT', `networks/${net.id}/tags/green`)).status, 201);
    assert.is((await req('PUT', `networks/${net.id}/tags/green`)).status, 201, 'adding one it has is no error');
    assert.equal((await req('GET', `networks/${net.id}/tags`)).json.tags, ['red', 'blue', 'green']);
    assert.is((await req('DELETE', `networks/${net.id}/tags/red`)).status, 204);
    const gone = await req('DELETE', `networks/${net.id}/tags/red`);
    assert.equal([gone.status, gone.json.NeutronError.type], [404, 'TagNotFound']);
    assert.equal((await req('PUT', `networks/${net.id}/tags`, { tags: ['blue', 'x'] })).json.tags, ['blue', 'x']);
    assert.equal((await req('GET', `networks/${net.id}/tags`)).json.tags, ['blue', 'x'], 'PUT replaced green');
    assert.is((await req('DELETE', `networks/${net.id}/tags`)).status, 204);
    assert.equal((await req('GET', `networks/${net.id}`)).json.network.tags, []);
    // tag-creation: POST adds those missing.
    const posted = await req('POST', `networks/${net.id}/tags`, { tags: ['a', 'b'] });
    assert.equal([posted.status, posted.json.tags], [201, ['a', 'b']]);
    await req('POST', `networks/${net.id}/tags`, { tags: ['b', 'c'] });
    assert.equal((await req('GET', `networks/${net.id}/tags`)).json.tags, ['a', 'b', 'c']);

    // Every taggable collection has the sub-resource.
    const subnet = (await req('POST', 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.1.0.0/24' } })).json.subnet;
    const port = (await req('POST', 'ports', { port: { network_id: net.id, tags: ['p1', 'p2'] } })).json.port;
    assert.equal(port.tags, ['p1', 'p2'], 'ports take tags in their POST');
    const router = (await req('POST', 'routers', { router: { name: 'r' } })).json.router;
    const group = (await req('POST', 'security-groups', { security_group: { name: 'g' } })).json.security_group;
    for (const [collection, id, resource] of [
      ['subnets', subnet.id, 'subnet'],
      ['ports', port.id, 'port'],
      ['routers', router.id, 'router'],
      ['security-groups', group.id, 'security_group'],
    ]) {
      assert.is((await req('PUT', `${collection}/${id}/tags`, { tags: ['t'] })).status, 200, collection);
      assert.equal((await req('GET', `${collection}/${id}`)).json[resource as string].tags, ['t'], collection);
    }
  } finally {
    await n.close();
  }
});

test('tags: bad bodies and tags are InvalidInput, over 50 a BadRequest, tags in a network body refused; nothing changes', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', { network: { name: 'tagged' } })).json.network;
    await req('PUT', `networks/${net.id}/tags`, { tags: ['keep'] });
    const refused = async (method: string, path: string, body: unknown, status: number, type: string, message: string) => {
      const r = await req(method, path, body);
      assert.equal([r.status, r.json?.NeutronError?.type, r.json?.NeutronError?.message], [status, type, message], `${method} ${path} ${JSON.stringify(body)}`);
    };
    await refused('PUT', `networks/${net.id}/tags`, { tag: ['a'] }, 400, 'InvalidInput', 'Invalid input for operation: Invalid tags body.');
    await refused('PUT', `networks/${net.id}/tags`, { tags: 'a' }, 400, 'InvalidInput', "Invalid input for operation: 'a' is not a list.");
    await refused('PUT', `networks/${net.id}/tags`, { tags: ['a', 'b', 'a'] }, 400, 'InvalidInput', "Invalid input for operation: Duplicate items in the list: 'a'.");
    await refused('PUT', `networks/${net.id}/tags`, { tags: [1] }, 400, 'InvalidInput', "Invalid input for operation: '1' is not a valid string.");
    const long = 'x'.repeat(256);
    await refused('PUT', `networks/${net.id}/tags/${long}`, undefined, 400, 'InvalidInput', `Invalid input for operation: '${long}' exceeds maximum length of 255.`);
    const many = Array.from({ length: 51 }, (_, i) => `t${i}`);
    await refused('PUT', `networks/${net.id}/tags`, { tags: many }, 400, 'BadRequest', 'Bad networks request: The number of tags exceed the per-resource limit of 50.');
    await refused('PUT', `networks/${net.id}`, { network: { tags: ['a'] } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute tags');
    await refused('POST', 'networks', { network: { name: 'x', tags: ['a'] } }, 400, 'HTTPBadRequest', "Attribute 'tags' not allowed in POST");
    const unknown = '0b6f3a8e-4a62-4c55-9f1e-1b2a3c4d5e6f';
    await refused('PUT', `networks/${unknown}/tags`, { tags: ['a'] }, 404, 'TagResourceNotFound', `Resource networks ${unknown} could not be found.`);
    await refused('GET', `security-groups/${unknown}/tags`, undefined, 404, 'TagResourceNotFound', `Resource security_groups ${unknown} could not be found.`);
    const after = (await req('GET', `networks/${net.id}`)).json.network;
    assert.equal([after.tags, after.revision_number], [['keep'], net.revision_number + 1], 'only the first PUT changed it');
  } finally {
    await n.close();
  }
});

test("tags policy: another project may read a shared network's tags but change none; an admin may change anyone's", async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const shared = (await req('POST', 'networks', admin, { network: { name: 'shared', shared: true } })).json.network.id as string;
    const own = (await req('POST', 'networks', admin, { network: { name: 'own' } })).json.network.id as string;
    await req('PUT', `networks/${shared}/tags`, admin, { tags: ['s'] });
    assert.equal((await req('GET', `networks/${shared}/tags`, demo)).json.tags, ['s']);
    const change = await req('PUT', `networks/${shared}/tags`, demo, { tags: ['mine'] });
    assert.equal([change.status, change.json.NeutronError.type, change.json.NeutronError.message], [403, 'PolicyNotAuthorized', 'update_network:tags is disallowed by policy']);
    const drop = await req('DELETE', `networks/${shared}/tags/s`, demo);
    assert.equal([drop.status, drop.json.NeutronError.message], [403, 'delete_network:tags is disallowed by policy']);
    const read = await req('GET', `networks/${own}/tags`, demo);
    assert.equal([read.status, read.json.NeutronError.message], [403, 'get_network:tags is disallowed by policy']);
    assert.equal((await req('GET', `networks/${shared}/tags`, admin)).json.tags, ['s'], 'unchanged');
    const demoNet = (await req('POST', 'networks', demo, { network: { name: 'd' } })).json.network.id as string;
    assert.is((await req('PUT', `networks/${demoNet}/tags/by-admin`, admin)).status, 201);
    assert.equal((await req('GET', `networks/${demoNet}/tags`, demo)).json.tags, ['by-admin']);
  } finally {
    await n.close();
  }
});

test('tag filters: tags has all, tags-any one, not-tags not all, not-tags-any none; comma-separated or repeated', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const made: Record<string, string> = {};
    for (const [name, tags] of [
      ['rb', ['red', 'blue']],
      ['r', ['red']],
      ['g', ['green']],
      ['none', []],
    ] as const) {
      made[name] = (await req('POST', 'networks', { network: { name } })).json.network.id;
      await req('PUT', `networks/${made[name]}/tags`, { tags });
    }
    const names = async (query: string) => ((await req('GET', `networks?${query}`)).json.networks as { name: string }[]).map((x) => x.name).sort();
    assert.equal(await names('tags=red,blue'), ['rb']);
    assert.equal(await names('tags=red&tags=blue'), ['rb']);
    assert.equal(await names('tags=red'), ['r', 'rb']);
    assert.equal(await names('tags-any=blue,green'), ['g', 'rb']);
    assert.equal(await names('not-tags=red,blue'), ['g', 'none', 'r']);
    assert.equal(await names('not-tags-any=red,green'), ['none']);
    assert.equal(await names('tags=red&not-tags=blue'), ['r']);
  } finally {
    await n.close();
  }
});

test('extensions: standard-attr-tag, tag-creation and tag-ports-during-bulk-creation are listed', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const aliases = ((await n.request('GET', '/v2.0/extensions', { token: demo })).json.extensions as { alias: string }[]).map((e) => e.alias);
    for (const alias of ['standard-attr-tag', 'tag-creation', 'tag-ports-during-bulk-creation']) assert.ok(aliases.includes(alias), alias);
  } finally {
    await n.close();
  }
});

test('tags on subnet pools and QoS policies, and the tags filter on their lists', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: admin, ...(body !== undefined ? { body } : {}) });
    const pool = (await req('POST', 'subnetpools', { subnetpool: { name: 'sp', prefixes: ['10.50.0.0/16'] } })).json.subnetpool;
    const policy = (await req('POST', 'qos/policies', { policy: { name: 'gold' } })).json.policy;
    for (const [collection, id, resource, list] of [
      ['subnetpools', pool.id, 'subnetpool', 'subnetpools'],
      ['qos/policies', policy.id, 'policy', 'policies'],
    ] as const) {
      const put = await req('PUT', `${collection}/${id}/tags`, { tags: ['red', 'blue'] });
      assert.equal([put.status, put.json], [200, { tags: ['red', 'blue'] }], collection);
      assert.equal((await req('GET', `${collection}/${id}`)).json[resource].tags, ['red', 'blue'], collection);
      assert.equal((await req('GET', `${collection}?tags=red`)).json[list].map((x: { id: string }) => x.id), [id], collection);
      assert.equal((await req('GET', `${collection}?not-tags-any=blue`)).json[list], [], collection);
      assert.is((await req('DELETE', `${collection}/${id}/tags/red`)).status, 204, collection);
      assert.equal((await req('GET', `${collection}/${id}/tags`)).json.tags, ['blue'], collection);
    }
  } finally {
    await n.close();
  }
});

test.run();
