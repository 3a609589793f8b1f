import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../../client/memory-record-store.ts';
import { NetworkStore } from '../../../../compute/network/store.ts';
import { startIdentity, type TestIdentity } from '../../../helpers/identity.ts';
import { startNetwork, type TestNetwork } from '../../../helpers/network.ts';

/**
 * What keeps port creates cheap and still right: the per-process copy of slow-changing records,
 * the view of a subnet's claims (two service processes over one store race for addresses),
 * the port index (by device, by project for the quota) and what it does with ports made
 * before it or entries a crash left behind.
 */
let identity: TestIdentity;
let records: MemoryRecordStore;
let a: TestNetwork;
let b: TestNetwork;
let admin: string;
let demo: string;
test.before(async () => {
  identity = await startIdentity();
  records = new MemoryRecordStore();
  a = await startNetwork({ records, identity });
  b = await startNetwork({ records, identity });
  admin = await identity.token();
  demo = await identity.token({ user: 'demo' });
});
test.after(async () => {
  await a.close();
  await b.close();
  await identity.close();
});

const on = (net: TestNetwork, token: string) => ({
  get: (path: string) => net.request('GET', path, { token }),
  post: (path: string, body: unknown) => net.request('POST', path, { token, body }),
  put: (path: string, body: unknown) => net.request('PUT', path, { token, body }),
  del: (path: string) => net.request('DELETE', path, { token }),
});

test('50 concurrent port creates through two service processes on a /27: its 29 addresses each given once, MACs unique, the rest 409 IpAddressGenerationFailure', async () => {
  const n = (await on(a, demo).post('/v2.0/networks', { network: { name: 'race' } })).json.network;
  await on(a, demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.77.0.0/27' } });
  // Each process has seen the subnet's claims before the race (its view is warm, then stale).
  await on(a, demo).post('/v2.0/ports', { port: { network_id: n.id, name: 'warm-a' } });
  await on(b, demo).post('/v2.0/ports', { port: { network_id: n.id, name: 'warm-b' } });
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => on(i % 2 === 0 ? a : b, demo).post('/v2.0/ports', { port: { network_id: n.id, device_id: `server-${i}` } })));
  const made = results.filter((r) => r.status === 201).map((r) => r.json.port);
  assert.is(made.length, 27, JSON.stringify(results.map((r) => r.status)));
  const all = (await on(a, demo).get(`/v2.0/ports?network_id=${n.id}`)).json.ports as { fixed_ips: { ip_address: string }[]; mac_address: string }[];
  assert.is(all.length, 29);
  assert.is(new Set(all.map((p) => p.fixed_ips[0]?.ip_address)).size, 29, 'no address twice');
  assert.is(new Set(all.map((p) => p.mac_address)).size, 29, 'no MAC twice');
  for (const r of results.filter((x) => x.status !== 201)) assert.is(r.json.NeutronError.type, 'IpAddressGenerationFailure');
  // An address freed by one process is given again by the other (its view is listed before it says the subnet is full).
  const freed = made.find((p) => p.device_id === 'server-0');
  assert.is((await on(a, demo).del(`/v2.0/ports/${freed.id}`)).status, 204);
  const again = await on(b, demo).post('/v2.0/ports', { port: { network_id: n.id } });
  assert.is(again.status, 201);
  assert.is(again.json.port.fixed_ips[0].ip_address, freed.fixed_ips[0].ip_address);
});

