import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MetadataVif, networkData } from '../../../../compute/agent/network-data.ts';
import type { NeutronSubnet } from '../../../../compute/network-api.ts';

/** `network_data.json` as Nova's `netutils.get_network_metadata` writes it for Neutron's ports. */
const subnet = (over: Partial<NeutronSubnet>): NeutronSubnet => ({ id: 's4', cidr: '10.1.0.0/24', ip_version: 4, gateway_ip: '10.1.0.1', enable_dhcp: false, dns_nameservers: [], host_routes: [], ...over });
const vif = (over: Partial<MetadataVif>): MetadataVif => ({ portId: 'p1', mac: 'fa:16:3e:00:00:01', networkId: 'n1', mtu: 1450, vifType: 'bridge', devname: 'tapp1', fixedIps: [], subnets: [], ...over });

test('no NIC: no network data (Nova writes {})', () => {
  assert.is(networkData([]), undefined);
});

test('a dual-stack port: a network per IP version; a SLAAC subnet is ipv6_slaac with its netmask and gateway; DNS servers once each in services', () => {
  const v4 = subnet({ dns_nameservers: ['10.1.0.2'] });
  const v6 = subnet({ id: 's6', cidr: '2001:db8:1::/64', ip_version: 6, gateway_ip: '2001:db8:1::1', ipv6_address_mode: 'slaac', dns_nameservers: ['10.1.0.2', '2001:db8::53'], host_routes: [{ destination: '2001:db8:9::/48', nexthop: '2001:db8:1::fe' }] });
  const out = networkData([vif({ fixedIps: [{ subnet_id: 's4', ip_address: '10.1.0.5' }, { subnet_id: 's6', ip_address: '2001:db8:1::5' }], subnets: [v4, v6] })]);
  assert.equal(out, {
    links: [{ id: 'tapp1', vif_id: 'p1', type: 'bridge', mtu: 1450, ethernet_mac_address: 'fa:16:3e:00:00:01' }],
    networks: [
      { id: 'network0', type: 'ipv4', link: 'tapp1', ip_address: '10.1.0.5', netmask: '255.255.255.0', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.1.0.1' }], network_id: 'n1', services: [{ type: 'dns', address: '10.1.0.2' }] },
      {
        id: 'network1',
        type: 'ipv6_slaac',
        link: 'tapp1',
        ip_address: '2001:db8:1::5',
        netmask: 'ffff:ffff:ffff:ffff::',
        routes: [
          { network: '::', netmask: '::', gateway: '2001:db8:1::1' },
          { network: '2001:db8:9::', netmask: 'ffff:ffff:ffff::', gateway: '2001:db8:1::fe' },
        ],
        network_id: 'n1',
        services: [
          { type: 'dns', address: '10.1.0.2' },
          { type: 'dns', address: '2001:db8::53' },
        ],
      },
    ],
    services: [
      { type: 'dns', address: '10.1.0.2' },
      { type: 'dns', address: '2001:db8::53' },
    ],
  });
});

test('DHCP on: ipv4_dhcp and no more; no gateway: no default route; an unbound port is a phy link; a port without addresses is left out', () => {
  const out = networkData([
    vif({ fixedIps: [{ subnet_id: 's4', ip_address: '10.1.0.5' }], subnets: [subnet({ enable_dhcp: true })] }),
    vif({ portId: 'p2', devname: 'tapp2', vifType: 'unbound', mtu: null, fixedIps: [{ subnet_id: 's9', ip_address: '172.16.0.9' }], subnets: [subnet({ id: 's9', cidr: '172.16.0.0/12', gateway_ip: null })] }),
    vif({ portId: 'p3', devname: 'tapp3' }),
  ]);
  assert.equal(out?.['networks'], [
    { id: 'network0', type: 'ipv4_dhcp', link: 'tapp1', network_id: 'n1' },
    { id: 'network1', type: 'ipv4', link: 'tapp2', ip_address: '172.16.0.9', netmask: '255.240.0.0', routes: [], network_id: 'n1', services: [] },
  ]);
  assert.equal(
    ((out?.['links'] ?? []) as Array<Record<string, unknown>>).map((l) => [l['id'], l['type'], l['mtu']]),
    [
      ['tapp1', 'bridge', 1450],
      ['tapp2', 'phy', null],
    ],
  );
});

test.run();
