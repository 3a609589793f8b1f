import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../../../common/seeded-random.ts';
import { NeutronError } from '../../../../compute/network/errors.ts';
import { parseCidr } from '../../../../compute/network/cidr.ts';
import { eui64Address } from '../../../../compute/network/eui64.ts';
import { allocateAddress } from '../../../../compute/network/ipam.ts';
import { formatIp } from '../../../../compute/network/ip-address.ts';
import { generateMac, normalizeMac, randomMac } from '../../../../compute/network/mac-address.ts';
import { type Subnet, validateSubnet } from '../../../../compute/network/subnet.ts';

const mac = 'fa:16:3e:11:22:33';
const subnet = (cidr: string, changes: Partial<Parameters<typeof validateSubnet>[0]> = {}): Subnet =>
  validateSubnet({ id: 'sub', networkId: 'net', ipVersion: cidr.includes(':') ? 6 : 4, cidr, ...changes }, []);
const errorType = (type: string, message?: RegExp) => (err: unknown) => err instanceof NeutronError && err.type === type && (message === undefined || message.test(err.message));

test('a /29 gives out its five pool addresses, each once, never the gateway, then 409 IpAddressGenerationFailure', () => {
  const s = subnet('192.168.0.0/29');
  const random = seededRandom(3);
  const given: string[] = [];
  for (let i = 0; i < 5; i++) given.push(allocateAddress(s, given, { mac }, random));
  assert.equal([...given].sort(), ['192.168.0.2', '192.168.0.3', '192.168.0.4', '192.168.0.5', '192.168.0.6']);
  assert.throws(() => allocateAddress(s, given, { mac }, random), errorType('IpAddressGenerationFailure', /^No more IP addresses available for subnet sub\.$/));
});

test('addresses are drawn at random from the free ones, so concurrent creators rarely collide', () => {
  const s = subnet('10.0.0.0/16');
  const draws = new Set(Array.from({ length: 20 }, (_, i) => allocateAddress(s, [], { mac }, seededRandom(i))));
  assert.ok(draws.size > 15, String(draws.size));
});

test('the next pool is used when the first is full', () => {
  const s = subnet('10.0.0.0/24', { allocationPools: [{ start: '10.0.0.10', end: '10.0.0.11' }, { start: '10.0.0.50', end: '10.0.0.50' }] });
  assert.is(allocateAddress(s, ['10.0.0.10', '10.0.0.11'], { mac }, Math.random), '10.0.0.50');
});

test('a fixed IP: granted when free, even outside the pools; 409 IpAddressAlreadyAllocated when held; 400 when not on the subnet', () => {
  const s = subnet('10.0.0.0/24', { allocationPools: [{ start: '10.0.0.100', end: '10.0.0.200' }] });
  assert.is(allocateAddress(s, [], { mac, ipAddress: '10.0.0.5' }, Math.random), '10.0.0.5');
  assert.throws(() => allocateAddress(s, ['10.0.0.5'], { mac, ipAddress: '10.0.0.5' }, Math.random), errorType('IpAddressAlreadyAllocated', /^IP address 10\.0\.0\.5 already allocated in subnet sub$/));
  for (const ip of ['10.0.1.5', '10.0.0.0', '10.0.0.255', 'bogus']) {
    assert.throws(() => allocateAddress(s, [], { mac, ipAddress: ip }, Math.random), errorType('InvalidIpForSubnet'), ip);
  }
});

test('an IPv6 fixed IP is compared by value, not by spelling', () => {
  const s = subnet('2001:db8::/64', { ipv6AddressMode: 'dhcpv6-stateful', ipv6RaMode: 'dhcpv6-stateful' });
  assert.throws(() => allocateAddress(s, ['2001:db8::10'], { mac, ipAddress: '2001:0db8:0:0::0010' }, Math.random), errorType('IpAddressAlreadyAllocated'));
});

test('SLAAC and stateless DHCPv6 subnets give the MAC\'s EUI-64 address, and take no fixed IPs but a router\'s', () => {
  for (const mode of ['slaac', 'dhcpv6-stateless'] as const) {
    const s = subnet('2001:db8:1::/64', { ipv6AddressMode: mode, ipv6RaMode: mode });
    assert.is(allocateAddress(s, [], { mac }, Math.random), '2001:db8:1:0:f816:3eff:fe11:2233');
    assert.throws(() => allocateAddress(s, ['2001:db8:1:0:f816:3eff:fe11:2233'], { mac }, Math.random), errorType('IpAddressAlreadyAllocated'));
    assert.throws(() => allocateAddress(s, [], { mac, ipAddress: '2001:db8:1::5' }, Math.random), errorType('AllocationOnAutoAddressSubnet'));
    assert.is(allocateAddress(s, [], { mac, ipAddress: '2001:db8:1::1', deviceOwner: 'network:router_interface' }, Math.random), '2001:db8:1::1');
  }
});

test('DHCPv6-stateful subnets allocate from their pools, like IPv4', () => {
  const s = subnet('2001:db8:2::/120', { ipv6AddressMode: 'dhcpv6-stateful', ipv6RaMode: 'dhcpv6-stateful' });
  const ip = allocateAddress(s, [], { mac }, seededRandom(1));
  assert.ok(/^2001:db8:2::[0-9a-f]+$/.test(ip) && ip !== '2001:db8:2::1' && ip !== '2001:db8:2::', ip);
});

test('EUI-64: RFC 4291\'s construction (flip the U/L bit, ff:fe in the middle)', () => {
  const rows: [string, string, string][] = [
    ['2001:db8::/64', '00:16:3e:33:44:55', '2001:db8::216:3eff:fe33:4455'],
    ['fe80::/64', 'fa:16:3e:00:00:01', 'fe80::f816:3eff:fe00:1'],
    ['2001:db8:ffff:1::/64', '02:00:00:00:00:00', '2001:db8:ffff:1:0:ff:fe00:0'],
  ];
  for (const [prefix, m, expected] of rows) assert.is(formatIp(eui64Address(parseCidr(prefix), m)), expected);
});

test('MACs keep the base\'s OUI (and its fourth octet unless 00); duplicates are drawn again, then 409', () => {
  const random = seededRandom(9);
  assert.match(randomMac('fa:16:3e:00:00:00', random), /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.match(randomMac('fa:16:3e:4f:00:00', random), /^fa:16:3e:4f(:[0-9a-f]{2}){2}$/);
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) taken.add(generateMac('net', taken, random));
  assert.is(taken.size, 200);
  const constant = () => 0.5;
  const only = randomMac('fa:16:3e:00:00:00', constant);
  assert.throws(() => generateMac('net', new Set([only]), constant), errorType('MacAddressGenerationFailure', /^Unable to generate unique mac on network net\.$/));
});

test('a MAC in a request is normalized; zero, broadcast and malformed ones are refused, multicast ones taken (as netaddr does)', () => {
  assert.is(normalizeMac('FA-16-3E-AA-BB-CC'), 'fa:16:3e:aa:bb:cc');
  assert.is(normalizeMac('11:22:33:44:55:66'), '11:22:33:44:55:66');
  for (const bad of ['FF:FF:FF:FF:FF:FF', '00:00:00:00:00:00', 'fa:16:3e:aa:bb', 'fa:16:3e:aa-bb:cc']) {
    assert.throws(() => normalizeMac(bad), errorType('HTTPBadRequest'), bad);
  }
});

test.run();
