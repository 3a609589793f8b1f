import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { T } from '../../../../compute/records.ts';
import type { ServerRecord } from '../../../../compute/server-record.ts';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server set --state`: Nova's os-resetState, for admins, to free a server stuck in a task. */
test('os-resetState: an admin sets error or active and clears the task; a member is 403; a bad state 400; the action is recorded', async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
  try {
    const act = (body: unknown, token = s.admin) => s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token, body });
    const show = async () => (await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.admin })).json.server;
    // A server stuck mid-task, as a host that died would leave it.
    const cur = (await s.c.records.get<ServerRecord>(T.servers, s.id)) as { value: ServerRecord };
    await s.c.records.put(T.servers, s.id, { ...cur.value, task_state: 'powering-off' });
    assert.equal((await act({ 'os-resetState': { state: 'error' } }, s.demo)).json, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed." } });
    assert.match((await act({ 'os-resetState': { state: 'stopped' } })).json.badRequest.message, /'stopped' is not one of \['active', 'error'\]$/);
    assert.match((await act({ 'os-resetState': {} })).json.badRequest.message, /'state' is a required property$/);
    assert.is((await show())['OS-EXT-STS:task_state'], 'powering-off', 'nothing changed');
    assert.is((await act({ 'os-resetState': { state: 'error' } })).status, 202);
    let after = await show();
    assert.equal([after.status, after['OS-EXT-STS:vm_state'], after['OS-EXT-STS:task_state']], ['ERROR', 'error', null]);
    assert.is((await act({ 'os-resetState': { state: 'active' } })).status, 202);
    after = await show();
    assert.equal([after.status, after['OS-EXT-STS:task_state']], ['ACTIVE', null]);
    const actions = (await s.c.request('GET', `/v2.1/servers/${s.id}/os-instance-actions`, { token: s.admin })).json.instanceActions.map((a: { action: string }) => a.action);
    assert.equal(actions.slice(0, 2), ['resetState', 'resetState']);
  } finally {
    await s.close();
  }
});

test.run();
