import { rename } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diskAt } from '../../../../compute/agent/hypervisor/domain-disks.ts';
import { describeDomain } from '../../../../compute/agent/hypervisor/domain-description.ts';
import { startComputeWithVolumes } from '../../../helpers/compute-with-volumes.ts';

/**
 * Nova's os-volume_attachments over the real volume API (in process, its volumes files in a
 * temp dir) and Cinder's attachments API, through the compute agent and the memory hypervisor:
 * what `openstack server add volume`, `server volume list`, `server remove volume` and
 * `volume show` see.
 */
async function setup(options: { crossAzAttach?: boolean; zone?: string } = {}) {
  const rig = await startComputeWithVolumes(options);
  const { c, demo, netId, a } = rig;
  const imageId = c.images.add().id;
  const boot = async (): Promise<{ id: string; name: string }> => {
    const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }] } } })).json.server.id as string;
    await a.agent.drain();
    const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo, version: '2.1' })).json.server;
    assert.is(s.status, 'ACTIVE', JSON.stringify(s.fault));
    return { id, name: s['OS-EXT-SRV-ATTR:instance_name'] ?? `instance-${id}` };
  };
  const attach = (server: string, body: Record<string, unknown>, version = '2.79') => c.request('POST', `/v2.1/servers/${server}/os-volume_attachments`, { token: demo, version, body: { volumeAttachment: body } });
  const definition = async (server: string) => describeDomain(await a.hypervisor.domainXml(instanceName(await c.service.store.get(`servers`, server)), { inactive: true }));
  return { ...rig, boot, attach, definition };
}

/** A test body with its setup, closed whether it passes or not (an open server would keep the run alive). */
function withSetup(options: Parameters<typeof setup>[0], body: (t: Awaited<ReturnType<typeof setup>>) => Promise<void>): () => Promise<void> {
  return async () => {
    const t = await setup(options);
    try {
      await body(t);
    } finally {
      await t.close();
    }
  };
}

function instanceName(server: unknown): string {
  return (server as { instance_name: string }).instance_name;
}

test('server add volume: 200 with the device Nova picks, then the host connects it, the disk is in the domain and the volume is in-use', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  const res = await t.attach(id, { volumeId: vol, device: '/dev/vdq' });
  assert.is(res.status, 200, JSON.stringify(res.json));
  // libvirt ignores the name asked for and takes the first free one after the root disk.
  assert.equal(res.json, { volumeAttachment: { id: vol, serverId: id, volumeId: vol, device: '/dev/vdb', tag: null, delete_on_termination: false } });
  assert.is((await t.showVolume(vol)).json.volume.status, 'reserved', 'reserved until the host has it');
  await t.a.agent.drain();
  const shown = (await t.showVolume(vol)).json.volume;
  assert.is(shown.status, 'in-use');
  assert.is(shown.attachments.length, 1);
  assert.equal([shown.attachments[0].server_id, shown.attachments[0].device, shown.attachments[0].host_name], [id, '/dev/vdb', 'node1']);
  const disks = (await t.definition(id)).disks;
  assert.equal(disks[1], { path: t.driver.localPath?.(vol), format: 'raw', device: 'disk' });
  const xml = await t.a.hypervisor.domainXml(instanceName(await t.c.service.store.get('servers', id)), { inactive: true });
  assert.match(xml, /<target dev=["']vdb["'] bus=["']virtio["']\/>/);
  assert.ok(xml.includes(`<serial>${vol}</serial>`));
  // server volume list and show, by microversion.
  const old = (await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo, version: '2.1' })).json;
  assert.equal(old, { volumeAttachments: [{ id: vol, volumeId: vol, serverId: id, device: '/dev/vdb' }] });
  const v289 = (await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo, version: '2.89' })).json.volumeAttachment;
  assert.equal(Object.keys(v289).sort(), ['attachment_id', 'bdm_uuid', 'delete_on_termination', 'device', 'serverId', 'tag', 'volumeId']);
  assert.is(v289.attachment_id, shown.attachments[0].attachment_id);
  // server show lists it (Nova's os-extended-volumes:volumes_attached).
  const server = (await t.c.request('GET', `/v2.1/servers/${id}`, { token: t.demo, version: '2.3' })).json.server;
  assert.equal(server['os-extended-volumes:volumes_attached'], [{ id: vol, delete_on_termination: false }]);
}));

