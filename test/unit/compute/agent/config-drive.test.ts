import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { type ServerOnAgent, startServerOnAgent } from '../../../helpers/compute.ts';

/**
 * Config drives as Nova's libvirt driver makes them: an ISO 9660 image labelled `config-2`
 * (`disk.config`), the domain's last disk as a read-only cdrom, holding the metadata a guest's
 * cloud-init reads: `openstack/<version>/meta_data.json` with the key, hostname and name,
 * `user_data`, `network_data.json`, and EC2's `meta-data.json`. Read back with `isoinfo`.
 */
const run = promisify(execFile);
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBEr2Shn3mtM0ICMmbbvxmAVLTO4SafGJ0Nt+8FqZBam user@host';
const USER_DATA = '#cloud-config\nruncmd:\n  - echo hello\n';

/** A file of the ISO, by its Rock Ridge path (as a guest mounting it sees it). */
async function isoFile(iso: string, path: string): Promise<string> {
  return (await run('isoinfo', ['-R', '-i', iso, '-x', path], { encoding: 'latin1', maxBuffer: 1 << 20 })).stdout;
}

async function isoNames(iso: string): Promise<string[]> {
  return (await run('isoinfo', ['-R', '-f', '-i', iso])).stdout.split('\n').filter((l) => l !== '');
}

/** The domain's disks as `file->target(device)`, in order. */
async function disksOf(setup: ServerOnAgent, id: string): Promise<string[]> {
  const xml = await setup.agent.hypervisor.domainXml(`instance-${id}`);
  return [...xml.matchAll(/<disk type='file' device='(\w+)'>[\s\S]*?<source file='([^']+)'\/>\s*<target dev='([^']+)'/g)].map((m) => `${(m[2] as string).split('/').at(-1)}->${m[3]}(${m[1]})`);
}

const drives = suite('config drives');
let s: ServerOnAgent;
let netId: string;
drives.before(async () => {
  s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }, { data: Buffer.alloc(4096, 'root'), img_config_drive: 'mandatory' }] });
  netId = [...s.c.networks.networks.keys()][0] as string;
  await s.c.request('POST', '/v2.1/os-keypairs', { token: s.demo, body: { keypair: { name: 'k1', public_key: ED25519 } } });
});
drives.after(() => s.close());

