import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let admin: string;
let alice: string;
const V = { 'OpenStack-API-Version': 'volume 3.44' };

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, admin } = volumeUsers(api));
});
test.after(() => api.close());

const qos = (path: string) => `/v3/p-admin/qos-specs${path}`;

test('QoS specs: an admin creates (consumer out of the specs), lists, shows; a name is taken once; members are refused; bad input is a 400 and makes nothing', async () => {
  const made = await api.request('POST', qos(''), admin, { qos_specs: { name: ' fast ', consumer: 'front-end', total_iops_sec: '500' } });
  assert.is(made.status, 200, JSON.stringify(made.json));
  const spec = made.json.qos_specs;
  assert.equal({ ...spec, id: undefined }, { id: undefined, name: 'fast', consumer: 'front-end', specs: { total_iops_sec: '500' } });
  assert.equal(made.json.links, [
    { rel: 'self', href: `http://127.0.0.1:${api.port}/v3/p-admin/qos-specs/${spec.id}` },
    { rel: 'bookmark', href: `http://127.0.0.1:${api.port}/p-admin/qos-specs/${spec.id}` },
  ]);
  const plain = await api.request('POST', qos(''), admin, { qos_specs: { name: 'plain' } });
  assert.is(plain.json.qos_specs.consumer, 'back-end', 'no consumer: back-end');

  const again = await api.request('POST', qos(''), admin, { qos_specs: { name: 'fast' } });
  assert.equal(again.json, { conflictingRequest: { code: 409, message: 'QoS Specs fast already exists.' } });
  const member = await api.request('POST', '/v3/p-alice/qos-specs', alice, { qos_specs: { name: 'mine' } });
  assert.equal(member.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:qos_specs_manage:create to be performed." } });
  assert.equal((await api.request('GET', '/v3/p-alice/qos-specs', alice)).json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:qos_specs_manage:get_all to be performed." } });

  const bad: [unknown, string][] = [
    [{ qos_specs: { name: 'x', consumer: 'hypervisor' } }, "Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,valid_values=('back-end', 'front-end', 'both'))"],
    [{ qos_specs: { consumer: 'both' } }, "Invalid input for field/attribute qos_specs. Value: {'consumer': 'both'}. 'name' is a required property"],
    [{ qos_specs: { name: '   ' } }, "An invalid 'name' value was provided. The 'name' can not be empty."],
    [{ qos_specs: { name: 'x', read_iops_sec: 100 } }, 'Invalid input received: Value for key "read_iops_sec" is not a string or unicode'],
    [{ qos_specs: { name: 'x' }, extra: 1 }, "Additional properties are not allowed ('extra' was unexpected)"],
    [{}, "'qos_specs' is a required property"],
  ];
  for (const [body, message] of bad) assert.equal((await api.request('POST', qos(''), admin, body)).json, { badRequest: { code: 400, message } }, JSON.stringify(body));

  const listed = await api.request('GET', qos(''), admin);
  assert.equal(listed.json.qos_specs.map((s: { name: string }) => s.name).sort(), ['fast', 'plain'], 'none of the refused ones was made');
  assert.equal((await api.request('GET', qos('?consumer=front-end'), admin)).json.qos_specs.map((s: { name: string }) => s.name), ['fast']);
  const shown = await api.request('GET', qos(`/${spec.id}`), admin);
  assert.equal(shown.json.qos_specs, spec);
  assert.equal((await api.request('GET', qos('/nope'), admin)).json, { itemNotFound: { code: 404, message: 'No such QoS spec nope.' } });
  assert.is((await api.request('DELETE', qos(`/${plain.json.qos_specs.id}`), admin)).status, 202);
});

test('QoS specs: set keys (and the consumer) with PUT; delete_keys stops at the first missing key with a 404, keeping what it deleted', async () => {
  const spec = (await api.request('POST', qos(''), admin, { qos_specs: { name: 'tune', a: '1', b: '2', c: '3' } })).json.qos_specs;
  const set = await api.request('PUT', qos(`/${spec.id}`), admin, { qos_specs: { a: '10', d: '4', consumer: 'both' } });
  assert.equal(set.json, { qos_specs: { a: '10', d: '4', consumer: 'both' } });
  let shown = (await api.request('GET', qos(`/${spec.id}`), admin)).json.qos_specs;
  assert.equal([shown.consumer, shown.specs], ['both', { a: '10', b: '2', c: '3', d: '4' }]);
  const badKey = await api.request('PUT', qos(`/${spec.id}`), admin, { qos_specs: { 'no!': 'x' } });
  assert.equal(badKey.json, { badRequest: { code: 400, message: "Invalid input for field/attribute qos_specs. Value: {'no!': 'x'}. Additional properties are not allowed ('no!' was unexpected)" } });
  assert.is((await api.request('PUT', qos('/nope'), admin, { qos_specs: { a: '1' } })).status, 404);

  assert.is((await api.request('PUT', qos(`/${spec.id}/delete_keys`), admin, { keys: ['a'] })).status, 202);
  const partly = await api.request('PUT', qos(`/${spec.id}/delete_keys`), admin, { keys: ['b', 'zz', 'c'] });
  assert.equal(partly.json, { itemNotFound: { code: 404, message: `QoS spec ${spec.id} has no spec with key zz.` } });
  shown = (await api.request('GET', qos(`/${spec.id}`), admin)).json.qos_specs;
  assert.equal(shown.specs, { c: '3', d: '4' }, 'b went, c (after the missing key) stayed');
  const dup = await api.request('PUT', qos(`/${spec.id}/delete_keys`), admin, { keys: ['c', 'c'] });
  assert.equal(dup.json, { badRequest: { code: 400, message: "Invalid input for field/attribute keys. Value: ['c', 'c']. ['c', 'c'] has non-unique elements" } });
  assert.is((await api.request('DELETE', qos(`/${spec.id}`), admin)).status, 202);
});

test('associations: a type has one spec (400 for another), shows it as qos_specs_id to admins only; delete is refused while in use, forced it disassociates', async () => {
  const spec = (await api.request('POST', qos(''), admin, { qos_specs: { name: 'gold-qos' } })).json.qos_specs;
  const other = (await api.request('POST', qos(''), admin, { qos_specs: { name: 'other-qos' } })).json.qos_specs;
  const t1 = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'qt1' } })).json.volume_type;
  const t2 = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'qt2' } })).json.volume_type;
  assert.is(t1.qos_specs_id, null);

  assert.equal((await api.request('GET', qos(`/${spec.id}/associate`), admin)).json, { badRequest: { code: 400, message: 'Volume Type id must not be None.' } });
  assert.equal((await api.request('GET', qos(`/${spec.id}/associate?vol_type_id=nope`), admin)).json, { itemNotFound: { code: 404, message: 'Volume type nope could not be found.' } });
  assert.is((await api.request('GET', qos(`/${spec.id}/associate?vol_type_id=${t1.id}`), admin)).status, 202);
  assert.is((await api.request('GET', qos(`/${spec.id}/associate?vol_type_id=${t1.id}`), admin)).status, 202, 'the same spec again: nothing to do');
  assert.is((await api.request('GET', qos(`/${spec.id}/associate?vol_type_id=${t2.id}`), admin)).status, 202);
  const taken = await api.request('GET', qos(`/${other.id}/associate?vol_type_id=${t1.id}`), admin);
  assert.equal(taken.json, { badRequest: { code: 400, message: `Invalid volume type: Type ${t1.id} is already associated with another qos specs: ${spec.id}` } });

  const assoc = await api.request('GET', qos(`/${spec.id}/associations`), admin);
  assert.equal(assoc.json.qos_associations.sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)), [
    { association_type: 'volume_type', name: 'qt1', id: t1.id },
    { association_type: 'volume_type', name: 'qt2', id: t2.id },
  ]);
  assert.is((await api.request('GET', `/v3/p-admin/types/${t1.id}`, admin)).json.volume_type.qos_specs_id, spec.id);
  assert.not.ok('qos_specs_id' in (await api.request('GET', `/v3/p-alice/types/${t1.id}`, alice)).json.volume_type, 'members do not see it');

  assert.is((await api.request('GET', qos(`/${spec.id}/disassociate?vol_type_id=${t2.id}`), admin)).status, 202);
  assert.equal((await api.request('GET', qos(`/${spec.id}/associations`), admin)).json.qos_associations.map((a: { name: string }) => a.name), ['qt1']);

  assert.equal((await api.request('DELETE', qos(`/${spec.id}`), admin)).json, { badRequest: { code: 400, message: 'Qos specs still in use.' } });
  assert.equal((await api.request('DELETE', qos(`/${spec.id}?force=maybe`), admin)).json, { badRequest: { code: 400, message: "Value 'maybe' for 'force' is not a boolean." } });
  assert.is((await api.request('GET', qos(`/${spec.id}`), admin)).status, 200, 'still there');
  assert.is((await api.request('DELETE', qos(`/${spec.id}?force=true`), admin)).status, 202);
  assert.is((await api.request('GET', qos(`/${spec.id}`), admin)).status, 404);
  assert.is((await api.request('GET', `/v3/p-admin/types/${t1.id}`, admin)).json.volume_type.qos_specs_id, null);

  assert.is((await api.request('GET', qos(`/${other.id}/associate?vol_type_id=${t1.id}`), admin)).status, 202, 'free again');
  assert.is((await api.request('GET', qos(`/${other.id}/disassociate_all`), admin)).status, 202);
  assert.equal((await api.request('GET', qos(`/${other.id}/associations`), admin)).json, { qos_associations: [] });
});

