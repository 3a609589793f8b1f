import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectSet } from '../../../bench/object-set.ts';

test('add, read, delete, restore, drain', () => {
  const set = new ObjectSet();
  assert.is(set.pickForRead(() => 0), undefined);
  assert.is(set.takeForDelete(() => 0), undefined);
  const a = set.add('c', 'a', 1);
  const b = set.add('c', 'b', 2);
  set.add('c', 'c', 3);
  assert.is(set.size, 3);
  const read = set.pickForRead(() => 0);
  assert.is(read, a);
  assert.is(a.readers, 1);
  // a is being read: DELETE never takes it, whatever the draw.
  const taken = set.takeForDelete(() => 0.4);
  assert.is(taken, b);
  assert.is(set.size, 2);
  assert.is(b.index, -1);
  assert.is(set.takeForDelete(() => 0), undefined, 'only a left at index 0 and it is being read');
  set.release(a);
  set.restore(b);
  assert.is(set.size, 3);
  set.restore(b);
  assert.is(set.size, 3, 'restoring twice adds once');
  const all = set.drain();
  assert.equal(all.map((o) => o.name).sort(), ['a', 'b', 'c']);
  assert.is(set.size, 0);
});

test('swap-remove keeps indexes right', () => {
  const set = new ObjectSet();
  for (let i = 0; i < 10; i++) set.add('c', String(i), i);
  const seen = new Set<string>();
  let r = 0;
  for (let o = set.takeForDelete(() => (r = (r + 0.37) % 1)); o; o = set.takeForDelete(() => (r = (r + 0.37) % 1))) {
    assert.not.ok(seen.has(o.name));
    seen.add(o.name);
  }
  assert.is(seen.size, 10);
});

test.run();
