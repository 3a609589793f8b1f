import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server delete --force` (Nova's forceDelete) and `server restore` without soft delete. */
test('forceDelete deletes the server as delete does (202), from any vm state but not during a task; restore is 409 with nothing soft-deleted', async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'disk ') }] });
  try {
    const { c, demo, admin, id } = s;
    const act = (body: unknown, token = demo) => c.request('POST', `/v2.1/servers/${id}/action`, { token, body });
    assert.equal((await act({ restore: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'restore' instance ${id} while it is in vm_state active` } });
    assert.is((await act({ 'os-stop': null })).status, 202);
    assert.equal((await act({ forceDelete: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'forceDelete' instance ${id} while it is in task_state powering-off` } });
    await s.agent.agent.drain();
    assert.is((await act({ lock: null }, admin)).status, 202);
    assert.equal((await act({ forceDelete: null })).json, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
    assert.is((await act({ unlock: null }, admin)).status, 202);
    const port = [...c.networks.ports.values()].find((p) => p.device_id === id)?.id as string;
    assert.is((await act({ forceDelete: null })).status, 202);
    await s.agent.agent.drain();
    assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).status, 404);
    assert.is(c.networks.ports.has(port), false, 'its port went with it');
    await s.agent.hypervisor.info(`instance-${id}`).then(() => assert.unreachable('the domain should be gone'), () => undefined);
  } finally {
    await s.close();
  }
});

test.run();