const boot = async (server: Record<string, unknown>, version = '2.1'): Promise<string> => {
  const res = await s.c.request('POST', '/v2.1/servers', { token: s.demo, version, body: { server: { name: 'web-1', imageRef: s.imageIds[0], flavorRef: '1', networks: [{ uuid: netId }], ...server } } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await s.agent.agent.drain();
  return res.json.server.id as string;
};
const show = async (id: string) => (await s.c.request('GET', `/v2.1/servers/${id}`, { token: s.admin, version: '2.57' })).json.server;

drives('a server that asks for one boots with disk.config (config-2) as its last disk: the key, hostname, user data and network a cloud-init reads', async () => {
  const id = await boot({ config_drive: true, key_name: 'k1', user_data: Buffer.from(USER_DATA).toString('base64'), metadata: { role: 'web' } });
  const server = await show(id);
  assert.is(server.status, 'ACTIVE', JSON.stringify(server.fault));
  assert.is(server.config_drive, 'True');
  assert.equal(await disksOf(s, id), ['disk->vda(disk)', 'disk.config->sda(cdrom)']);
  const iso = join(s.agent.stateDir, id, 'disk.config');
  assert.match((await run('isoinfo', ['-d', '-i', iso])).stdout, /Volume id: config-2/);
  const names = await isoNames(iso);
  for (const f of ['/openstack/latest/meta_data.json', '/openstack/latest/user_data', '/openstack/latest/network_data.json', '/openstack/latest/vendor_data.json', '/openstack/latest/vendor_data2.json', '/openstack/2012-08-10/meta_data.json', '/openstack/2025-04-04/network_data.json', '/ec2/latest/meta-data.json', '/ec2/2009-04-04/user-data']) assert.ok(names.includes(f), `${f} in ${names.join(' ')}`);
  assert.not.ok(names.includes('/openstack/2012-08-10/network_data.json'), 'network_data.json from 2015-10-15 only');
  assert.not.ok(names.includes('/ec2/2008-09-01/meta-data.json'), "EC2's older versions are skipped");
  const md = JSON.parse(await isoFile(iso, '/openstack/latest/meta_data.json'));
  assert.is(md.uuid, id);
  assert.is(md.name, 'web-1');
  assert.is(md.hostname, 'web-1.novalocal');
  assert.is(md.availability_zone, 'nova');
  assert.is(md.project_id, server.tenant_id);
  assert.equal(md.meta, { role: 'web' });
  assert.equal(md.public_keys, { k1: ED25519 });
  assert.equal(md.keys, [{ name: 'k1', type: 'ssh', data: ED25519 }]);
  assert.is(Buffer.from(md.random_seed, 'base64').length, 512);
  assert.equal(md.devices, []);
  assert.not.ok('random_seed' in JSON.parse(await isoFile(iso, '/openstack/2012-08-10/meta_data.json')), 'random_seed from 2013-04-04 on');
  assert.is(await isoFile(iso, '/openstack/latest/user_data'), USER_DATA);
  const [port] = [...s.c.networks.ports.values()].filter((p) => p.device_id === id);
  assert.equal(JSON.parse(await isoFile(iso, '/openstack/latest/network_data.json')), {
    links: [{ id: `tap${port?.id}`.slice(0, 14), vif_id: port?.id, type: 'phy', mtu: null, ethernet_mac_address: port?.mac_address }],
    // Neutron's subnets have DHCP on unless created with --no-dhcp: Nova then says only that.
    networks: [{ id: 'network0', type: 'ipv4_dhcp', link: `tap${port?.id}`.slice(0, 14), network_id: netId }],
    services: [],
  });
  const ec2 = JSON.parse(await isoFile(iso, '/ec2/latest/meta-data.json'));
  assert.is(ec2['local-ipv4'], port?.fixed_ips[0]?.ip_address);
  assert.equal(ec2['public-keys'], { '0': { 'openssh-key': ED25519 } });
  assert.is(ec2['instance-type'], 'm1.tiny');
  assert.equal(ec2['block-device-mapping'], { ami: 'vda', root: '/dev/vda' });
});

drives('a subnet without DHCP: network_data.json gives the address, netmask, routes and DNS servers for a static configuration', async () => {
  s.c.networks.subnets.set('subnet', { id: 'subnet', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', enable_dhcp: false, dns_nameservers: ['10.0.0.2', '9.9.9.9'], host_routes: [{ destination: '192.168.7.0/24', nexthop: '10.0.0.254' }] });
  try {
    const id = await boot({ config_drive: true });
    const [port] = [...s.c.networks.ports.values()].filter((p) => p.device_id === id);
    const nd = JSON.parse(await isoFile(join(s.agent.stateDir, id, 'disk.config'), '/openstack/latest/network_data.json'));
    assert.equal(nd.networks, [
      {
        id: 'network0',
        type: 'ipv4',
        link: `tap${port?.id}`.slice(0, 14),
        ip_address: port?.fixed_ips[0]?.ip_address,
        netmask: '255.255.255.0',
        routes: [
          { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' },
          { network: '192.168.7.0', netmask: '255.255.255.0', gateway: '10.0.0.254' },
        ],
        network_id: netId,
        services: [
          { type: 'dns', address: '10.0.0.2' },
          { type: 'dns', address: '9.9.9.9' },
        ],
      },
    ]);
    assert.equal(nd.services, [
      { type: 'dns', address: '10.0.0.2' },
      { type: 'dns', address: '9.9.9.9' },
    ]);
  } finally {
    s.c.networks.subnets.set('subnet', { id: 'subnet', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', enable_dhcp: true, dns_nameservers: [], host_routes: [] });
  }
});

drives("a server that asks for none has none; an image with img_config_drive=mandatory gives one, recorded as asked for (Nova's update_instance)", async () => {
  const plain = await boot({});
  assert.is((await show(plain)).config_drive, '');
  assert.equal(await disksOf(s, plain), ['disk->vda(disk)']);
  assert.not.ok(await pathExists(join(s.agent.stateDir, plain, 'disk.config')));
  const mandatory = await boot({ imageRef: s.imageIds[1] });
  assert.is((await show(mandatory)).config_drive, 'True');
  assert.equal(await disksOf(s, mandatory), ['disk->vda(disk)', 'disk.config->sda(cdrom)']);
  assert.not.ok('user_data' in Object.fromEntries((await isoNames(join(s.agent.stateDir, mandatory, 'disk.config'))).map((n) => [n.split('/').at(-1), 1])), 'no user_data file without user data');
});

drives('a rebuild makes the drive again with what it changed (user data, name); a reboot keeps it', async () => {
  const id = await boot({ config_drive: true, user_data: Buffer.from('first').toString('base64') }, '2.57');
  const iso = join(s.agent.stateDir, id, 'disk.config');
  const seed = JSON.parse(await isoFile(iso, '/openstack/latest/meta_data.json')).random_seed;
  assert.is((await s.c.request('POST', `/v2.1/servers/${id}/action`, { token: s.demo, body: { reboot: { type: 'HARD' } } })).status, 202);
  await s.agent.agent.drain();
  assert.is(JSON.parse(await isoFile(iso, '/openstack/latest/meta_data.json')).random_seed, seed, 'the same drive after a hard reboot');
  const res = await s.c.request('POST', `/v2.1/servers/${id}/action`, { token: s.demo, version: '2.57', body: { rebuild: { imageRef: s.imageIds[0], name: 'web-2', user_data: Buffer.from('second').toString('base64') } } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await s.agent.agent.drain();
  assert.is((await show(id)).status, 'ACTIVE');
  assert.is(await isoFile(iso, '/openstack/latest/user_data'), 'second');
  assert.is(JSON.parse(await isoFile(iso, '/openstack/latest/meta_data.json')).name, 'web-2');
  assert.equal(await disksOf(s, id), ['disk->vda(disk)', 'disk.config->sda(cdrom)']);
});

drives.run();
