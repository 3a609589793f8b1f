import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let admin: string;
let alice: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, admin } = volumeUsers(api));
});
test.after(() => api.close());

const LUKS = { provider: 'luks', cipher: 'aes-xts-plain64', key_size: '256', control_location: 'front-end' };

test('encryption of a type: create (key_size made an int), show all and one key, update, delete; admins only; Cinder\'s 400s and 404s', async () => {
  const type = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'secret' } })).json.volume_type;
  const path = `/v3/p-admin/types/${type.id}/encryption`;
  assert.equal((await api.request('GET', path, admin)).json, {}, 'none yet');

  const made = await api.request('POST', path, admin, { encryption: LUKS });
  assert.is(made.status, 200, JSON.stringify(made.json));
  const id = made.json.encryption.encryption_id;
  assert.equal(made.json, { encryption: { ...LUKS, key_size: 256, volume_type_id: type.id, encryption_id: id } });
  const again = await api.request('POST', path, admin, { encryption: LUKS });
  assert.equal(again.json, { badRequest: { code: 400, message: `Volume type encryption for type ${type.id} already exists.` } });

  const all = (await api.request('GET', path, admin)).json;
  assert.equal({ ...all, created_at: undefined }, { volume_type_id: type.id, encryption_id: id, provider: 'luks', control_location: 'front-end', cipher: 'aes-xts-plain64', key_size: 256, created_at: undefined, updated_at: null, deleted: false, deleted_at: null });
  assert.equal((await api.request('GET', `${path}/cipher`, admin)).json, { cipher: 'aes-xts-plain64' });
  assert.equal((await api.request('GET', `${path}/nope`, admin)).json, { itemNotFound: { code: 404, message: `Volume type encryption for type ${type.id} does not exist.` } });

  const updated = await api.request('PUT', `${path}/provider`, admin, { encryption: { key_size: 512, control_location: 'back-end' } });
  assert.equal(updated.json, { encryption: { key_size: 512, control_location: 'back-end' } });
  const after = (await api.request('GET', path, admin)).json;
  assert.equal([after.key_size, after.control_location, after.provider], [512, 'back-end', 'luks']);

  const bad: [unknown, string][] = [
    [{ encryption: { provider: 'luks' } }, "Invalid input for field/attribute encryption. Value: {'provider': 'luks'}. 'control_location' is a required property"],
    [{ encryption: { ...LUKS, control_location: 'middle' } }, "Invalid input for field/attribute control_location. Value: middle. 'middle' is not one of ['front-end', 'back-end']"],
    [{ encryption: { ...LUKS, key_size: 'big' } }, 'Invalid input received: key_size must be an integer.'],
    [{ encryption: { ...LUKS, key_size: -1 } }, 'Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0'],
    [{ encryption: { ...LUKS, cipher: 5 } }, "Invalid input for field/attribute cipher. Value: 5. 5 is not of type 'string', 'null'"],
    [{}, "'encryption' is a required property"],
  ];
  const other = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'plain-enc' } })).json.volume_type;
  for (const [body, message] of bad) assert.equal((await api.request('POST', `/v3/p-admin/types/${other.id}/encryption`, admin, body)).json, { badRequest: { code: 400, message } }, JSON.stringify(body));
  assert.equal((await api.request('GET', `/v3/p-admin/types/${other.id}/encryption`, admin)).json, {}, 'nothing made by the refused ones');
  assert.equal((await api.request('PUT', `/v3/p-admin/types/${other.id}/encryption/provider`, admin, { encryption: { key_size: 1 } })).json, { itemNotFound: { code: 404, message: `Volume type encryption for type ${other.id} does not exist.` } });
  assert.equal((await api.request('GET', '/v3/p-admin/types/nope/encryption', admin)).json, { itemNotFound: { code: 404, message: 'Volume type nope could not be found.' } });

  for (const [method, p, body] of [['GET', path, undefined], ['POST', `/v3/p-alice/types/${other.id}/encryption`, { encryption: LUKS }], ['DELETE', `${path}/provider`, undefined]] as const) {
    const action = { GET: 'get', POST: 'create', DELETE: 'delete' }[method];
    assert.equal((await api.request(method, p.replace('p-admin', 'p-alice'), alice, body)).json, { forbidden: { code: 403, message: `Policy doesn't allow volume_extension:volume_type_encryption:${action} to be performed.` } });
  }

  assert.is((await api.request('DELETE', `${path}/provider`, admin)).status, 202);
  assert.equal((await api.request('GET', path, admin)).json, {});
  assert.equal((await api.request('DELETE', `${path}/provider`, admin)).json, { itemNotFound: { code: 404, message: `Volume type encryption for type ${type.id} does not exist.` } });
});

test('no volume is made of an encrypted type (no key manager: Cinder\'s 400), nor retyped to one; a type in use gets no encryption', async () => {
  const type = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'locked' } })).json.volume_type;
  await api.request('POST', `/v3/p-admin/types/${type.id}/encryption`, admin, { encryption: LUKS });
  const refused = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'locked' } });
  assert.equal(refused.json, { badRequest: { code: 400, message: 'Key manager error' } });
  assert.equal((await api.request('GET', '/v3/p-alice/volumes', alice)).json.volumes, [], 'nothing made');
  assert.equal((await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=true', alice)).json.quota_set.volumes.in_use, 0, 'nothing reserved');

  const vol = (await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } })).json.volume;
  await api.worker.idle();
  const retype = await api.request('POST', `/v3/p-alice/volumes/${vol.id}/action`, alice, { 'os-retype': { new_type: 'locked' } });
  assert.equal(retype.json, { badRequest: { code: 400, message: 'Key manager error' } });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${vol.id}`, alice)).json.volume.volume_type, '__DEFAULT__');

  const used = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'used' } })).json.volume_type;
  await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'used' } });
  await api.worker.idle();
  const inUse = await api.request('POST', `/v3/p-admin/types/${used.id}/encryption`, admin, { encryption: LUKS });
  assert.equal(inUse.json, { badRequest: { code: 400, message: 'Cannot create encryption specs. Volume type in use.' } });
  assert.equal((await api.request('GET', `/v3/p-admin/types/${used.id}/encryption`, admin)).json, {});
});

test('the extension list names the extensions served, TypesManage among them; one by its alias; an unknown alias is a 404', async () => {
  const listed = await api.request('GET', '/v3/p-alice/extensions', alice);
  assert.is(listed.status, 200);
  const names = listed.json.extensions.map((e: { name: string }) => e.name);
  for (const name of ['TypesManage', 'Qos_specs_manage', 'VolumeTypeEncryption', 'Backups', 'VolumeTransfer']) assert.ok(names.includes(name), name);
  assert.not.ok(names.includes('Consistencygroups'), 'not served, not listed');
  assert.equal(listed.json.extensions.find((e: { name: string }) => e.name === 'TypesManage'), { name: 'TypesManage', alias: 'os-types-manage', description: 'Types manage support.', updated: '2011-08-24T00:00:00+00:00', links: [] });
  assert.equal((await api.request('GET', '/v3/p-alice/extensions/qos-specs', alice)).json.extension.name, 'Qos_specs_manage');
  assert.equal((await api.request('GET', '/v3/p-alice/extensions/nope', alice)).json, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
});

test.run();
