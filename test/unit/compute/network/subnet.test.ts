import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NeutronError } from '../../../../compute/network/errors.ts';
import { type SubnetRequest, validateSubnet } from '../../../../compute/network/subnet.ts';

const v4 = (changes: Partial<SubnetRequest> = {}): SubnetRequest => ({ id: 's-1', networkId: 'n-1', ipVersion: 4, cidr: '10.0.0.0/24', ...changes });
const v6 = (changes: Partial<SubnetRequest> = {}): SubnetRequest => ({ id: 's-6', networkId: 'n-1', ipVersion: 6, cidr: '2001:db8::/64', ...changes });

test('defaults: the first host is the gateway, the pool the rest of the usable addresses', () => {
  const s = validateSubnet(v4(), []);
  assert.is(s.gatewayIp, '10.0.0.1');
  assert.equal(s.allocationPools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
  assert.is(s.enableDhcp, true);
  const six = validateSubnet(v6({ ipv6AddressMode: 'slaac', ipv6RaMode: 'slaac' }), []);
  assert.is(six.gatewayIp, '2001:db8::1');
  assert.equal(six.allocationPools, [{ start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' }]);
});

test('the pools go around a gateway in the middle, and a subnet without gateway keeps every usable address', () => {
  assert.equal(validateSubnet(v4({ gatewayIp: '10.0.0.100' }), []).allocationPools, [{ start: '10.0.0.1', end: '10.0.0.99' }, { start: '10.0.0.101', end: '10.0.0.254' }]);
  const none = validateSubnet(v4({ gatewayIp: null }), []);
  assert.is(none.gatewayIp, null);
  assert.equal(none.allocationPools, [{ start: '10.0.0.1', end: '10.0.0.254' }]);
});

test('host bits are cleared; a /31 without DHCP uses both its addresses', () => {
  assert.is(validateSubnet(v4({ cidr: '10.0.0.77/24' }), []).cidr, '10.0.0.0/24');
  assert.equal(validateSubnet(v4({ cidr: '10.0.0.0/31', enableDhcp: false, gatewayIp: null }), []).allocationPools, [{ start: '10.0.0.0', end: '10.0.0.1' }]);
});

const refused: [string, SubnetRequest, string, RegExp][] = [
  ['no prefix length', v4({ cidr: '10.0.0.0' }), 'HTTPBadRequest', /^Invalid input for cidr\. Reason: '10\.0\.0\.0' is not a valid IP subnet\.$/],
  ['an octet too many', v4({ cidr: '10.0.0.0.0/24' }), 'HTTPBadRequest', /not a valid IP subnet/],
  ['a v6 CIDR on a v4 subnet', v4({ cidr: '2001:db8::/64' }), 'InvalidInput', /^Invalid input for operation: cidr '2001:db8::\/64' does not match the ip_version '4'\.$/],
  ['/0', v4({ cidr: '0.0.0.0/0', enableDhcp: false }), 'InvalidInput', /0 is not allowed as CIDR prefix length/],
  ['::', v6({ cidr: '::/64' }), 'InvalidInput', /IPv6 subnet '::' is not supported/],
  ['a /31 with DHCP', v4({ cidr: '10.0.0.0/31' }), 'InvalidInput', /incompatible with DHCP service enabled/],
  ['multicast with DHCP', v4({ cidr: '224.0.0.0/24' }), 'InvalidInput', /Multicast IP subnet is not supported/],
  ['loopback with DHCP', v4({ cidr: '127.0.0.0/8' }), 'InvalidInput', /Loopback IP subnet is not supported/],
  ['a gateway of the other version', v4({ gatewayIp: '2001:db8::1' }), 'InvalidInput', /gateway_ip '2001:db8::1' does not match the ip_version '4'/],
  ['the broadcast address as gateway', v4({ gatewayIp: '10.0.0.255' }), 'InvalidInput', /Gateway is not valid on subnet/],
  ['a pool past the subnet', v4({ allocationPools: [{ start: '10.0.0.10', end: '10.0.1.10' }] }), 'OutOfBoundsAllocationPool', /^The allocation pool 10\.0\.0\.10-10\.0\.1\.10 spans beyond the subnet cidr 10\.0\.0\.0\/24\.$/],
  ['a pool on the broadcast address', v4({ allocationPools: [{ start: '10.0.0.10', end: '10.0.0.255' }] }), 'OutOfBoundsAllocationPool', /spans beyond/],
  ['a pool backwards', v4({ allocationPools: [{ start: '10.0.0.20', end: '10.0.0.10' }] }), 'InvalidAllocationPool', /^The allocation pool \{'start': '10\.0\.0\.20', 'end': '10\.0\.0\.10'\} is not valid\.$/],
  ['a pool of nonsense', v4({ allocationPools: [{ start: 'ten', end: '10.0.0.10' }] }), 'InvalidAllocationPool', /is not valid/],
  ['overlapping pools', v4({ allocationPools: [{ start: '10.0.0.10', end: '10.0.0.20' }, { start: '10.0.0.20', end: '10.0.0.30' }] }), 'OverlappingAllocationPools', /^Found overlapping allocation pools: 10\.0\.0\.10-10\.0\.0\.20 10\.0\.0\.20-10\.0\.0\.30 for subnet 10\.0\.0\.0\/24\.$/],
  ['the gateway inside a pool', v4({ gatewayIp: '10.0.0.15', allocationPools: [{ start: '10.0.0.10', end: '10.0.0.20' }] }), 'GatewayConflictWithAllocationPools', /^Gateway ip 10\.0\.0\.15 conflicts with allocation pool 10\.0\.0\.10-10\.0\.0\.20\.$/],
  ['six DNS servers', v4({ dnsNameservers: ['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9', '9.9.9.10'] }), 'DNSNameServersExhausted', /exceeds the limit 5/],
  ['a DNS server that is no address', v4({ dnsNameservers: ['dns.example'] }), 'InvalidInput', /Error parsing dns address dns\.example/],
  ['a route with a bad next hop', v4({ hostRoutes: [{ destination: '10.1.0.0/16', nexthop: 'x' }] }), 'InvalidInput', /Invalid route: \{'destination': '10\.1\.0\.0\/16', 'nexthop': 'x'\}/],
  ['IPv6 modes on IPv4', v4({ ipv6AddressMode: 'slaac' }), 'InvalidInput', /ipv6_address_mode is not valid when ip_version is 4/],
  ['IPv6 modes without DHCP', v6({ ipv6AddressMode: 'slaac', enableDhcp: false }), 'InvalidInput', /cannot be set when enable_dhcp is set to False/],
  ['different RA and address modes', v6({ ipv6RaMode: 'slaac', ipv6AddressMode: 'dhcpv6-stateful' }), 'InvalidInput', /If both attributes are set, they must be the same value/],
  ['SLAAC on a /80', v6({ cidr: '2001:db8::/80', ipv6AddressMode: 'slaac' }), 'InvalidInput', /requires the prefix to be \/64/],
];

for (const [what, req, type, message] of refused) {
  test(`refused: ${what} (${type})`, () => {
    assert.throws(() => validateSubnet(req, []), (err: unknown) => err instanceof NeutronError && err.type === type && message.test(err.message), what);
  });
}

test('a CIDR that overlaps another subnet of the network is refused; one that does not is fine', () => {
  const others = [{ id: 's-0', cidr: '10.0.0.0/16' }];
  assert.throws(() => validateSubnet(v4({ cidr: '10.0.5.0/24' }), others), (err: unknown) => err instanceof NeutronError && err.message === 'Invalid input for operation: Requested subnet with cidr: 10.0.5.0/24 for network: n-1 overlaps with another subnet.');
  assert.is(validateSubnet(v4({ cidr: '10.1.0.0/24' }), others).cidr, '10.1.0.0/24');
  // IPv4 and IPv6 subnets never overlap each other.
  assert.is(validateSubnet(v6(), others).cidr, '2001:db8::/64');
});

test('DHCPv6-stateful subnets may be any length; addresses are written canonically', () => {
  const s = validateSubnet(v6({ cidr: '2001:DB8:0:0::/80', ipv6AddressMode: 'dhcpv6-stateful', dnsNameservers: ['2001:4860:4860:0:0:0:0:8888'] }), []);
  assert.is(s.cidr, '2001:db8::/80');
  assert.equal(s.dnsNameservers, ['2001:4860:4860::8888']);
});

test.run();