test('GET /v2.0/ports?device_id= from the index: the server\'s ports, across processes; an entry whose port is gone is skipped; device_id changes move the port', async () => {
  const n = (await on(a, demo).post('/v2.0/networks', { network: { name: 'devices' } })).json.network;
  await on(a, demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.78.0.0/24' } });
  const p1 = (await on(a, demo).post('/v2.0/ports', { port: { network_id: n.id, device_id: 'vm-1' } })).json.port;
  const p2 = (await on(b, demo).post('/v2.0/ports', { port: { network_id: n.id, device_id: 'vm-1' } })).json.port;
  await on(a, demo).post('/v2.0/ports', { port: { network_id: n.id, device_id: 'vm-2' } });
  await records.create('port-devices', 'vm-1/left-by-a-crash', { port_id: 'left-by-a-crash' });
  const ids = (r: { json: { ports: { id: string }[] } }) => r.json.ports.map((p) => p.id).toSorted();
  assert.equal(ids(await on(b, demo).get('/v2.0/ports?device_id=vm-1')), [p1.id, p2.id].toSorted());
  assert.is((await on(a, demo).put(`/v2.0/ports/${p2.id}`, { port: { device_id: 'vm-3' } })).status, 200);
  assert.equal(ids(await on(b, demo).get('/v2.0/ports?device_id=vm-1')), [p1.id]);
  assert.equal(ids(await on(b, demo).get('/v2.0/ports?device_id=vm-3')), [p2.id]);
  assert.is((await on(b, demo).del(`/v2.0/ports/${p1.id}`)).status, 204);
  assert.equal(ids(await on(a, demo).get('/v2.0/ports?device_id=vm-1')), []);
  assert.equal((await on(a, demo).get('/v2.0/ports?device_id=vm-1&device_id=vm-3')).json.ports.map((p: { id: string }) => p.id), [p2.id], 'two device_ids: the whole scan, filtered');
});

test('ports made before the index: found by device_id and counted for the quota once a new process builds the index', async () => {
  const fresh = new MemoryRecordStore();
  const old = await startNetwork({ records: fresh, identity });
  const n = (await on(old, demo).post('/v2.0/networks', { network: { name: 'old' } })).json.network;
  await on(old, demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.79.0.0/24' } });
  const made = [];
  for (const device of ['old-1', 'old-2']) made.push((await on(old, demo).post('/v2.0/ports', { port: { network_id: n.id, device_id: device } })).json.port);
  await old.close();
  // As an earlier version left them: ports without index entries.
  for (const type of ['port-devices', 'port-projects', 'port-index']) for (const e of (await fresh.list(type)).entries) await fresh.delete(type, e.key);
  const now = await startNetwork({ records: fresh, identity });
  try {
    assert.equal((await on(now, demo).get('/v2.0/ports?device_id=old-2')).json.ports.map((p: { id: string }) => p.id), [made[1].id]);
    const project = made[0].project_id;
    assert.is((await on(now, admin).put(`/v2.0/quotas/${project}`, { quota: { port: 3 } })).status, 200);
    assert.is((await on(now, demo).post('/v2.0/ports', { port: { network_id: n.id } })).status, 201, 'the third port fits');
    const over = await on(now, demo).post('/v2.0/ports', { port: { network_id: n.id } });
    assert.equal(over.json, { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['port'].", detail: '' } });
  } finally {
    await now.close();
  }
});

test('the port quota under concurrency: never passed, and what was refused leaves no claim or index entry behind', async () => {
  const n = (await on(a, admin).post('/v2.0/networks', { network: { name: 'quota', shared: true } })).json.network;
  await on(a, admin).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.80.0.0/24' } });
  const project = 'quota-project';
  assert.is((await on(a, admin).put(`/v2.0/quotas/${project}`, { quota: { port: 4 } })).status, 200);
  // A second process that has not read the quotas yet (one that had would see the new limit within record_cache_ms).
  const c = await startNetwork({ records, identity });
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => on(i % 2 === 0 ? a : c, admin).post('/v2.0/ports', { port: { network_id: n.id, project_id: project } })));
  const made = results.filter((r) => r.status === 201).length;
  assert.ok(made <= 4, `${made} made`);
  for (const r of results.filter((x) => x.status !== 201)) assert.is(r.json.NeutronError.type, 'OverQuota');
  // One at a time, the project fills up to exactly its limit.
  for (let i = made; i < 4; i++) assert.is((await on(a, admin).post('/v2.0/ports', { port: { network_id: n.id, project_id: project } })).status, 201);
  assert.is((await on(c, admin).post('/v2.0/ports', { port: { network_id: n.id, project_id: project } })).status, 409);
  await c.close();
  const ports = (await on(a, admin).get(`/v2.0/ports?network_id=${n.id}`)).json.ports;
  assert.is(ports.length, 4);
  assert.is((await records.list('port-projects', { prefix: `${project}/` })).entries.length, 4);
  const subnetId = ports[0].fixed_ips[0].subnet_id;
  assert.is((await records.list('ip-allocations', { prefix: `${subnetId}/` })).entries.length, 4);
});

test('networks, subnets and groups: this process sees its own writes at once, another process\'s within freshMs', async () => {
  let now = 1_000_000;
  const clock = { now: () => now, monotonic: () => now, sleep: async () => {} };
  const shared = new MemoryRecordStore();
  const mine = new NetworkStore(shared, { clock, freshMs: 2000 });
  const theirs = new NetworkStore(shared, { clock, freshMs: 2000 });
  await mine.create('networks', 'n1', { id: 'n1', name: 'one' });
  assert.equal(await mine.scan('networks'), [{ id: 'n1', name: 'one' }]);
  await theirs.update<{ id: string; name: string }>('networks', 'n1', (n) => ({ ...n, name: 'renamed' }));
  await theirs.create('networks', 'n2', { id: 'n2', name: 'two' });
  assert.equal(await mine.scan('networks'), [{ id: 'n1', name: 'one' }], 'within freshMs: the copy, no listing');
  assert.equal(await mine.get('networks', 'n2'), { id: 'n2', name: 'two' }, 'a key the copy lacks is read');
  await mine.create('networks', 'n3', { id: 'n3', name: 'three' });
  assert.ok((await mine.scan<{ id: string }>('networks')).some((x) => x.id === 'n3'), 'its own create at once');
  now += 2000;
  assert.equal((await mine.scan<{ id: string; name: string }>('networks')).toSorted((x, y) => x.id.localeCompare(y.id)), [{ id: 'n1', name: 'renamed' }, { id: 'n2', name: 'two' }, { id: 'n3', name: 'three' }]);
  await theirs.delete('networks', 'n2');
  now += 2000;
  assert.equal((await mine.scan<{ id: string }>('networks')).map((x) => x.id).toSorted(), ['n1', 'n3'], 'another process\'s delete too');
  assert.equal(await mine.get('ports', 'nothing'), undefined);
});

test('a delete is never undone in the copy by a scan that read the record before the delete landed', async () => {
  const now = 1_000_000;
  const clock = { now: () => now, monotonic: () => now, sleep: async () => {} };
  const inner = new MemoryRecordStore();
  let land: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    land = resolve;
  });
  // The cluster applies the delete only when `land` is called.
  const slow = Object.assign(Object.create(inner) as MemoryRecordStore, {
    delete: async (type: string, key: string) => {
      await gate;
      return inner.delete(type, key);
    },
  });
  const store = new NetworkStore(slow, { clock, freshMs: 2000 });
  await store.create('networks', 'gone', { id: 'gone' });
  const deleting = store.delete('networks', 'gone');
  assert.equal(await store.scan('networks'), [{ id: 'gone' }], 'the cluster still has it');
  land();
  assert.is(await deleting, true);
  assert.equal(await store.scan('networks'), [], 'deleted here: gone from the copy at once');
  assert.is(await store.get('networks', 'gone'), undefined);
});

test.run();