test('server remove volume: 202, the volume detaching, then the disk leaves the domain and the volume is available', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const res = await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo });
  assert.is(res.status, 202, JSON.stringify(res.json));
  assert.is((await t.showVolume(vol)).json.volume.status, 'detaching');
  await t.a.agent.drain();
  const shown = (await t.showVolume(vol)).json.volume;
  assert.equal([shown.status, shown.attachments], ['available', []]);
  assert.is((await t.definition(id)).disks.length, 1, 'only the root disk');
  assert.equal((await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo })).json, { volumeAttachments: [] });
  // Detaching it again: Nova's 404.
  const again = await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo });
  assert.is(again.status, 404);
  assert.equal(again.json, { itemNotFound: { code: 404, message: `Instance ${id} is not attached to volume ${vol}` } });
  // And the volume can be deleted now.
  assert.is((await t.v.request('DELETE', `/v3/volumes/${vol}`, t.demo)).status, 202);
}));

test('two volumes get vdb and vdc; a detached one gives its name back to the next', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const [a, b, c] = [await t.volume(), await t.volume(), await t.volume()];
  assert.is((await t.attach(id, { volumeId: a })).json.volumeAttachment.device, '/dev/vdb');
  assert.is((await t.attach(id, { volumeId: b })).json.volumeAttachment.device, '/dev/vdc');
  await t.a.agent.drain();
  await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${a}`, { token: t.demo });
  await t.a.agent.drain();
  assert.is((await t.attach(id, { volumeId: c })).json.volumeAttachment.device, '/dev/vdb');
  await t.a.agent.drain();
  assert.equal((await t.definition(id)).disks.map((d) => d.path), [(await t.definition(id)).disks[0]?.path, t.driver.localPath?.(b), t.driver.localPath?.(c)]);
}));

test('bad attaches change nothing: a volume in use elsewhere (400), twice to one server (400), no such volume (404), a bad device (400), tag before 2.49 (400)', withSetup({}, async (t) => {
  const first = await t.boot();
  const second = await t.boot();
  const vol = await t.volume();
  await t.attach(first.id, { volumeId: vol });
  await t.a.agent.drain();
  const elsewhere = await t.attach(second.id, { volumeId: vol });
  assert.is(elsewhere.status, 400);
  assert.equal(elsewhere.json, { badRequest: { code: 400, message: `Invalid volume: volume ${vol} is already attached to instances: ${first.id}` } });
  const twice = await t.attach(first.id, { volumeId: vol });
  assert.is(twice.status, 400);
  assert.is(twice.json.badRequest.message, `Invalid volume: volume ${vol} already attached`);
  const missing = '0b6d3fb4-7b5c-4d0e-9a54-1c1f6c0d2a11';
  const none = await t.attach(first.id, { volumeId: missing });
  assert.equal([none.status, none.json], [404, { itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } }]);
  const other = await t.volume();
  const device = await t.attach(first.id, { volumeId: other, device: 'vdb' });
  assert.equal([device.status, device.json.badRequest.message], [400, "Invalid input for field/attribute device. Value: vdb. 'vdb' does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'"]);
  const tag = await t.attach(first.id, { volumeId: other, tag: 'data' }, '2.48');
  assert.equal([tag.status, tag.json.badRequest.message], [400, `Invalid input for field/attribute volumeAttachment. Value: {'volumeId': '${other}', 'tag': 'data'}. Additional properties are not allowed ('tag' was unexpected)`]);
  // Nothing changed: the volume is still in use by the first server only, the other available, the second server has none.
  assert.equal((await t.showVolume(vol)).json.volume.attachments.map((x: { server_id: string }) => x.server_id), [first.id]);
  assert.is((await t.showVolume(other)).json.volume.status, 'available');
  assert.equal((await t.c.request('GET', `/v2.1/servers/${second.id}/os-volume_attachments`, { token: t.demo })).json, { volumeAttachments: [] });
  assert.equal((await t.definition(second.id)).disks.length, 1);
}));

test('a volume Cinder will not reserve: Nova passes its 400 on and keeps no mapping', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  // Reserved by someone else through Cinder's API (not a Nova mapping).
  const reserved = await t.v.request('POST', '/v3/attachments', t.demo, { attachment: { volume_uuid: vol } }, { 'OpenStack-API-Version': 'volume 3.44' });
  assert.is(reserved.status, 200);
  const res = await t.attach(id, { volumeId: vol });
  assert.is(res.status, 400);
  assert.match(res.json.badRequest.message, new RegExp(`^Invalid input received: Invalid volume: Volume ${vol} status must be available or downloading to reserve, but the current status is reserved\\. \\(HTTP 400\\) \\(Request-ID: req-`));
  assert.equal((await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo })).json, { volumeAttachments: [] });
}));

test('cross_az_attach = false: a volume from another zone is refused (400) and stays available', withSetup({ crossAzAttach: false, zone: 'az1' }, async (t) => {
  const { id } = await t.boot();
  const far = await t.volume();
  const res = await t.attach(id, { volumeId: far });
  assert.is(res.status, 400);
  assert.is(res.json.badRequest.message, `Invalid volume: Instance ${id} and volume ${far} are not in the same availability_zone. Instance is in az1. Volume is in nova`);
  assert.is((await t.showVolume(far)).json.volume.status, 'available');
  assert.equal((await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo })).json, { volumeAttachments: [] });
}));

test('server delete detaches its volumes and deletes those with delete_on_termination', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const keep = await t.volume();
  const drop = await t.volume();
  await t.attach(id, { volumeId: keep });
  await t.attach(id, { volumeId: drop, delete_on_termination: true });
  await t.a.agent.drain();
  assert.is((await t.showVolume(drop)).json.volume.status, 'in-use');
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}`, { token: t.demo })).status, 204);
  await t.a.agent.drain();
  await t.v.worker.idle();
  const kept = (await t.showVolume(keep)).json.volume;
  assert.equal([kept.status, kept.attachments], ['available', []]);
  assert.is((await t.showVolume(drop)).status, 404);
  assert.equal(await t.c.service.store.get('block-devices', id), undefined, 'no mappings left');
}));

