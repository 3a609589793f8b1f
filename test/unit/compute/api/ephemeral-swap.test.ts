import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { T } from '../../../../compute/records.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { type ServerOnAgent, type ServerOnTwoHosts, startServerOnAgent, startServerOnTwoHosts } from '../../../helpers/compute.ts';

/**
 * A flavor's ephemeral disk and swap, and blank `local` block device mappings, as Nova's API
 * checks them and its libvirt driver makes them: `disk.eph<N>` with a file system labelled
 * `ephemeral<N>`, `disk.swap` with a swap signature, after the root disk in the domain; blank
 * again at a rebuild, carried (swap made anew) by a resize to another host.
 */
const run = promisify(execFile);
const IMAGE = Buffer.alloc(4096, 'root disk ');
const FLAVORS = [
  // Nova's flavor API takes the ephemeral GiB as `OS-FLV-EXT-DATA:ephemeral` and swap in MiB.
  { name: 'e1.small', id: '11', ram: 512, vcpus: 1, disk: 1, 'OS-FLV-EXT-DATA:ephemeral': 1, swap: 32 },
  { name: 'e2.small', id: '12', ram: 512, vcpus: 1, disk: 1, 'OS-FLV-EXT-DATA:ephemeral': 2, swap: 64 },
  { name: 'e0.small', id: '13', ram: 512, vcpus: 1, disk: 1 },
  { name: 'e3.small', id: '14', ram: 512, vcpus: 1, disk: 1, 'OS-FLV-EXT-DATA:ephemeral': 2 },
];

