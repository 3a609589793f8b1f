import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../../client/memory-record-store.ts';
import { CINDER_QUOTA_DEFAULTS, OverQuota, QUOTA_USAGES, VolumeQuotas } from '../../../../compute/volume/quota.ts';
import { rejects } from '../../../helpers/rejects.ts';

// Keyed quota changes, what a step run again after a restart relies on (the transfer accept's).

function quotas() {
  const store = new MemoryRecordStore();
  return { store, q: new VolumeQuotas(store, { ...CINDER_QUOTA_DEFAULTS, volumes: 2 }, async () => []) };
}

test('a reservation made once under a key counts once however often it is made, and is not checked again', async () => {
  const { q } = quotas();
  await q.reserve('p', { volumes: 2, gigabytes: 10 }, 'k');
  await q.reserve('p', { volumes: 2, gigabytes: 10 }, 'k');
  assert.equal(await q.usage('p'), { volumes: 2, gigabytes: 10 });
  await rejects(q.reserve('p', { volumes: 1 }, 'other'), OverQuota);
  await q.release('p', { volumes: 1, gigabytes: 5 }, 'back');
  await q.release('p', { volumes: 1, gigabytes: 5 }, 'back');
  assert.equal(await q.usage('p'), { volumes: 1, gigabytes: 5 });
});

test('cancel undoes a keyed reservation once, and only one that was made; settle forgets keys, after which the same key counts again', async () => {
  const { store, q } = quotas();
  await q.cancel('p', 'never', { volumes: 1 });
  assert.equal(await q.usage('p'), {});
  await q.reserve('p', { volumes: 1 }, 'a');
  await q.reserve('p', { volumes: 1 }, 'b');
  await q.cancel('p', 'a', { volumes: 1 });
  await q.cancel('p', 'a', { volumes: 1 });
  assert.equal(await q.usage('p'), { volumes: 1 });
  await q.settle('p', ['a', 'b']);
  assert.is((await store.get<{ applied?: string[] }>(QUOTA_USAGES, 'p'))?.value.applied, undefined, 'no key left');
  await q.reserve('p', { volumes: 1 }, 'b');
  assert.equal(await q.usage('p'), { volumes: 2 });
});

test.run();