test('a local delete (the host stopped heartbeating) gives the volumes back too, and deletes those with delete_on_termination', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const keep = await t.volume();
  const drop = await t.volume();
  await t.attach(id, { volumeId: keep });
  await t.attach(id, { volumeId: drop, delete_on_termination: true });
  await t.a.agent.drain();
  const host = await t.c.records.get<Record<string, unknown>>('hosts', 'node1');
  await t.c.records.put('hosts', 'node1', { ...host?.value, lastHeartbeatMs: 0 });
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}`, { token: t.demo })).status, 204);
  await t.v.worker.idle();
  assert.equal((await t.showVolume(keep)).json.volume.status, 'available');
  assert.is((await t.showVolume(drop)).status, 404);
}));

test('a detach of a volume the server does not have: 404 as Nova says; an attach to a suspended server: 409', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  const res = await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo });
  assert.equal([res.status, res.json], [404, { itemNotFound: { code: 404, message: `Instance ${id} is not attached to volume ${vol}` } }]);
  assert.is((await t.showVolume(vol)).json.volume.status, 'available');
  assert.is((await t.c.request('POST', `/v2.1/servers/${id}/action`, { token: t.demo, body: { suspend: null } })).status, 202);
  await t.a.agent.drain();
  const suspended = await t.attach(id, { volumeId: vol });
  assert.equal([suspended.status, suspended.json], [409, { conflictingRequest: { code: 409, message: `Cannot 'attach_volume' instance ${id} while it is in vm_state suspended` } }]);
  assert.is((await t.showVolume(vol)).json.volume.status, 'available');
}));

test('a running server gets the volume at once (the hypervisor hot-plugs): in the live guest, not only in its next start; remove takes it out of the running guest', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const name = instanceName(await t.c.service.store.get('servers', id));
  const live = async () => describeDomain(await t.a.hypervisor.domainXml(name)).disks.map((d) => d.path);
  assert.is((await t.a.hypervisor.info(name)).powerState, 'running');
  assert.ok((await live()).includes(t.driver.localPath?.(vol) ?? '?'), 'the running guest has the volume');
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo })).status, 202);
  await t.a.agent.drain();
  assert.is((await live()).length, 1, 'the running guest has only its root disk again');
  assert.is((await t.showVolume(vol)).json.volume.status, 'available');
}));

test('a read-only volume (volume set --read-only) attaches read-only: attach_mode ro in Cinder, access_mode ro, <readonly/> in the domain; a read-write one is unchanged; the flag does not change while attached', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const ro = await t.volume();
  const rw = await t.volume();
  const V = { 'OpenStack-API-Version': 'volume 3.27' };
  assert.is((await t.v.request('POST', `/v3/volumes/${ro}/action`, t.demo, { 'os-update_readonly_flag': { readonly: true } })).status, 202);
  assert.is((await t.attach(id, { volumeId: ro })).status, 200);
  await t.a.agent.drain();
  assert.is((await t.attach(id, { volumeId: rw })).status, 200);
  await t.a.agent.drain();
  const name = instanceName(await t.c.service.store.get('servers', id));
  const attachmentOf = async (vol: string) => {
    const shown = (await t.showVolume(vol)).json.volume;
    assert.is(shown.status, 'in-use');
    return (await t.v.request('GET', `/v3/attachments/${shown.attachments[0].attachment_id}`, t.demo, undefined, V)).json.attachment;
  };
  const a = await attachmentOf(ro);
  assert.equal([a.attach_mode, a.connection_info.data.access_mode], ['ro', 'ro']);
  const b = await attachmentOf(rw);
  assert.equal([b.attach_mode, b.connection_info.data.access_mode], ['rw', 'rw']);
  const listed = (await t.v.request('GET', `/v3/attachments/detail?volume_id=${ro}`, t.demo, undefined, V)).json.attachments;
  assert.equal(listed.map((x: { attach_mode: string }) => x.attach_mode), ['ro']);
  assert.is((await t.showVolume(ro)).json.volume.metadata.readonly, 'True');
  for (const inactive of [true, false]) {
    const xml = await t.a.hypervisor.domainXml(name, { inactive });
    assert.match(diskAt(xml, 'vdb') ?? '', /<readonly\/>/, `the read-only volume's disk (${inactive ? 'definition' : 'running guest'})`);
    assert.not.match(diskAt(xml, 'vdc') ?? '', /<readonly/, `the read-write volume's disk (${inactive ? 'definition' : 'running guest'})`);
  }
  // Cinder changes the flag of an available volume only: attached, it is a 400 and the disk stays as it is.
  const flip = await t.v.request('POST', `/v3/volumes/${ro}/action`, t.demo, { 'os-update_readonly_flag': { readonly: false } });
  assert.equal(flip.json, { badRequest: { code: 400, message: `Invalid volume: Volume ${ro} status must be available to update readonly flag, but current status is: in-use.` } });
  assert.is((await t.showVolume(ro)).json.volume.metadata.readonly, 'True');
  assert.is((await t.v.request('POST', `/v3/volumes/${rw}/action`, t.demo, { 'os-update_readonly_flag': { readonly: true } })).status, 400);
  assert.match(diskAt(await t.a.hypervisor.domainXml(name), 'vdb') ?? '', /<readonly\/>/);
  // Detached, the flag changes, and the next attach follows it.
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${ro}`, { token: t.demo })).status, 202);
  await t.a.agent.drain();
  assert.is((await t.v.request('POST', `/v3/volumes/${ro}/action`, t.demo, { 'os-update_readonly_flag': { readonly: false } })).status, 202);
  await t.attach(id, { volumeId: ro });
  await t.a.agent.drain();
  assert.equal((await attachmentOf(ro)).attach_mode, 'rw');
  assert.not.match(diskAt(await t.a.hypervisor.domainXml(name, { inactive: true }), 'vdb') ?? '', /<readonly/);
}));

test('a guest that will not let the volume go: the detach fails, the disk stays in the guest and the volume is in-use again', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const name = instanceName(await t.c.service.store.get('servers', id));
  t.a.hypervisor.ignoreUnplug(name);
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo })).status, 202);
  await t.a.agent.drain();
  const shown = (await t.showVolume(vol)).json.volume;
  assert.equal([shown.status, shown.attachments.length], ['in-use', 1], "Cinder's roll_detaching");
  assert.ok(describeDomain(await t.a.hypervisor.domainXml(name)).disks.some((d) => d.path === t.driver.localPath?.(vol)), 'the guest still has it');
  assert.is((await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo })).json.volumeAttachments.length, 1, 'the mapping stays');
}));

test("server volume update (PUT, 2.85): delete_on_termination changes; the other fields must stay as they are (Nova's 400s); a volume not attached is 404", withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  const other = await t.volume();
  await t.attach(id, { volumeId: vol, tag: 'data' });
  await t.a.agent.drain();
  const put = (volume: string, body: Record<string, unknown>, version = '2.85', token = t.demo) => t.c.request('PUT', `/v2.1/servers/${id}/os-volume_attachments/${volume}`, { token, version, body: { volumeAttachment: body } });
  const show = async () => (await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo, version: '2.79' })).json.volumeAttachment;
  const res = await put(vol, { volumeId: vol, delete_on_termination: true });
  assert.equal([res.status, res.json], [202, undefined]);
  assert.is((await show()).delete_on_termination, true);
  // What the GET answered may be sent back unchanged.
  assert.is((await put(vol, { volumeId: vol, id: vol, serverId: id, device: '/dev/vdb', tag: 'data', delete_on_termination: 'false' })).status, 202);
  assert.is((await show()).delete_on_termination, false);
  for (const [field, value] of [['device', '/dev/vdc'], ['tag', 'other'], ['serverId', other], ['id', other]] as const) {
    const bad = await put(vol, { volumeId: vol, [field]: value, delete_on_termination: true });
    assert.equal([bad.status, bad.json], [400, { badRequest: { code: 400, message: `The ${field} property is not mutable` } }]);
  }
  assert.is((await show()).delete_on_termination, false, 'a refused update changes nothing');
  const missing = await put(other, { volumeId: other, delete_on_termination: true });
  assert.equal([missing.status, missing.json], [404, { itemNotFound: { code: 404, message: `No volume Block Device Mapping with id ${other}.` } }]);
  const unknown = await put(vol, { volumeId: vol, bootable: true });
  assert.is(unknown.status, 400);
  assert.match(unknown.json.badRequest.message, /Additional properties are not allowed \('bootable' was unexpected\)/);
  const early = await put(vol, { volumeId: vol, delete_on_termination: true }, '2.84');
  assert.is(early.status, 400, 'delete_on_termination is not in the schema before 2.85');
  // The server's volume is deleted with it now.
  assert.is((await put(vol, { volumeId: vol, delete_on_termination: true })).status, 202);
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}`, { token: t.demo })).status, 204);
  await t.a.agent.drain();
  await t.v.worker.idle();
  assert.is((await t.showVolume(vol)).status, 404);
}));

