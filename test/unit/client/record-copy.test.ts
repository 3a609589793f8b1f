import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CountingRecordStore } from '../../../bench/counting-record-store.ts';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { RecordCopy } from '../../../client/record-copy.ts';

test('a scan of unchanged records is one listing; a changed, added or removed record is seen at the next scan, reading only what changed', async () => {
  const records = new CountingRecordStore(new MemoryRecordStore());
  for (const k of ['a', 'b', 'c']) await records.put('servers', k, { name: k, n: 1 });
  const copy = new RecordCopy<{ name: string; n: number }>(records, 'servers');
  assert.equal(await copy.all(), [{ name: 'a', n: 1 }, { name: 'b', n: 1 }, { name: 'c', n: 1 }]);
  records.take();
  assert.equal((await copy.all()).map((r) => r.name), ['a', 'b', 'c']);
  assert.equal([...records.take()], [['list servers', 1]], 'nothing read again');

  await records.put('servers', 'b', { name: 'b', n: 2 });
  await records.put('servers', 'd', { name: 'd', n: 1 });
  await records.delete('servers', 'a');
  records.take();
  assert.equal(await copy.all(), [{ name: 'b', n: 2 }, { name: 'c', n: 1 }, { name: 'd', n: 1 }]);
  assert.equal([...records.take()].sort(), [['get servers', 2], ['list servers', 1]], 'b and d read, a dropped');

  // Named records, in the order asked, undefined for one that does not exist.
  assert.equal(await copy.many(['d', 'zz', 'b']), [{ name: 'd', n: 1 }, undefined, { name: 'b', n: 2 }]);
  assert.equal([...records.take()], [['list servers', 1]]);
  // A prefix scan only drops copies under that prefix.
  await records.put('servers', 'p/x', { name: 'x', n: 1 });
  assert.equal((await copy.all('p/')).map((r) => r.name), ['x']);
  records.take();
  assert.equal((await copy.all()).map((r) => r.name), ['b', 'c', 'd', 'x']);
  assert.equal([...records.take()], [['list servers', 1]], 'the prefix scan kept the others');
});

test.run();