/** What `blkid` finds on a local disk file (converted to raw first): its TYPE, LABEL, and the virtual size. */
async function probe(path: string): Promise<{ type: string; label: string; virtualSize: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'eph-probe-'));
  try {
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', path])).stdout) as { format: string; 'virtual-size': number };
    assert.is(info.format, 'qcow2');
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', path, join(dir, 'raw')]);
    const out = (await run('blkid', ['-p', '-o', 'export', join(dir, 'raw')]).catch(() => ({ stdout: '' }))).stdout;
    const field = (k: string) => out.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
    return { type: field('TYPE'), label: field('LABEL'), virtualSize: info['virtual-size'] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The domain's disks as `file -> target`, in order. */
function disksOf(xml: string): string[] {
  return [...xml.matchAll(/<source file='([^']+)'\/>\s*<target dev='([^']+)'/g)].map((m) => `${(m[1] as string).split('/').at(-1)}->${m[2]}`);
}

const boot = async (setup: ServerOnAgent, flavorRef: string, extra: Record<string, unknown> = {}) => {
  const net = [...setup.c.networks.networks.values()][0] as { id: string };
  return setup.c.request('POST', '/v2.1/servers', { token: setup.demo, version: '2.67', body: { server: { name: 'eph', imageRef: setup.imageIds[0], flavorRef, networks: [{ uuid: net.id }], ...extra } } });
};
const show = async (setup: ServerOnAgent, id: string) => (await setup.c.request('GET', `/v2.1/servers/${id}`, { token: setup.admin, version: '2.47' })).json.server;
const act = (setup: ServerOnAgent, id: string, body: unknown, version = '2.1') => setup.c.request('POST', `/v2.1/servers/${id}/action`, { token: setup.demo, body, version });
const blank = (more: Record<string, unknown>) => ({ source_type: 'blank', destination_type: 'local', boot_index: -1, delete_on_termination: true, ...more });
const imageRoot = (setup: ServerOnAgent) => ({ source_type: 'image', destination_type: 'local', boot_index: 0, uuid: setup.imageIds[0], delete_on_termination: true });

const one = suite('ephemeral and swap disks on one host');
let s1: ServerOnAgent;
one.before(async () => {
  s1 = await startServerOnAgent({ flavors: FLAVORS, images: [{ data: IMAGE, os_type: 'linux' }], allowResizeToSameHost: true });
});
one.after(() => s1.close());

one("a flavor's ephemeral disk and swap: disk.eph0 (ext4 for an os_type linux image, labelled ephemeral0) at vdb and disk.swap at vdc", async () => {
  const res = await boot(s1, '11');
  assert.is(res.status, 202);
  const id = res.json.server.id as string;
  await s1.agent.agent.drain();
  assert.is((await show(s1, id)).status, 'ACTIVE');
  const dir = join(s1.agent.stateDir, id);
  assert.equal(await probe(join(dir, 'disk.eph0')), { type: 'ext4', label: 'ephemeral0', virtualSize: 1024 ** 3 });
  assert.equal(await probe(join(dir, 'disk.swap')), { type: 'swap', label: '', virtualSize: 32 * 1024 ** 2 });
  assert.equal(disksOf(await s1.agent.hypervisor.domainXml(`instance-${id}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.swap->vdc']);
  assert.ok(Number((await run('du', ['-k', join(dir, 'disk.eph0')])).stdout.split('\t')[0]) < 100_000, 'only what mkfs wrote takes space, not a GiB');
  assert.is((await s1.c.request('DELETE', `/v2.1/servers/${id}`, { token: s1.demo })).status, 204);
  await s1.agent.agent.drain();
  assert.not.ok(await pathExists(dir), 'delete removes the local disks with the instance directory');
});

one('mappings replace the flavor\'s: an ext4 ephemeral disk as asked and a smaller swap; two ephemeral disks labelled in order', async () => {
  const res = await boot(s1, '12', { block_device_mapping_v2: [imageRoot(s1), blank({ volume_size: 1, guest_format: 'ext4' }), blank({ guest_format: 'swap', volume_size: 16 })] });
  assert.is(res.status, 202, JSON.stringify(res.json));
  const id = res.json.server.id as string;
  await s1.agent.agent.drain();
  assert.is((await show(s1, id)).status, 'ACTIVE');
  const dir = join(s1.agent.stateDir, id);
  assert.equal(await probe(join(dir, 'disk.eph0')), { type: 'ext4', label: 'ephemeral0', virtualSize: 1024 ** 3 });
  assert.is((await probe(join(dir, 'disk.swap'))).virtualSize, 16 * 1024 ** 2);
  assert.equal(disksOf(await s1.agent.hypervisor.domainXml(`instance-${id}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.swap->vdc']);
  await s1.c.request('DELETE', `/v2.1/servers/${id}`, { token: s1.demo });

  const two = await boot(s1, '14', { block_device_mapping_v2: [imageRoot(s1), blank({ volume_size: 1 }), blank({ volume_size: 1, guest_format: 'ext3' })] });
  assert.is(two.status, 202, JSON.stringify(two.json));
  const id2 = two.json.server.id as string;
  await s1.agent.agent.drain();
  const dir2 = join(s1.agent.stateDir, id2);
  assert.equal(await probe(join(dir2, 'disk.eph0')), { type: 'ext4', label: 'ephemeral0', virtualSize: 1024 ** 3 });
  assert.equal(await probe(join(dir2, 'disk.eph1')), { type: 'ext3', label: 'ephemeral1', virtualSize: 1024 ** 3 });
  assert.equal(disksOf(await s1.agent.hypervisor.domainXml(`instance-${id2}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.eph1->vdc']);
  await s1.c.request('DELETE', `/v2.1/servers/${id2}`, { token: s1.demo });
  await s1.agent.agent.drain();
});

one("Nova's 400s for local mappings the flavor does not allow, and nothing is made", async () => {
  const before = (await s1.c.request('GET', '/v2.1/servers', { token: s1.demo })).json.servers.length;
  const cases: [string, Record<string, unknown>[], string][] = [
    ['11', [imageRoot(s1), blank({ volume_size: 2 })], 'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.'],
    ['12', [imageRoot(s1), blank({}), blank({})], 'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.'],
    ['13', [imageRoot(s1), blank({ volume_size: 1 })], 'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.'],
    ['12', [imageRoot(s1), blank({ guest_format: 'swap', volume_size: 8 }), blank({ guest_format: 'swap', volume_size: 8 })], 'Block Device Mapping is Invalid: More than one swap drive requested.'],
    ['11', [imageRoot(s1), blank({ guest_format: 'swap', volume_size: 64 })], 'Swap drive requested is larger than instance type allows.'],
    ['12', [imageRoot(s1), blank({ volume_size: 1 }), blank({ volume_size: 1 }), blank({ guest_format: 'swap', volume_size: 8 })], 'Block Device Mapping is Invalid: You specified more local devices than the limit allows'],
  ];
  for (const [flavor, mappings, message] of cases) {
    const res = await boot(s1, flavor, { block_device_mapping_v2: mappings });
    assert.equal(res.json, { badRequest: { code: 400, message } }, JSON.stringify(mappings));
  }
  assert.is((await s1.c.request('GET', '/v2.1/servers', { token: s1.demo })).json.servers.length, before);
});

one('an ephemeral mapping asking for a file system libvirt\'s driver does not make: the build fails, ERROR with the reason', async () => {
  const res = await boot(s1, '11', { block_device_mapping_v2: [imageRoot(s1), blank({ guest_format: 'vfat' })] });
  assert.is(res.status, 202);
  const id = res.json.server.id as string;
  await s1.agent.agent.drain();
  const s = await show(s1, id);
  assert.is(s.status, 'ERROR');
  assert.match(s.fault.message, 'Block Device Mapping is Invalid: vfat format is not supported');
  await s1.c.request('DELETE', `/v2.1/servers/${id}`, { token: s1.demo });
  await s1.agent.agent.drain();
});

one('rebuild makes the ephemeral disk blank again; preserve_ephemeral is refused after the 202 (ERROR), as by libvirt\'s driver', async () => {
  const id = (await boot(s1, '11')).json.server.id as string;
  await s1.agent.agent.drain();
  const eph = join(s1.agent.stateDir, id, 'disk.eph0');
  const blankBytes = await readFile(eph);
  await writeFile(eph, Buffer.concat([blankBytes, Buffer.alloc(65536, 'guest data')]));
  assert.is((await act(s1, id, { rebuild: { imageRef: s1.imageIds[0] } })).status, 202);
  await s1.agent.agent.drain();
  assert.is((await show(s1, id)).status, 'ACTIVE');
  assert.ok((await readFile(eph)).equals(blankBytes), 'the ephemeral disk is blank again');

  assert.is((await act(s1, id, { rebuild: { imageRef: s1.imageIds[0], preserve_ephemeral: true } })).status, 202);
  await s1.agent.agent.drain();
  const s = await show(s1, id);
  assert.is(s.status, 'ERROR');
  assert.is(s.fault.message, 'The current driver does not support preserving ephemeral partitions.');
  await s1.c.request('DELETE', `/v2.1/servers/${id}`, { token: s1.demo });
  await s1.agent.agent.drain();
});

one('resize in place: swap follows the new flavor (and back on revert); a flavor with less ephemeral is refused after the 202, the server as it was', async () => {
  const id = (await boot(s1, '11')).json.server.id as string;
  await s1.agent.agent.drain();
  const dir = join(s1.agent.stateDir, id);
  const ephBefore = await readFile(join(dir, 'disk.eph0'));
  assert.is((await act(s1, id, { resize: { flavorRef: '12' } })).status, 202);
  await s1.agent.agent.drain();
  assert.is((await show(s1, id)).status, 'VERIFY_RESIZE');
  assert.is((await probe(join(dir, 'disk.swap'))).virtualSize, 64 * 1024 ** 2, "the new flavor's swap");
  assert.ok((await readFile(join(dir, 'disk.eph0'))).equals(ephBefore), 'the ephemeral disk is kept');
  assert.is((await act(s1, id, { revertResize: null })).status, 202);
  await s1.agent.agent.drain();
  const reverted = await show(s1, id);
  assert.is(reverted.status, 'ACTIVE');
  assert.is(reverted.flavor.swap, 32);
  assert.is((await probe(join(dir, 'disk.swap'))).virtualSize, 32 * 1024 ** 2, "the old flavor's swap again");

  const used = async () => (await s1.c.records.get<HostState>(T.hosts, 'node1'))?.value.used;
  const claimed = await used();
  assert.is((await act(s1, id, { resize: { flavorRef: '13' } })).status, 202);
  await s1.agent.agent.drain();
  const refused = await show(s1, id);
  assert.is(refused.status, 'ACTIVE', 'back as it was (Nova\'s InstanceFaultRollback), not ERROR');
  assert.is(refused.flavor.original_name, 'e1.small');
  assert.equal(await used(), claimed, "the new flavor's claim is given back");
  assert.equal(disksOf(await s1.agent.hypervisor.domainXml(`instance-${id}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.swap->vdc']);
  const actions = (await s1.c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: s1.demo })).json.instanceActions.map((x: { action: string }) => x.action);
  assert.ok(actions.includes('resize'));
  await s1.c.request('DELETE', `/v2.1/servers/${id}`, { token: s1.demo });
  await s1.agent.agent.drain();
});

one.run();

const two = suite('ephemeral and swap disks moving between hosts');
let s2: ServerOnTwoHosts;
two.before(async () => {
  s2 = await startServerOnTwoHosts({ flavors: FLAVORS, images: [{ data: IMAGE, os_type: 'linux' }] });
});
two.after(() => s2.close());

two('resize to another host carries the ephemeral disk\'s bytes; swap is made anew at the new size; confirm removes what travelled', async () => {
  const id = (await boot(s2, '11')).json.server.id as string;
  await s2.agent.agent.drain();
  await s2.node2.agent.drain();
  const from = (await show(s2, id))['OS-EXT-SRV-ATTR:host'] as string;
  const [src, dst] = from === 'node1' ? [s2.agent, s2.node2] : [s2.node2, s2.agent];
  const eph = join(src.stateDir, id, 'disk.eph0');
  const written = Buffer.concat([await readFile(eph), Buffer.alloc(65536, 'guest data')]);
  await writeFile(eph, written);
  assert.is((await act(s2, id, { resize: { flavorRef: '12' } })).status, 202);
  await src.agent.drain();
  await dst.agent.drain();
  const s = await show(s2, id);
  assert.is(s.status, 'VERIFY_RESIZE');
  assert.is(s['OS-EXT-SRV-ATTR:host'], dst === s2.agent ? 'node1' : 'node2');
  assert.ok((await readFile(join(dst.stateDir, id, 'disk.eph0'))).equals(written), "the ephemeral disk holds the guest's bytes");
  assert.is((await probe(join(dst.stateDir, id, 'disk.swap'))).virtualSize, 64 * 1024 ** 2);
  assert.equal(disksOf(await dst.hypervisor.domainXml(`instance-${id}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.swap->vdc']);
  assert.is(s2.c.disks.objects.size, 2, 'the root and ephemeral disks wait in the cluster until confirm');
  assert.is((await act(s2, id, { confirmResize: null })).status, 204);
  await src.agent.drain();
  assert.is(s2.c.disks.objects.size, 0, 'both are removed');
  assert.not.ok(await pathExists(join(src.stateDir, id)));
});

two('a resize to another host with less ephemeral is refused on the source: the server stays there, ACTIVE, its disks untouched', async () => {
  const id = (await boot(s2, '12')).json.server.id as string;
  await s2.agent.agent.drain();
  await s2.node2.agent.drain();
  const from = (await show(s2, id))['OS-EXT-SRV-ATTR:host'] as string;
  const src = from === 'node1' ? s2.agent : s2.node2;
  assert.is((await act(s2, id, { resize: { flavorRef: '11' } })).status, 202);
  await s2.agent.agent.drain();
  await s2.node2.agent.drain();
  const s = await show(s2, id);
  assert.is(s.status, 'ACTIVE');
  assert.is(s['OS-EXT-SRV-ATTR:host'], from);
  assert.is(s.flavor.original_name, 'e2.small');
  assert.is((await src.hypervisor.info(`instance-${id}`)).powerState, 'running');
  assert.is(s2.c.disks.objects.size, 0, 'nothing was sent');
});

two('evacuate makes the ephemeral disk and swap blank on the new host, as Nova without shared storage', async () => {
  const id = (await boot(s2, '11')).json.server.id as string;
  await s2.agent.agent.drain();
  await s2.node2.agent.drain();
  const from = (await show(s2, id))['OS-EXT-SRV-ATTR:host'] as string;
  const dst = from === 'node1' ? s2.node2 : s2.agent;
  const service = (await s2.c.request('GET', `/v2.1/os-services?host=${from}`, { token: s2.admin, version: '2.53' })).json.services[0];
  const down = (forced: boolean) => s2.c.request('PUT', `/v2.1/os-services/${service.id}`, { token: s2.admin, version: '2.53', body: { forced_down: forced } });
  assert.is((await down(true)).status, 200);
  try {
    assert.is((await s2.c.request('POST', `/v2.1/servers/${id}/action`, { token: s2.admin, version: '2.14', body: { evacuate: {} } })).status, 200);
    await dst.agent.drain();
    const s = await show(s2, id);
    assert.is(s.status, 'ACTIVE');
    assert.is(s['OS-EXT-SRV-ATTR:host'], dst === s2.agent ? 'node1' : 'node2');
    assert.equal(await probe(join(dst.stateDir, id, 'disk.eph0')), { type: 'ext4', label: 'ephemeral0', virtualSize: 1024 ** 3 });
    assert.is((await probe(join(dst.stateDir, id, 'disk.swap'))).type, 'swap');
    assert.equal(disksOf(await dst.hypervisor.domainXml(`instance-${id}`)), ['disk->vda', 'disk.eph0->vdb', 'disk.swap->vdc']);
  } finally {
    await down(false);
  }
});

two.run();