test('a front-end QoS reaches the attachment\'s connection (per-GB limits scaled by size); a back-end one does not; an in-use volume keeps its front-end QoS at retype', async () => {
  const front = (await api.request('POST', qos(''), admin, { qos_specs: { name: 'fe', consumer: 'front-end', read_iops_sec: '100', total_bytes_sec_per_gb: '1000', total_bytes_sec_per_gb_min: '1500', total_bytes_sec_max: '2500' } })).json.qos_specs;
  const back = (await api.request('POST', qos(''), admin, { qos_specs: { name: 'be', consumer: 'back-end', read_iops_sec: '100' } })).json.qos_specs;
  const feType = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'fe-type' } })).json.volume_type;
  const beType = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'be-type' } })).json.volume_type;
  await api.request('GET', qos(`/${front.id}/associate?vol_type_id=${feType.id}`), admin);
  await api.request('GET', qos(`/${back.id}/associate?vol_type_id=${beType.id}`), admin);

  const connectionOf = async (type: string, size: number) => {
    const vol = (await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size, volume_type: type } })).json.volume;
    await api.worker.idle();
    const made = await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: vol.id, instance_uuid: '0f5c5a58-1111-4222-8333-444455556666', connector: { host: 'node1', mountpoint: '/dev/vdb' } } }, V);
    assert.is(made.status, 200, JSON.stringify(made.json));
    return { volume: vol.id as string, attachment: made.json.attachment.id as string, data: made.json.attachment.connection_info.data };
  };
  const small = await connectionOf('fe-type', 1);
  assert.equal(small.data.qos_specs, { read_iops_sec: '100', total_bytes_sec: 1500 }, 'per GB: 1000 x 1 GiB, raised to the minimum');
  const big = await connectionOf('fe-type', 3);
  assert.equal(big.data.qos_specs, { read_iops_sec: '100', total_bytes_sec: 2500 }, 'per GB: 1000 x 3 GiB, capped at the maximum');
  const none = await connectionOf('be-type', 1);
  assert.is(none.data.qos_specs, null);

  assert.is((await api.request('POST', `/v3/p-alice/attachments/${none.attachment}/action`, alice, { 'os-complete': {} }, V)).status, 204);
  const retype = await api.request('POST', `/v3/p-alice/volumes/${none.volume}/action`, alice, { 'os-retype': { new_type: 'fe-type' } });
  assert.is(retype.status, 400, 'in use: its front-end QoS would change');
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${none.volume}`, alice)).json.volume.volume_type, 'be-type');
});

test.run();