test("a swap (any PUT before 2.85, or another volumeId) is Cinder's to ask: 403 by policy for a member; an admin gets Nova's 409, as no volume here is ever migrating; nothing changes", withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  const other = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const put = (body: Record<string, unknown>, version: string, token: string) => t.c.request('PUT', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token, version, body: { volumeAttachment: body } });
  const forbidden = { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed." } };
  for (const [body, version] of [[{ volumeId: other }, '2.1'], [{ volumeId: vol }, '2.84'], [{ volumeId: other, delete_on_termination: true }, '2.85']] as const) {
    const res = await put(body, version, t.demo);
    assert.equal([res.status, res.json], [403, forbidden], `${version} ${JSON.stringify(body)}`);
  }
  const admin = await put({ volumeId: other }, '2.1', t.admin);
  assert.equal([admin.status, admin.json], [409, { conflictingRequest: { code: 409, message: `volume ${vol} is not migrating; this API should only be called by Cinder` } }]);
  const m = (await t.c.request('GET', `/v2.1/servers/${id}/os-volume_attachments`, { token: t.demo, version: '2.79' })).json.volumeAttachments;
  assert.equal(m.map((x: { volumeId: string; delete_on_termination: boolean }) => [x.volumeId, x.delete_on_termination]), [[vol, false]]);
  assert.equal([(await t.showVolume(vol)).json.volume.status, (await t.showVolume(other)).json.volume.status], ['in-use', 'available']);
}));

