import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { IdentityStore } from '../../../identity/store.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { rejects } from '../../helpers/rejects.ts';

class Taken extends Error {}
const taken = (): Error => new Taken('taken');

test('createNamed: concurrent creates of one name, exactly one wins and only its record exists', async () => {
  const store = new IdentityStore(new MemoryRecordStore(), new ManualClock());
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => store.createNamed('things', 'thing-names', 'n', { id: `id${i}`, i }, taken)));
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.is((await store.keys('things')).length, 1);
  const winner = (await store.byName<{ id: string }>('things', 'thing-names', 'n'))?.id;
  assert.equal(await store.keys('things'), [winner]);
});

test('a name whose record never appeared (a crash between the two writes) is free again after a minute, not before', async () => {
  const clock = new ManualClock();
  const records = new MemoryRecordStore();
  const store = new IdentityStore(records, clock);
  await records.create('thing-names', 'n', { id: 'lost', created_at: clock.now() });
  await rejects(store.createNamed('things', 'thing-names', 'n', { id: 'new' }, taken), Taken);
  clock.advance(61_000);
  await store.createNamed('things', 'thing-names', 'n', { id: 'new' }, taken);
  assert.equal(await store.byName('things', 'thing-names', 'n'), { id: 'new' });
});

test('update: a rename moves the index; onto a taken name it fails and changes nothing', async () => {
  const store = new IdentityStore(new MemoryRecordStore(), new ManualClock());
  await store.createNamed('things', 'thing-names', 'a', { id: '1', name: 'a' }, taken);
  await store.createNamed('things', 'thing-names', 'b', { id: '2', name: 'b' }, taken);
  const names = { nameType: 'thing-names', keyOf: (r: { name: string }) => r.name, conflict: taken };
  await rejects(store.update<{ id: string; name: string }>('things', '1', (r) => ({ ...r, name: 'b' }), names), Taken);
  assert.equal(await store.get('things', '1'), { id: '1', name: 'a' });
  await store.update<{ id: string; name: string }>('things', '1', (r) => ({ ...r, name: 'c' }), names);
  assert.equal(await store.keys('thing-names'), ['b', 'c']);
  assert.equal(await store.byName('things', 'thing-names', 'c'), { id: '1', name: 'c' });
});

test('scan reads a record again only when its version changed', async () => {
  const records = new MemoryRecordStore();
  let gets = 0;
  const counting = Object.assign(Object.create(records) as MemoryRecordStore, {
    get: (type: string, key: string) => {
      gets++;
      return records.get(type, key);
    },
  });
  const store = new IdentityStore(counting, new ManualClock());
  for (const i of [1, 2, 3]) await records.put('things', `k${i}`, { i });
  assert.is((await store.scan('things')).length, 3);
  assert.is(gets, 3);
  await store.scan('things');
  assert.is(gets, 3, 'nothing changed: nothing read');
  await records.put('things', 'k2', { i: 22 });
  await records.delete('things', 'k3');
  assert.equal(await store.scan('things'), [{ i: 1 }, { i: 22 }]);
  assert.is(gets, 4);
});

test.run();
