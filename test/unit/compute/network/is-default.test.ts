import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

test('is_default: shown on external networks only, one default external network, admin only, dropped when the network turns internal', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const internal = await req('POST', 'networks', demo, { network: { name: 'in', is_default: false } });
    assert.is(internal.status, 201, 'is_default false (its default) is anyone’s to give');
    assert.is('is_default' in internal.json.network, false, 'an internal network has none');
    const ignored = await req('POST', 'networks', admin, { network: { name: 'in2', is_default: true } });
    assert.equal([ignored.status, 'is_default' in ignored.json.network], [201, false], 'ignored on an internal network');

    const ext = await req('POST', 'networks', admin, { network: { name: 'ext', 'router:external': true, is_default: true } });
    assert.equal([ext.status, ext.json.network.is_default], [201, true]);
    const plain = (await req('POST', 'networks', admin, { network: { name: 'ext2', 'router:external': true } })).json.network;
    assert.is(plain.is_default, false);
    const second = await req('PUT', `networks/${plain.id}`, admin, { network: { is_default: true } });
    assert.equal([second.status, second.json.NeutronError.type, second.json.NeutronError.message], [409, 'DefaultExternalNetworkExists', `A default external network already exists: ${ext.json.network.id}.`]);
    const asDemo = await req('POST', 'networks', demo, { network: { name: 'd', is_default: true } });
    assert.equal([asDemo.status, asDemo.json.NeutronError.type], [403, 'PolicyNotAuthorized']);
    const demoNet = (await req('POST', 'networks', demo, { network: { name: 'd2' } })).json.network.id as string;
    const demoSet = await req('PUT', `networks/${demoNet}`, demo, { network: { is_default: false } });
    assert.equal([demoSet.status, demoSet.json.NeutronError.message], [403, '(rule:update_network and rule:update_network:is_default) is disallowed by policy']);
    const bad = await req('PUT', `networks/${plain.id}`, admin, { network: { is_default: 'maybe' } });
    assert.equal([bad.status, bad.json.NeutronError.message], [400, "Invalid input for operation: 'maybe' cannot be converted to boolean."]);
    assert.is((await req('GET', `networks/${plain.id}`, admin)).json.network.is_default, false, 'unchanged by the refusals');

    assert.equal((await req('GET', 'networks?is_default=True', admin)).json.networks.map((x: { id: string }) => x.id), [ext.json.network.id]);
    assert.is((await req('PUT', `networks/${ext.json.network.id}`, admin, { network: { 'router:external': false } })).status, 200);
    const nowInternal = (await req('GET', `networks/${ext.json.network.id}`, admin)).json.network;
    assert.is('is_default' in nowInternal, false);
    const moved = await req('PUT', `networks/${plain.id}`, admin, { network: { is_default: true } });
    assert.equal([moved.status, moved.json.network.is_default], [200, true], 'the old default is internal now');
    assert.is((await req('PUT', `networks/${ext.json.network.id}`, admin, { network: { 'router:external': true } })).json.network.is_default, false, 'external again, not default');
  } finally {
    await n.close();
  }
});

test.run();
