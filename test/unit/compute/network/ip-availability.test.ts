import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

/** `openstack ip availability list/show`: Neutron's network-ip-availabilities. */
test('per network and subnet: the pools\' addresses and those taken by ports; admins only; filters; an IPv6 pool counted exactly', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const post = async (path: string, body: unknown, token = demo) => {
      const r = await n.request('POST', `/v2.0/${path}`, { token, body });
      assert.is(r.status, 201, JSON.stringify(r.json));
      return r.json;
    };
    const net = (await post('networks', { network: { name: 'web' } })).network.id as string;
    const v4 = (await post('subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.5.0.0/24', name: 'v4' } })).subnet.id as string;
    await post('subnets', { subnet: { network_id: net, ip_version: 6, cidr: 'fd00:5::/64', name: 'v6' } });
    const empty = (await post('networks', { network: { name: 'bare' } })).network.id as string;
    for (let i = 0; i < 3; i++) await post('ports', { port: { network_id: net, fixed_ips: [{ subnet_id: v4 }] } });

    const denied = await n.request('GET', '/v2.0/network-ip-availabilities', { token: demo });
    assert.is(denied.status, 403);
    const listed = (await n.request('GET', '/v2.0/network-ip-availabilities', { token: admin })).json.network_ip_availabilities;
    const web = listed.find((x: { network_id: string }) => x.network_id === net);
    assert.equal([web.network_name, web.used_ips], ['web', 3]);
    const sub = Object.fromEntries(web.subnet_ip_availability.map((s: { subnet_name: string; total_ips: number; used_ips: number; cidr: string }) => [s.subnet_name, [s.cidr, s.total_ips, s.used_ips]]));
    assert.equal(sub['v4'], ['10.5.0.0/24', 253, 3], 'a /24 pool: .2 to .254');
    assert.equal(listed.find((x: { network_id: string }) => x.network_id === empty).total_ips, 0);
    // The v6 pool's size passes a double's precision: the raw JSON keeps every digit.
    const raw = (await n.request('GET', `/v2.0/network-ip-availabilities/${net}`, { token: admin }));
    assert.is(raw.status, 200);
    const shown = raw.json.network_ip_availability;
    assert.is(shown.subnet_ip_availability.length, 2);
    const v4only = (await n.request('GET', '/v2.0/network-ip-availabilities?ip_version=4', { token: admin })).json.network_ip_availabilities;
    assert.equal(v4only.map((x: { network_name: string }) => x.network_name), ['web'], 'networks without a v4 subnet are left out');
    assert.equal(v4only[0].subnet_ip_availability.map((s: { ip_version: number }) => s.ip_version), [4]);
    assert.equal((await n.request('GET', '/v2.0/network-ip-availabilities?network_name=bare', { token: admin })).json.network_ip_availabilities.map((x: { network_id: string }) => x.network_id), [empty]);
    assert.is((await n.request('GET', '/v2.0/network-ip-availabilities/00000000-0000-0000-0000-000000000000', { token: admin })).status, 404);
  } finally {
    await n.close();
  }
});

test('an IPv6 /64 pool is counted to the last digit', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const net = (await n.request('POST', '/v2.0/networks', { token: admin, body: { network: { name: 'six' } } })).json.network.id as string;
    const made = await n.request('POST', '/v2.0/subnets', { token: admin, body: { subnet: { network_id: net, ip_version: 6, cidr: 'fd00:6::/64' } } });
    const pools = made.json.subnet.allocation_pools as { start: string; end: string }[];
    const res = await fetch(`${n.url}/v2.0/network-ip-availabilities/${net}`, { headers: { 'X-Auth-Token': admin } });
    const text = await res.text();
    const expected = pools.reduce((sum, p) => sum + (BigInt(`0x${expand(p.end)}`) - BigInt(`0x${expand(p.start)}`) + 1n), 0n);
    assert.ok(text.includes(`"total_ips":${expected}`), `${text} has total_ips ${expected}`);
  } finally {
    await n.close();
  }
});

/** An IPv6 address's 32 hex digits. */
function expand(ip: string): string {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

test.run();
