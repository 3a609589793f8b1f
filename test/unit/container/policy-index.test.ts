import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { comparePolicyInfo, incorrectPolicyIndex, type PolicyInfo } from '../../../container/policy-index.ts';

const ts = (s: number): string => (s === 0 ? '0000000000.00000' : (1_700_000_000 + s).toFixed(5));
const info = (put: number, del: number, changed: number, count = 0, policy = 0): PolicyInfo => ({ put_timestamp: ts(put), delete_timestamp: ts(del), status_changed_at: ts(changed), count, storage_policy_index: policy });

// [description, local, remote, winner]
const cases: [string, PolicyInfo, PolicyInfo, 'local' | 'remote'][] = [
  ['both live, never deleted: the oldest status change wins', info(1, 0, 1), info(2, 0, 2), 'local'],
  ['both live, never deleted: ... from either side', info(2, 0, 2), info(1, 0, 1), 'remote'],
  ['a live replica beats a deleted one', info(1, 2, 2), info(1, 0, 1), 'remote'],
  ['a deleted replica with objects counts as live', info(1, 2, 2, 5), info(3, 4, 4), 'local'],
  ['both deleted: the latest status change wins', info(1, 2, 2), info(1, 3, 3), 'remote'],
  ['a recreated replica beats one never deleted', info(1, 0, 1), info(3, 2, 3), 'remote'],
  ['both recreated: a put older than the last delete loses', info(3, 2, 3), info(5, 4, 5), 'remote'],
  ['both recreated after the last delete: the oldest status change wins', info(5, 4, 5), info(6, 4, 6), 'local'],
];

for (const [name, local, remote, winner] of cases) {
  test(name, () => {
    const result = comparePolicyInfo(local, remote);
    assert.ok(winner === 'local' ? result < 0 : result > 0, `compare gave ${result}`);
  });
}

test('incorrectPolicyIndex only when the remote has another policy and the better claim', () => {
  assert.is(incorrectPolicyIndex(info(2, 0, 2, 0, 0), { ...info(1, 0, 1), storage_policy_index: 1 }), true);
  assert.is(incorrectPolicyIndex(info(1, 0, 1, 0, 0), { ...info(2, 0, 2), storage_policy_index: 1 }), false);
  assert.is(incorrectPolicyIndex(info(2, 0, 2, 0, 0), { ...info(1, 0, 1), storage_policy_index: 0 }), false);
  assert.is(incorrectPolicyIndex(info(2, 0, 2, 0, 0), { put_timestamp: ts(1) }), false, 'no policy index: nothing to compare');
});

test.run();
