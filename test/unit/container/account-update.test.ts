import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../common/logger.ts';
import { ConstraintError } from '../../../common/errors.ts';
import { accountUpdatePlan, sendAccountUpdate } from '../../../container/account-update.ts';
import { fakeBackend } from '../../helpers/fake-backend.ts';

const info = { put_timestamp: '1700000001.00000', delete_timestamp: '0000000000.00000', object_count: 2, bytes_used: 20, storage_policy_index: 1 };

test('the plan pairs X-Account-Host with X-Account-Device; no partition means no update', () => {
  const plan = accountUpdatePlan({ 'x-account-host': '10.0.0.1:6202, [fe80::1]:6212', 'x-account-device': 'sda, sdb', 'x-account-partition': '9' });
  assert.equal(plan.targets.map((t) => [t.node.ip, t.node.port, t.device]), [['10.0.0.1', 6202, 'sda'], ['fe80::1', 6212, 'sdb']]);
  assert.equal(accountUpdatePlan({ 'x-account-host': '10.0.0.1:6202', 'x-account-device': 'sda' }).targets, []);
  assert.equal(accountUpdatePlan({}).targets, []);
  assert.throws(() => accountUpdatePlan({ 'x-account-host': 'a:1,b:2', 'x-account-device': 'sda', 'x-account-partition': '1' }), (err: unknown) => err instanceof ConstraintError && err.kind === 'bad_request');
});

test('every replica gets the container row; only all-404 answers mean the account is missing', async () => {
  const logs: string[] = [];
  const logger = createLogger({ sink: (l) => logs.push(l) });
  const plan = accountUpdatePlan({ 'x-account-host': '10.0.0.1:6202,10.0.0.2:6202,10.0.0.3:6202', 'x-account-device': 'a,b,c', 'x-account-partition': '9' });
  const request = { account: 'AUTH_x', container: 'c c', headers: { 'x-trans-id': 'tx1', 'x-account-override-deleted': 'yes' } };
  const allMissing = fakeBackend(() => ({ status: 404 }));
  assert.is(await sendAccountUpdate(plan, { backend: allMissing, logger, timeoutMs: 1000 }, request, info), 'not_found');
  assert.equal(allMissing.requests.map((r) => r.path).sort(), ['/a/9/AUTH_x/c%20c', '/b/9/AUTH_x/c%20c', '/c/9/AUTH_x/c%20c']);
  assert.equal(
    Object.fromEntries(Object.entries(allMissing.requests[0]?.headers ?? {}).filter(([k]) => k !== 'User-Agent')),
    { 'X-Put-Timestamp': '1700000001.00000', 'X-Delete-Timestamp': '0000000000.00000', 'X-Object-Count': '2', 'X-Bytes-Used': '20', 'X-Trans-Id': 'tx1', 'X-Backend-Storage-Policy-Index': '1', 'X-Account-Override-Deleted': 'yes' },
  );
  const mixed = fakeBackend((node) => (node.startsWith('10.0.0.1') ? { status: 404 } : node.startsWith('10.0.0.2') ? 'refuse' : { status: 500 }));
  assert.is(await sendAccountUpdate(plan, { backend: mixed, logger, timeoutMs: 1000 }, request, info), 'done');
  assert.is(logs.filter((l) => l.includes('account update failed')).length, 2, 'the refused and the 500 are logged');
});

test.run();