test("a server with a volume migrated to another host: the target connects the volume (Cinder's attachment has the new host), the guest there has it; a revert connects it on the source again", withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const node2 = await t.addHost('node2');
  const name = instanceName(await t.c.service.store.get('servers', id));
  const act = (body: unknown, token = t.demo) => t.c.request('POST', `/v2.1/servers/${id}/action`, { token, body });
  const server = async () => (await t.c.request('GET', `/v2.1/servers/${id}`, { token: t.admin, version: '2.47' })).json.server;
  const attachedOn = async () => {
    const v = (await t.showVolume(vol)).json.volume;
    return [v.status, v.attachments.map((a: { host_name: string; device: string }) => [a.host_name, a.device])];
  };
  const path = t.driver.localPath?.(vol) ?? '?';
  const hasVolume = async (hv: typeof node2.hypervisor, inactive: boolean) => describeDomain(await hv.domainXml(name, { inactive })).disks.some((d) => d.path === path);

  assert.is((await act({ migrate: null }, t.admin)).status, 202);
  await t.a.agent.drain();
  await node2.agent.drain();
  const moved = await server();
  assert.equal([moved.status, moved['OS-EXT-SRV-ATTR:host']], ['VERIFY_RESIZE', 'node2'], JSON.stringify(moved.fault));
  assert.ok(await hasVolume(node2.hypervisor, false), "the target's running guest has the volume");
  assert.ok(await hasVolume(node2.hypervisor, true));
  assert.equal(await attachedOn(), ['in-use', [['node2', '/dev/vdb']]]);
  assert.is((await act({ revertResize: null })).status, 202);
  await node2.agent.drain();
  await t.a.agent.drain();
  const back = await server();
  assert.equal([back.status, back['OS-EXT-SRV-ATTR:host']], ['ACTIVE', 'node1'], JSON.stringify(back.fault));
  assert.ok(await hasVolume(t.a.hypervisor, false), "the source's guest has it again");
  assert.equal(await attachedOn(), ['in-use', [['node1', '/dev/vdb']]]);

  // Again, confirmed this time: the volume stays with the server on node2.
  assert.is((await act({ migrate: null }, t.admin)).status, 202);
  await t.a.agent.drain();
  await node2.agent.drain();
  assert.is((await act({ confirmResize: null })).status, 204);
  await t.a.agent.drain();
  assert.equal(await attachedOn(), ['in-use', [['node2', '/dev/vdb']]]);
  assert.ok(await hasVolume(node2.hypervisor, true));
  // And it detaches from there.
  assert.is((await t.c.request('DELETE', `/v2.1/servers/${id}/os-volume_attachments/${vol}`, { token: t.demo })).status, 202);
  await node2.agent.drain();
  assert.equal(await attachedOn(), ['available', []]);
  assert.not.ok(await hasVolume(node2.hypervisor, false));
}));

