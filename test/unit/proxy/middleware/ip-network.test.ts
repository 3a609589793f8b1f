import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ipInNetwork, parseIpAddress, parseIpNetwork } from '../../../../proxy/middleware/ip-network.ts';

test('networks Python ip_network accepts', () => {
  assert.equal(parseIpNetwork('1.2.3.4'), { version: 4, address: new Uint8Array([1, 2, 3, 4]), prefixLength: 32 });
  assert.is(parseIpNetwork('1.2.3.0/24')?.prefixLength, 24);
  assert.is(parseIpNetwork('1.2.3.0/255.255.255.0')?.prefixLength, 24);
  assert.is(parseIpNetwork('1.2.3.0/0.0.0.255')?.prefixLength, 24);
  assert.is(parseIpNetwork('0.0.0.0/0')?.prefixLength, 0);
  assert.is(parseIpNetwork('2001:db8::/32')?.prefixLength, 32);
  assert.is(parseIpNetwork('::1')?.prefixLength, 128);
  assert.is(parseIpNetwork('::ffff:1.2.3.4')?.version, 6);
});

test('networks Python refuses: host bits set, bad masks, bad addresses', () => {
  for (const bad of ['1.2.3.4/24', '1.2.3.0/33', '1.2.3.0/255.0.255.0', '01.2.3.4', '1.2.3', '1.2.3.256', '1.2.3.4/', '2001:db8::1/32', '1::2::3', 'fe80::1%eth0', '', 'x', '1.2.3.0/24/1', '2001:db8::/ffff::']) {
    assert.is(parseIpNetwork(bad), undefined, bad);
  }
});

test('membership, with IPv4-mapped IPv6 peers read as IPv4', () => {
  const net = parseIpNetwork('127.0.0.0/8');
  assert.ok(net);
  assert.ok(ipInNetwork('127.0.0.1', net));
  assert.ok(ipInNetwork('::ffff:127.0.0.1', net));
  assert.not.ok(ipInNetwork('10.0.0.1', net));
  assert.not.ok(ipInNetwork('::1', net));
  const v6 = parseIpNetwork('2001:db8::/32');
  assert.ok(v6);
  assert.ok(ipInNetwork('2001:db8:ffff::1', v6));
  assert.not.ok(ipInNetwork('2001:db9::1', v6));
  assert.equal(parseIpAddress('::ffff:10.1.2.3'), { version: 4, bytes: new Uint8Array([10, 1, 2, 3]) });
});

test.run();
