import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkMetadataTotals, clearMetadata, liveMetadata, mergeMetadata, reclaimMetadata } from '../../../../common/db/metadata.ts';
import { ConstraintError } from '../../../../common/errors.ts';

const T1 = '1700000001.00000';
const T2 = '1700000002.00000';

test('merge: the newer timestamp wins per key; a tie keeps what is stored; nothing new is undefined', () => {
  const current = { 'X-Container-Meta-A': ['a', T1] as const };
  assert.equal(mergeMetadata(current, { 'X-Container-Meta-A': ['b', T2], 'X-Container-Meta-B': ['c', T1] }), { 'X-Container-Meta-A': ['b', T2], 'X-Container-Meta-B': ['c', T1] });
  assert.is(mergeMetadata(current, { 'X-Container-Meta-A': ['z', T1] }), undefined);
  assert.equal(mergeMetadata(current, { 'X-Container-Meta-A': ['', T2] }), { 'X-Container-Meta-A': ['', T2] });
});

test('totals count the user metadata of the whole database, not empty values or other keys', () => {
  const md: Record<string, [string, string]> = { 'X-Container-Read': ['x'.repeat(4000), T1], 'X-Container-Meta-Gone': ['', T1] };
  for (let i = 0; i < 90; i++) md[`X-Container-Meta-K${i}`] = ['v', T1];
  checkMetadataTotals(md);
  md['X-Container-Meta-K90'] = ['v', T1];
  assert.throws(() => checkMetadataTotals(md), (err: unknown) => err instanceof ConstraintError && err.message === 'Too many metadata items; max 90');
  assert.throws(
    () => checkMetadataTotals({ 'X-Account-Meta-Big': ['v'.repeat(4090), T1], 'X-Account-Meta-B': ['vvvv', T1] }),
    (err: unknown) => err instanceof ConstraintError && err.message === 'Total metadata too large; max 4096',
  );
});

test('clear empties every key at a timestamp; reclaim drops empty keys older than the age', () => {
  const cleared = clearMetadata({ A: ['1', T1], B: ['2', T1] }, T2);
  assert.equal(cleared, { A: ['', T2], B: ['', T2] });
  assert.equal(reclaimMetadata({ A: ['', T1], B: ['', T2], C: ['x', T1] }, T2), { B: ['', T2], C: ['x', T1] });
  assert.is(reclaimMetadata({ C: ['x', T1] }, T2), undefined);
  assert.equal(liveMetadata({ A: ['', T1], C: ['x', T1] }), [['C', 'x']]);
});

test.run();
