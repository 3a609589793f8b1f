import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { startIdentity } from '../../helpers/identity.ts';

test('two identity services bootstrapping one store at once make one of everything', async () => {
  const records = new MemoryRecordStore();
  const [a, b] = await Promise.all([startIdentity({ records }), startIdentity({ records })]);
  try {
    const token = await a.token();
    const names = async (kind: string): Promise<string[]> => (await a.request('GET', `/v3/${kind}`, { token })).json[kind].map((x: { name: string }) => x.name).sort();
    assert.equal(await names('domains'), ['Default']);
    assert.equal(await names('roles'), ['admin', 'member', 'reader']);
    assert.equal(await names('projects'), ['admin', 'demo', 'service']);
    assert.equal(await names('users'), ['admin', 'demo']);
    assert.equal(await names('services'), ['keystone', 'swift']);
    assert.is((await b.request('GET', '/v3/endpoints', { token: await b.token() })).json.endpoints.length, 6);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a restart does not reset what the admin changed since the first start', async () => {
  const records = new MemoryRecordStore();
  const first = await startIdentity({ records });
  const token = await first.token();
  const adminId = (await first.request('GET', '/v3/users?name=admin', { token })).json.users[0].id;
  await first.request('PATCH', `/v3/users/${adminId}`, { token, body: { user: { password: 'changed-by-admin' } } });
  await first.close();
  const second = await startIdentity({ records });
  try {
    assert.is((await second.token({ password: 'changed-by-admin' })).length > 0, true);
  } finally {
    await second.close();
  }
});

test.run();
