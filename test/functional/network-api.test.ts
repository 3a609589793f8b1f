import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { startIdentity, type TestIdentity } from '../helpers/identity.ts';
import { clusterNetworkRecords, NETWORK_ACCOUNT_USERS, startNetwork, type TestNetwork } from '../helpers/network.ts';

/**
 * The network service with its state in a real (in-process) cluster, `AUTH_.network`: the
 * address claims are conditional object writes there, so concurrent port creates never share an
 * address; and a new service process over the same cluster finds every network, subnet and
 * port as they were.
 */
let cluster: TestCluster;
let identity: TestIdentity;
let store: ReturnType<typeof clusterNetworkRecords>;
let net: TestNetwork;
let token: string;
test.before(async () => {
  cluster = await startCluster({ users: NETWORK_ACCOUNT_USERS });
  identity = await startIdentity();
  store = clusterNetworkRecords(cluster);
  net = await startNetwork({ records: store.records, identity });
  token = await identity.token({ user: 'demo' });
});
test.after(async () => {
  await net.close();
  await store.close();
  await identity.close();
  await cluster.close();
});

test('concurrent port creates on a /29 in the cluster: five distinct addresses, the rest 409; a restarted service finds everything as it was', async () => {
  const req = (method: string, path: string, body?: unknown) => net.request(method, path, { token, body });
  const n = (await req('POST', '/v2.0/networks', { network: { name: 'cluster-net' } })).json.network;
  const s = (await req('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.20.0.0/29', name: 'cluster-sub' } })).json.subnet;
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => req('POST', '/v2.0/ports', { port: { network_id: n.id, name: `p${i}` } })));
  const made = results.filter((r) => r.status === 201).map((r) => r.json.port);
  assert.is(made.length, 5, JSON.stringify(results.map((r) => r.status)));
  assert.is(new Set(made.map((p) => p.fixed_ips[0].ip_address)).size, 5);
  for (const r of results.filter((x) => x.status !== 201)) assert.is(r.json.NeutronError.type, 'IpAddressGenerationFailure');

  const before = {
    network: (await req('GET', `/v2.0/networks/${n.id}`)).json.network,
    subnet: (await req('GET', `/v2.0/subnets/${s.id}`)).json.subnet,
    ports: (await req('GET', `/v2.0/ports?network_id=${n.id}&sort_key=name&sort_dir=asc`)).json.ports,
  };
  await net.close();
  net = await startNetwork({ records: store.records, identity });
  assert.equal((await req('GET', `/v2.0/networks/${n.id}`)).json.network, before.network);
  assert.equal((await req('GET', `/v2.0/subnets/${s.id}`)).json.subnet, before.subnet);
  assert.equal((await req('GET', `/v2.0/ports?network_id=${n.id}&sort_key=name&sort_dir=asc`)).json.ports, before.ports);
  const full = await req('POST', '/v2.0/ports', { port: { network_id: n.id } });
  assert.is(full.status, 409, 'the new process knows every address is taken');
  assert.is((await req('DELETE', `/v2.0/ports/${made[0].id}`)).status, 204);
  const again = await req('POST', '/v2.0/ports', { port: { network_id: n.id } });
  assert.is(again.status, 201);
  assert.is(again.json.port.fixed_ips[0].ip_address, made[0].fixed_ips[0].ip_address, 'the one address freed is the one given');
});

test('50 concurrent port creates through two service processes on a /26 in the cluster: every address and MAC once, the 11 extra ones 409, none half-made', async () => {
  const other = await startNetwork({ records: store.records, identity });
  try {
    const on = (n: TestNetwork, method: string, path: string, body?: unknown) => n.request(method, path, { token, body });
    const n = (await on(net, 'POST', '/v2.0/networks', { network: { name: 'fifty' } })).json.network;
    // A /26: .1 the gateway, .2-.62 the pool: 61 addresses, 22 of them taken first.
    const s = (await on(net, 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.21.0.0/26' } })).json.subnet;
    for (let i = 0; i < 22; i += 11) await Promise.all(Array.from({ length: 11 }, () => on(net, 'POST', '/v2.0/ports', { port: { network_id: n.id } })));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => on(i % 2 === 0 ? net : other, 'POST', '/v2.0/ports', { port: { network_id: n.id, device_id: `vm-${i}` } })));
    const made = results.filter((r) => r.status === 201);
    assert.is(made.length, 39, JSON.stringify(results.map((r) => r.status)));
    for (const r of results.filter((x) => x.status !== 201)) assert.is(r.json.NeutronError.type, 'IpAddressGenerationFailure');
    const ports = (await on(other, 'GET', `/v2.0/ports?network_id=${n.id}`)).json.ports as { id: string; device_id: string; mac_address: string; fixed_ips: { ip_address: string }[] }[];
    assert.is(ports.length, 61);
    assert.is(new Set(ports.map((p) => p.fixed_ips[0]?.ip_address)).size, 61, 'no address twice');
    assert.is(new Set(ports.map((p) => p.mac_address)).size, 61, 'no MAC twice');
    const claims = await store.records.list('ip-allocations', { prefix: `${s.id}/` });
    assert.is(claims.entries.length, 61, 'no claim left by a refused create');
    const one = made[7]?.json.port;
    assert.equal((await on(net, 'GET', `/v2.0/ports?device_id=${one.device_id}`)).json.ports.map((p: { id: string }) => p.id), [one.id]);
  } finally {
    await other.close();
  }
});

test.run();