test('a move whose target cannot open the volume file fails before the guest starts: ERROR on its source, with a fault naming the file', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const vol = await t.volume();
  await t.attach(id, { volumeId: vol });
  await t.a.agent.drain();
  const node2 = await t.addHost('node2');
  const path = t.driver.localPath?.(vol) ?? '?';
  assert.is((await t.c.request('POST', `/v2.1/servers/${id}/action`, { token: t.admin, body: { migrate: null } })).status, 202);
  await t.a.agent.drain();
  // The file out of the target's reach (a host on another machine than the volume host).
  await rename(path, `${path}.away`);
  try {
    await node2.agent.drain();
  } finally {
    await rename(`${path}.away`, path);
  }
  const s = (await t.c.request('GET', `/v2.1/servers/${id}`, { token: t.admin })).json.server;
  assert.equal([s.status, s['OS-EXT-SRV-ATTR:host']], ['ERROR', 'node1']);
  assert.ok(s.fault.message.includes(path), s.fault.message);
  assert.is((await node2.hypervisor.list()).length, 0, 'no guest left on the target');
  const v = (await t.showVolume(vol)).json.volume;
  assert.equal([v.status, v.attachments.map((a: { host_name: string }) => a.host_name)], ['in-use', ['node1']], "Cinder's attachment is as it was");
}));

test('a volume whose type has a front-end QoS attaches with it as the disk\'s <iotune> (Nova\'s libvirt volume driver), in the definition and the running guest; a volume without one has none', withSetup({}, async (t) => {
  const { id } = await t.boot();
  const spec = await t.v.request('POST', '/v3/qos-specs', t.admin, { qos_specs: { name: 'capped', consumer: 'both', total_iops_sec: '300', read_bytes_sec: '2097152', not_libvirt: 'x' } });
  assert.is(spec.status, 200, JSON.stringify(spec.json));
  const type = (await t.v.request('POST', '/v3/types', t.admin, { volume_type: { name: 'capped-type' } })).json.volume_type;
  assert.is((await t.v.request('GET', `/v3/qos-specs/${spec.json.qos_specs.id}/associate?vol_type_id=${type.id}`, t.admin)).status, 202);
  const capped = await t.volume({ volume_type: 'capped-type' });
  const plain = await t.volume();
  for (const vol of [capped, plain]) {
    assert.is((await t.attach(id, { volumeId: vol })).status, 200);
    await t.a.agent.drain();
  }
  const name = instanceName(await t.c.service.store.get('servers', id));
  for (const inactive of [true, false]) {
    const xml = await t.a.hypervisor.domainXml(name, { inactive });
    assert.match(diskAt(xml, 'vdb') ?? '', /<iotune>\s*<read_bytes_sec>2097152<\/read_bytes_sec>\s*<total_iops_sec>300<\/total_iops_sec>\s*<\/iotune>/, `the capped volume's disk (${inactive ? 'definition' : 'running guest'})`);
    assert.not.match(diskAt(xml, 'vdc') ?? '', /iotune/, 'the other volume has no limits');
  }
}));

test.run();
